"""Domain errors: logic and handlers see only these, never storage or transport errors."""


class InboxdeskError(Exception):
    """Base of every error Inboxdesk raises on purpose."""


class NotFoundError(InboxdeskError):
    """The thing asked for does not exist."""


class ConflictError(InboxdeskError):
    """The request conflicts with the current state (409)."""


class PreconditionFailedError(InboxdeskError):
    """Someone else changed the item since the caller read it (412)."""


class TicketNumberTakenError(PreconditionFailedError):
    """A new ticket's number already names another ticket (the counter is behind): take a fresh number."""


class DuplicateMessageError(InboxdeskError):
    """This mail was already ingested: a redelivery, not a new message."""


class ConfigurationError(InboxdeskError):
    """The function was deployed without a setting it needs."""


class ChannelInUseError(ConflictError):
    """An outbound channel that queues still reply through cannot be deleted (409, naming the queues)."""
