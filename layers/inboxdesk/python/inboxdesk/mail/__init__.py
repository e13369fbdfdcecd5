"""The mail reader: `read_email(raw) -> ParsedEmail` (see `inboxdesk.mail.read`)."""

from inboxdesk.mail.model import Address, Attachment, Classification, ParsedEmail
from inboxdesk.mail.read import read_email

__all__ = ['Address', 'Attachment', 'Classification', 'ParsedEmail', 'read_email']
