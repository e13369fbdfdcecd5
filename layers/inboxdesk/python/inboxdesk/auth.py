"""Who is calling the API, and the locally signed JWTs that stand in for Cognito's under `make dev`.

On AWS, API Gateway's JWT authorizer verifies the Cognito token and hands the Lambda its claims
(`requestContext.authorizer.jwt.claims`, every value a string; arrays look like `[admins agents]`).
`caller_from_claims` turns those claims into a `Caller` with one role. Under `make dev` the dev API
server verifies tokens from `issue_token` with `verify_token` (issuer, audience, expiry, not-before,
signature; HS256 only) and passes the same claims on. Stdlib only: this module is also imported by
the Lambda, and the signing key never leaves the data folder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Final

from inboxdesk.errors import InboxdeskError
from inboxdesk.names import ADMINS_GROUP, AGENTS_GROUP

DEV_ISSUER: Final = 'https://inboxdesk.local/dev'
DEV_AUDIENCE: Final = 'inboxdesk-api'
DEV_TOKEN_LIFETIME: Final = 12 * 3600
ENV_DEV_DIR: Final = 'INBOXDESK_DEV_DIR'  # where the dev key lives; default `.dev` in the working folder
KEY_FILE: Final = 'jwt.key'
_LEEWAY = 30  # seconds of clock skew accepted on exp/nbf/iat, as small as a gateway would allow


class Role(str, Enum):
    """What a caller may do. An admin may do everything an agent may."""

    AGENT = 'agent'
    ADMIN = 'admin'

    def allows(self, required: Role) -> bool:
        return self is Role.ADMIN or required is Role.AGENT


class InvalidTokenError(InboxdeskError):
    """The token is malformed, badly signed, expired, or meant for someone else (401)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """A verified caller: `role` is None when the user is in neither group."""

    sub: str
    email: str | None
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
    email = claims.get('email')
    return Caller(sub=str(claims['sub']), email=str(email) if email else None, groups=groups, role=role)


def claims_as_authorizer_context(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer puts them into the event: every value a string."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, list | tuple):
            out[name] = '[' + ' '.join(str(v) for v in value) + ']'
        elif isinstance(value, bool):
            out[name] = 'true' if value else 'false'
        else:
            out[name] = str(value)
    return out


# --- the dev signing key and tokens -------------------------------------------------------------


def dev_dir() -> Path:
    return Path(os.environ.get(ENV_DEV_DIR) or '.dev')


def load_dev_key(directory: Path | None = None) -> bytes:
    """The HS256 key in `<dev dir>/jwt.key`, created (random, mode 0600) on first use."""
    path = (directory or dev_dir()) / KEY_FILE
    try:
        return base64.b64decode(path.read_text(encoding='ascii').strip(), validate=True)
    except FileNotFoundError:
        pass
    except (binascii.Error, ValueError) as exc:
        raise InvalidTokenError(f'the dev key in {path} is not base64') from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w', encoding='ascii') as f:
        f.write(base64.b64encode(key).decode('ascii') + '\n')
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidTokenError('token is not base64url') from exc


def issue_token(
    role: Role, email: str, *, key: bytes, lifetime: int = DEV_TOKEN_LIFETIME, now: float | None = None
) -> str:
    """A Cognito-shaped ID token (HS256) for a dev user in the group of `role`."""
    issued = int(time.time() if now is None else now)
    groups = [ADMINS_GROUP, AGENTS_GROUP] if role is Role.ADMIN else [AGENTS_GROUP]
    claims = {
        'iss': DEV_ISSUER,
        'aud': DEV_AUDIENCE,
        'sub': str(uuid.uuid5(uuid.NAMESPACE_URL, f'mailto:{email.lower()}')),
        'email': email,
        'cognito:groups': groups,
        'token_use': 'id',
        'iat': issued,
        'nbf': issued,
        'exp': issued + lifetime,
    }
    header = {'alg': 'HS256', 'typ': 'JWT'}
    signing_input = f'{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}'
    signature = hmac.new(key, signing_input.encode('ascii'), hashlib.sha256).digest()
    return f'{signing_input}.{_b64url(signature)}'


def verify_token(token: str, *, key: bytes, now: float | None = None) -> dict[str, Any]:
    """The claims of a valid dev token; raises InvalidTokenError otherwise (reason kept short, no token)."""
    parts = token.split('.')
    if len(parts) != 3:
        raise InvalidTokenError('token is not a JWS compact serialization')
    try:
        header = json.loads(_unb64url(parts[0]))
        claims = json.loads(_unb64url(parts[1]))
    except ValueError as exc:
        raise InvalidTokenError('token header or payload is not JSON') from exc
    if not isinstance(header, dict) or header.get('alg') != 'HS256':
        raise InvalidTokenError('token algorithm is not HS256')
    expected = hmac.new(key, f'{parts[0]}.{parts[1]}'.encode('ascii'), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _unb64url(parts[2])):
        raise InvalidTokenError('token signature does not match')
    if not isinstance(claims, dict):
        raise InvalidTokenError('token payload is not an object')
    current = time.time() if now is None else now
    if claims.get('iss') != DEV_ISSUER:
        raise InvalidTokenError('token issuer is not the dev issuer')
    audience = claims.get('aud')
    if audience != DEV_AUDIENCE and not (isinstance(audience, list) and DEV_AUDIENCE in audience):
        raise InvalidTokenError('token audience is not this API')
    for name in ('exp', 'iat'):
        if not isinstance(claims.get(name), int | float):
            raise InvalidTokenError(f'token has no numeric {name}')
    if claims['exp'] <= current - _LEEWAY:
        raise InvalidTokenError('token has expired')
    not_before = claims.get('nbf', claims['iat'])
    if not isinstance(not_before, int | float) or not_before > current + _LEEWAY:
        raise InvalidTokenError('token is not valid yet')
    if not claims.get('sub'):
        raise InvalidTokenError('token has no subject')
    return claims
