"""The Inboxdesk command line and the dev runtime (`make dev`): installed for development, never
shipped to Lambda. The domain package `inboxdesk` (the Lambda layer) never imports this package."""
