import base64
import json
import time
from typing import Any

import jwt
import pytest

from inboxdesk.auth import (
    DEV_AUDIENCE,
    DEV_ISSUER,
    InvalidTokenError,
    Role,
    caller_from_claims,
    claims_as_authorizer_context,
    issue_token,
    load_dev_key,
    verify_token,
)
from inboxdesk.cli import main

KEY = b'k' * 32


def test_dev_token_is_a_standard_hs256_jwt_with_cognito_claims():
    # Given an admin token from the dev signer
    token = issue_token(Role.ADMIN, 'ada@example.com', key=KEY)
    # When an independent JWT library verifies it with the same key, issuer and audience
    claims = jwt.decode(token, KEY, algorithms=['HS256'], audience=DEV_AUDIENCE, issuer=DEV_ISSUER)
    # Then it carries the Cognito claims the API reads
    assert claims['email'] == 'ada@example.com'
    assert claims['cognito:groups'] == ['admins', 'agents']
    assert claims['exp'] > time.time()


def test_verify_accepts_own_token_and_rejects_tampering_expiry_other_key_and_alg_none():
    # Given a valid agent token
    token = issue_token(Role.AGENT, 'bob@example.com', key=KEY)
    assert verify_token(token, key=KEY)['cognito:groups'] == ['agents']
    header, payload, sig = token.split('.')
    claims = json.loads(base64.urlsafe_b64decode(payload + '=='))
    claims['cognito:groups'] = ['admins']
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b'=').decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b'=').decode()
    cases = {
        'tampered payload': f'{header}.{forged}.{sig}',
        'alg none': f'{none_header}.{payload}.',
        'garbage': 'not-a-token',
        'other key': issue_token(Role.AGENT, 'bob@example.com', key=b'x' * 32),
        'expired': issue_token(Role.AGENT, 'bob@example.com', key=KEY, lifetime=60, now=time.time() - 3600),
        'other audience': jwt.encode({**claims, 'aud': 'elsewhere'}, KEY, algorithm='HS256'),
        'other issuer': jwt.encode({**claims, 'iss': 'https://evil.example'}, KEY, algorithm='HS256'),
    }
    # When each is verified, Then each is refused
    for name, bad in cases.items():
        with pytest.raises(InvalidTokenError):
            verify_token(bad, key=KEY)
            pytest.fail(name)


def test_claims_from_the_authorizer_give_one_role():
    # Given claims as API Gateway passes them (array claims rendered as "[a b]") or as lists
    admin = claims_as_authorizer_context({'sub': 's1', 'cognito:groups': ['admins', 'agents'], 'exp': 5})
    assert admin['cognito:groups'] == '[admins agents]' and admin['exp'] == '5'

    # When they become callers, Then the strongest group wins and no group means no role
    def role(claims: dict[str, Any]) -> Role | None:
        caller = caller_from_claims(claims)
        assert caller is not None
        return caller.role

    assert role(admin) is Role.ADMIN
    assert role({'sub': 's2', 'cognito:groups': ['agents']}) is Role.AGENT
    assert role({'sub': 's3', 'cognito:groups': '[readers]'}) is None
    assert caller_from_claims({}) is None
    assert Role.ADMIN.allows(Role.AGENT) and not Role.AGENT.allows(Role.ADMIN)


def test_token_command_prints_a_token_verifiable_with_the_stored_key(tmp_path, capsys):
    # Given no key yet in the dev folder
    # When the CLI prints an agent token
    assert main(['token', '--role', 'agent', '--email', 'cy@example.com', '--dev-dir', str(tmp_path)]) == 0
    token = capsys.readouterr().out.strip()
    # Then a private key file was created and verifies the token
    key_file = tmp_path / 'jwt.key'
    assert key_file.stat().st_mode & 0o077 == 0
    assert verify_token(token, key=load_dev_key(tmp_path))['email'] == 'cy@example.com'
    # And a bad address is refused
    assert main(['token', '--role', 'agent', '--email', 'nobody', '--dev-dir', str(tmp_path)]) == 2


# Who may call what: the policy, written out. A route the resolver has without a row here fails
# `test_every_route_has_a_row_and_every_row_a_route`; a row that is wrong fails the integration matrix
# (tests/integration/test_api_access.py), which calls each route as each caller.
OK = 'answered'  # neither 401 nor 403, and not a server error
POLICY: dict[tuple[str, str], dict[str, int | str]] = {
    ('GET', '/health'): {'anonymous': OK, 'agent': OK, 'admin': OK},
    ('GET', '/openapi.json'): {'anonymous': OK, 'agent': OK, 'admin': OK},
    ('GET', '/docs'): {'anonymous': OK, 'agent': OK, 'admin': OK},
    ('GET', '/tickets'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/tickets'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/by-number/<number>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/<ticket_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PATCH', '/tickets/<ticket_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/<ticket_id>/messages'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/<ticket_id>/messages/<message_id>/attachments/<attachment_id>'): {
        'anonymous': 401,
        'agent': OK,
        'admin': OK,
    },
    ('POST', '/tickets/<ticket_id>/replies'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/tickets/<ticket_id>/notes'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/attachments'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/attachments/<attachment_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/queues'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/queues'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/queues/<queue_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PATCH', '/queues/<queue_id>'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('DELETE', '/queues/<queue_id>'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/settings/outgoing-filter'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PUT', '/settings/outgoing-filter'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/settings/appearance'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PUT', '/settings/appearance'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/customers'): {'anonymous': 401, 'agent': OK, 'admin': OK},
}


def test_every_route_has_a_row_and_every_row_a_route():
    # Given every route the API's resolver has
    from api.access import routes
    from api.handler import app

    served = {(route.method, route.path) for route in routes(app)}
    # Then the policy has a row for each, and no row for a route that does not exist
    assert sorted(served - POLICY.keys()) == [], 'add a row to POLICY for each new route'
    assert sorted(POLICY.keys() - served) == []
