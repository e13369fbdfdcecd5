"""Data access: PynamoDB items and S3 objects in, domain models (`inboxdesk.models`) out.

One module per aggregate: `tickets` (tickets, messages, threading pointers, ingestion writes),
`outbox` (queued replies waiting for the outbound queue), `queues`, `customers`, `settings`,
`attachments` (uploads for replies), `counters`, `mail_store` (the mail bucket, S3). Every item is a
subclass of `table.InboxdeskItem`; the key map is in `table`'s docstring, key strings only in `keys`."""
