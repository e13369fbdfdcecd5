"""Transports: they deliver MIME that `inboxdesk.mail.compose` built (SES, SMTP; connected accounts later)."""
