"""API Gateway HTTP API (payload v2) events, as the JWT authorizer delivers them, for the API tests.

The event is the one the dev API server builds (`inboxdesk_cli.aws_events.api_gateway_event`), so the
tests and `make dev` feed the handler the same shape.
"""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import urlencode

from tests.support.events import LambdaContext, api_gateway_event

ADMIN = {
    'sub': 'sub-admin',
    'email': 'admin@example.com',
    'email_verified': True,
    'cognito:groups': ['admins', 'agents'],
}
AGENT = {'sub': 'sub-agent', 'email': 'agent@example.com', 'email_verified': True, 'cognito:groups': ['agents']}
ROLES = {'anonymous': None, 'agent': AGENT, 'admin': ADMIN}


def event(
    method: str,
    path: str,
    *,
    claims: dict[str, Any] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """`body` is sent as JSON, `raw_body` as it is; either gets `Content-Type: application/json` unless given."""
    target = f'{path}?{urlencode(query)}' if query else path
    all_headers = {'host': 'api.example.com', **{k.lower(): v for k, v in (headers or {}).items()}}
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    if text is not None:
        all_headers.setdefault('content-type', 'application/json')
    return api_gateway_event(
        method, target, list(all_headers.items()), (text or '').encode(), claims, source_ip='192.0.2.1'
    )


def context() -> LambdaContext:
    """The Lambda context the API function gets."""
    return LambdaContext(function_name='inboxdesk-api')


def call(method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """Run the real handler; returns (status, lower-cased headers, parsed JSON body or text)."""
    from api.handler import lambda_handler

    result = lambda_handler(event(method, path, **kwargs), cast(Any, context()))
    headers = {k.lower(): v for k, v in (result.get('headers') or {}).items()}
    body = result.get('body') or ''
    if 'json' in headers.get('content-type', ''):
        body = json.loads(body)
    return result['statusCode'], headers, body


def open_ticket(customer: str = 'jane@customer.test') -> dict[str, Any]:
    """A ticket an agent opened for `customer` in a fresh Support queue (support@inboxdesk.test)."""
    status, _, queue = call(
        'POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': ['support@inboxdesk.test']}
    )
    assert status == 201, queue
    status, _, created = call('POST', '/tickets', claims=AGENT, body={'customer': customer, 'title': 't', 'text': 'x'})
    assert status == 201, created
    return dict(created['ticket'])
