"""Domain errors: logic and handlers see only these, never storage or transport errors.

The API maps each class to a status in one table (`api.problems.STATUS_OF`); anything else is a 500."""


class InboxdeskError(Exception):
    """Base of every error Inboxdesk raises on purpose."""


class NotFoundError(InboxdeskError):
    """The thing asked for does not exist."""


class InvalidRequestError(InboxdeskError):
    """The request is well-formed but breaks a rule, e.g. an attachment that was never uploaded."""


class ConflictError(InboxdeskError):
    """The request conflicts with the current state."""


class QueueAddressTakenError(ConflictError):
    """An inbound address already belongs to another queue."""

    def __init__(self, address: str) -> None:
        super().__init__(f'the address {address} already belongs to another queue')
        self.address = address


class PreconditionFailedError(InboxdeskError):
    """Someone else changed the item since the caller read it."""


class PreconditionRequiredError(InboxdeskError):
    """A change that needs If-Match came without it."""


class TicketNumberTakenError(PreconditionFailedError):
    """A new ticket's number already names another ticket (the counter is behind): take a fresh number."""


class DuplicateMessageError(InboxdeskError):
    """This mail was already ingested: a redelivery, not a new message."""


class DuplicateEventError(InboxdeskError):
    """This provider event (an SES delivery notice) was already applied: a redelivery."""


class ConfigurationError(InboxdeskError):
    """The function was deployed without a setting it needs."""


class ChannelInUseError(ConflictError):
    """An outbound channel that queues still reply through cannot be deleted (409, naming the queues)."""


class HeaderInjectionError(InboxdeskError):
    """A value bound for a mail header holds CR, LF or NUL: refused, never folded into a header."""

    def __init__(self, field: str) -> None:
        super().__init__(f'{field} must not contain line breaks or NUL characters')
        self.field = field


class SendError(InboxdeskError):
    """A transport did not deliver a mail; `reason` says why in words an agent understands, and
    `stage` where it failed when a transport knows ('address', 'dns', 'tcp', 'tls', 'auth', 'send')."""

    def __init__(self, reason: str, *, stage: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage


class PermanentSendError(SendError):
    """Sending again will not help: the server or SES refused the mail, the host is refused, or the
    credentials are wrong. The message is marked failed with the reason."""


class TransientSendError(SendError):
    """Sending again later may work: 4xx answers, timeouts, throttling, a reset connection."""


class InvalidAddressError(InboxdeskError):
    """A mail address the composer cannot write into a header (not `local@domain`, or a local part
    that is not ASCII)."""

    def __init__(self, field: str, address: str) -> None:
        super().__init__(f'{field} is not a usable mail address: {address!r}')
        self.field = field
        self.address = address


class NoQueueError(ConfigurationError):
    """No queue matches the mail, there is no default queue, and none could be made: the record is retried,
    then lands in the DLQ."""


class StoredMailUnavailableError(InboxdeskError):
    """The raw mail named by a notice cannot be read (yet): the record is retried, then lands in the DLQ."""


class StorageRefusedError(InboxdeskError):
    """DynamoDB refused a write as invalid (an item over 400 KB, an attribute it cannot store): writing it
    again cannot succeed, so it is never retried as a conflict."""


class MalformedRequestError(InvalidRequestError):
    """The request cannot be read at all (not UTF-8, not JSON, nested or sized beyond reason, a cursor we
    did not sign): 400 rather than 422."""
