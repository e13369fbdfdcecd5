"""Inboxdesk: support mail becomes tickets. The shared domain package (the Lambda layer)."""
