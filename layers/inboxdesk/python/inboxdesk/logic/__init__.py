"""Business rules: ingestion (`ingest`), routing, threading and loop rules; tickets, replies, attachments,
queues and settings as the API changes them. The data layer (`dal`) stores what these decide. No event
shapes, no boto3."""
