"""Who is calling the API.

API Gateway's JWT authorizer verifies the Cognito token and hands the Lambda its claims
(`requestContext.authorizer.jwt.claims`, every value a string; arrays look like `[admins agents]`).
`caller_from_claims` turns those claims into a `Caller` with one role. Who the caller is, is the
token's `sub`; their address counts only when Cognito verified it (`email_verified`), and the app
client cannot write `email` (infra), so nobody can sign in as somebody else's address.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from inboxdesk.names import ADMINS_GROUP, AGENTS_GROUP


class Role(str, Enum):
    """What a caller may do. An admin may do everything an agent may."""

    AGENT = 'agent'
    ADMIN = 'admin'

    def allows(self, required: Role) -> bool:
        return self is Role.ADMIN or required is Role.AGENT


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified caller: `role` is None when the user is in neither group."""

    sub: str
    email: str | None  # verified by Cognito, else None
    groups: tuple[str, ...]
    role: Role | None


def parse_groups(value: object) -> tuple[str, ...]:
    """`cognito:groups` as a list, or as API Gateway renders an array claim: `[admins agents]`."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if str(v))
    text = str(value).strip()
    if text.startswith('[') and text.endswith(']'):
        text = text[1:-1]
    return tuple(part for part in text.replace(',', ' ').split() if part)


def caller_from_claims(claims: dict[str, Any] | None) -> Caller | None:
    """The caller the authorizer verified, or None when the request carried no claims (anonymous)."""
    if not claims or not claims.get('sub'):
        return None
    groups = parse_groups(claims.get('cognito:groups'))
    role = Role.ADMIN if ADMINS_GROUP in groups else Role.AGENT if AGENTS_GROUP in groups else None
    verified = str(claims.get('email_verified', '')).lower() == 'true'
    email = claims.get('email') if verified else None
    return Caller(sub=str(claims['sub']), email=str(email) if email else None, groups=groups, role=role)
