"""The errors of the command line and the dev runtime: each message says what to do."""

from __future__ import annotations


class DevRuntimeError(Exception):
    """The dev runtime or a command cannot go on; the message is shown to the user as it is."""


class PortBusyError(DevRuntimeError):
    """A port the dev runtime needs is already taken."""


class SigningKeyNotFoundError(DevRuntimeError):
    """No dev signing key where the command looked (it never makes one: the API would refuse its tokens)."""


class InvalidTokenError(DevRuntimeError):
    """The token is malformed, badly signed, expired, or meant for someone else (401)."""
