"""API Gateway HTTP API (payload v2) events, as the JWT authorizer delivers them, for the API tests."""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import urlencode

from inboxdesk.auth import claims_as_authorizer_context

ADMIN = {'sub': 'sub-admin', 'email': 'admin@example.com', 'cognito:groups': ['admins', 'agents']}
AGENT = {'sub': 'sub-agent', 'email': 'agent@example.com', 'cognito:groups': ['agents']}
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
    request_context: dict[str, Any] = {
        'accountId': '123456789012',
        'apiId': 'api',
        'domainName': 'api.example.com',
        'domainPrefix': 'api',
        'http': {'method': method, 'path': path, 'protocol': 'HTTP/1.1', 'sourceIp': '192.0.2.1', 'userAgent': 't'},
        'requestId': 'r1',
        'routeKey': '$default',
        'stage': '$default',
        'time': '27/Nov/2026:07:00:00 +0000',
        'timeEpoch': 1795000000000,
    }
    if claims is not None:
        request_context['authorizer'] = {'jwt': {'claims': claims_as_authorizer_context(claims), 'scopes': None}}
    all_headers = {'host': 'api.example.com', **{k.lower(): v for k, v in (headers or {}).items()}}
    if body is not None or raw_body is not None:
        all_headers.setdefault('content-type', 'application/json')
    return {
        'version': '2.0',
        'routeKey': '$default',
        'rawPath': path,
        'rawQueryString': urlencode(query or {}),
        'headers': all_headers,
        'queryStringParameters': query or None,
        'requestContext': request_context,
        'body': raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        'isBase64Encoded': False,
    }


class LambdaContext:
    function_name = 'inboxdesk-api'
    memory_limit_in_mb = 256
    invoked_function_arn = 'arn:aws:lambda:eu-west-1:123456789012:function:inboxdesk-api'
    aws_request_id = 'req-1'


def call(method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    """Run the real handler; returns (status, lower-cased headers, parsed JSON body or text)."""
    from api.handler import lambda_handler

    result = lambda_handler(event(method, path, **kwargs), cast(Any, LambdaContext()))
    headers = {k.lower(): v for k, v in (result.get('headers') or {}).items()}
    body = result.get('body') or ''
    if 'json' in headers.get('content-type', ''):
        body = json.loads(body)
    return result['statusCode'], headers, body
