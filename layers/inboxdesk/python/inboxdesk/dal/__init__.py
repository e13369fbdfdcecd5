"""Data access: PynamoDB items and S3 objects in, domain models (`inboxdesk.models`) out.

One module per aggregate: `tickets` (tickets, messages, threading pointers, ingestion writes),
`queues`, `customers`, `counters`, `mail_store` (S3). The key map is in `table`'s docstring."""
