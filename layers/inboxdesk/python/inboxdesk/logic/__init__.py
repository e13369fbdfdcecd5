"""Business rules: ingestion (`ingest`), routing, threading and loop rules. No event shapes, no boto3."""
