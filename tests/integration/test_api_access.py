"""Authorisation matrix and OpenAPI document, derived from the resolver's own routes."""

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from api.access import PUBLIC_ROUTES, required_role, routes
from api.handler import app
from inboxdesk.auth import Role
from tests.integration.api_events import ROLES, call

ROUTES = sorted((r.method, r.path) for r in routes(app))


def _concrete(path: str) -> str:
    return re.sub(r'<[^>]+>', '01ZZZZZZZZZZZZZZZZZZZZZZZZ', path)


def test_every_route_declares_who_may_call_it():
    # Given every route the API serves, When its access rule is read
    # Then it is public only when listed as public, and otherwise names agents or admins
    for route in routes(app):
        if (route.method, route.path) in PUBLIC_ROUTES:
            assert not route.security and required_role(route) is None
        else:
            assert route.security in ([{'jwt': ['agents']}], [{'jwt': ['admins']}]), (route.method, route.path)


@pytest.mark.parametrize(('method', 'path'), ROUTES, ids=[f'{m} {p}' for m, p in ROUTES])
def test_authorisation_matrix(aws, method, path):
    route = next(r for r in routes(app) if (r.method, r.path) == (method, path))
    needed = required_role(route)
    body: dict[str, Any] | None = {} if method in ('POST', 'PUT', 'PATCH') else None
    for role, claims in ROLES.items():
        # Given a caller of each kind, When it calls the route
        status, headers, _ = call(method, _concrete(path), claims=claims, body=body)
        # Then anonymous callers get 401 and agents 403 where a role is needed; never a server error
        assert status < 500, (role, status)
        if needed is None:
            assert status not in (401, 403), role
        elif role == 'anonymous':
            assert status == 401 and headers['www-authenticate'] == 'Bearer'
        elif role == 'agent' and needed is Role.ADMIN:
            assert status == 403
        else:
            assert status not in (401, 403), (role, status)
        if status >= 400:
            assert headers['content-type'] == 'application/problem+json'


def test_group_less_user_is_forbidden_everywhere_but_public_routes(aws):
    # Given a signed-in user in no group
    claims = {'sub': 'nobody', 'email': 'n@example.com', 'cognito:groups': '[readers]'}
    # When it reads tickets, Then 403; health still answers
    assert call('GET', '/queues', claims=claims)[0] == 403
    assert call('GET', '/health', claims=claims)[0] == 200


def test_openapi_document_is_valid_and_lists_every_route_with_its_security():
    # Given the document the API serves without a token
    status, _, document = call('GET', '/openapi.json')
    assert status == 200
    # When it is validated against the OpenAPI specification, Then it is valid
    validate(document)
    # And every documented route of the code is in it, with the same access rule
    for route in routes(app):
        if not route.include_in_schema:
            continue
        operation = document['paths'][route.openapi_path][route.method.lower()]
        assert operation.get('security') == route.security, route.path
        assert 'application/problem+json' in json.dumps(operation['responses'].get('422', {}))


def test_swagger_ui_is_served_without_a_token():
    status, headers, body = call('GET', '/docs')
    assert status == 200 and headers['content-type'] == 'text/html'
    assert 'swagger' in body.lower()
