"""What the tests share: AWS's event shapes for calling the handlers, API calls as a role, and the
`inboxdesk` command line as a user runs it."""
