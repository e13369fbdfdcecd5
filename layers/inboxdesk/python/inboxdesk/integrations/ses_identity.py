"""Whether Amazon SES may send from an address: the address itself, or its domain (or a parent domain),
is an email identity verified for sending (SES v2 `GetEmailIdentity`, at most one call per domain level)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _client() -> Any:
    import boto3  # lazily: only saving or testing an ses channel needs it

    return boto3.client('sesv2')


def _identities(address: str) -> list[str]:
    """`a@mail.example.com` -> the address, `mail.example.com`, `example.com` (never a bare top-level domain)."""
    domain = address.rpartition('@')[2].rstrip('.')
    labels = domain.split('.')
    return [address, *('.'.join(labels[i:]) for i in range(len(labels) - 1))]


def sending_problem(address: str) -> str | None:
    """None when SES may send from `address`, else why not, in words an admin can act on."""
    client = _client()
    pending: list[str] = []
    for identity in _identities(address):
        try:
            found = client.get_email_identity(EmailIdentity=identity)
        except client.exceptions.NotFoundException:
            continue
        # Either answer means SES sends for it (moto sets only VerificationStatus).
        if found.get('VerifiedForSendingStatus') or found.get('VerificationStatus') == 'SUCCESS':
            return None
        pending.append(identity)
    if pending:
        return f'the SES identity {pending[0]} is not verified for sending yet; finish its verification in SES'
    domain = address.rpartition('@')[2]
    return f'{domain} is not a verified SES identity: verify the domain (or this address) in SES first'
