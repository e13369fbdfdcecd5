"""The locally signed JWTs that stand in for Cognito's ID tokens under `make dev`.

The dev API server verifies tokens from `issue_token` with `verify_token` (issuer, audience, expiry,
not-before, signature; HS256 only) and passes their claims on as API Gateway's JWT authorizer would.
The signing key lives in the dev runtime's data folder (`inboxdesk_cli.data_dir`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Final

from inboxdesk.auth import Role
from inboxdesk.names import ADMINS_GROUP, AGENTS_GROUP
from inboxdesk_cli.errors import InvalidTokenError

DEV_ISSUER: Final = 'https://inboxdesk_cli.local/dev'
DEV_AUDIENCE: Final = 'inboxdesk-api'
DEV_TOKEN_LIFETIME: Final = 12 * 3600
_LEEWAY = 30  # seconds of clock skew accepted on exp/nbf/iat, as small as a gateway would allow


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
        'email_verified': True,  # as Cognito says once the address is confirmed
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
