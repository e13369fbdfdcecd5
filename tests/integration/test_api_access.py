"""Authorisation matrix, from the literal policy (tests/unit/api/test_auth.py), and the OpenAPI document."""

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from api.access import routes
from api.handler import app
from tests.support.api import ROLES, call
from tests.unit.api.test_auth import OK, POLICY

ROWS = sorted(POLICY)


def _concrete(path: str) -> str:
    return re.sub(r'<[^>]+>', '01ZZZZZZZZZZZZZZZZZZZZZZZZ', path)


@pytest.mark.parametrize(('method', 'path'), ROWS, ids=[f'{m} {p}' for m, p in ROWS])
def test_authorisation_matrix(aws, method, path):
    body: dict[str, Any] | None = {} if method in ('POST', 'PUT', 'PATCH') else None
    for role, claims in ROLES.items():
        # Given a caller of each kind, When it calls the route
        status, headers, _ = call(method, _concrete(path), claims=claims, body=body)
        # Then it gets what the policy says: 401 or 403, or an answer (never a server error)
        expected = POLICY[(method, path)][role]
        if expected == OK:
            assert status not in (401, 403) and status < 500, (role, status)
        else:
            assert status == expected, (role, status)
        if status == 401:
            assert headers['www-authenticate'] == 'Bearer'
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


def test_unknown_routes_and_methods_are_problems(aws):
    # Given a path no route serves, When it is called, Then 404 as a problem
    status, headers, problem = call('GET', '/nowhere', claims=ROLES['agent'])
    assert status == 404 and headers['content-type'] == 'application/problem+json' and '/nowhere' in problem['detail']
    # Given a path served for other methods, When it is called with one it does not answer
    status, headers, problem = call('DELETE', '/tickets', claims=ROLES['agent'])
    # Then 405 names the methods it answers, in the Allow header too
    assert status == 405 and headers['allow'] == 'GET, POST' and 'GET, POST' in problem['detail']
    assert call('PUT', '/tickets/01ZZZZZZZZZZZZZZZZZZZZZZZZ', claims=ROLES['agent'])[1]['allow'] == 'GET, PATCH'


def test_a_body_that_is_not_json_is_415(aws):
    # Given a body sent as plain text, When a route reads a JSON body, Then 415 says what to send
    status, headers, problem = call(
        'POST', '/queues', claims=ROLES['admin'], raw_body='"x"', headers={'content-type': 'text/plain'}
    )
    assert status == 415 and headers['content-type'] == 'application/problem+json'
    assert 'application/json' in problem['detail']


SECRET_WORDS = re.compile(r'password|secret|token|credential|private', re.IGNORECASE)


def test_no_answer_has_a_field_for_a_secret():
    # Given every schema an answer of the API can carry (the OpenAPI document is generated from the code)
    _, _, document = call('GET', '/openapi.json')
    schemas = document['components']['schemas']
    answered = {
        ref.rsplit('/', 1)[-1]
        for path in document['paths'].values()
        for operation in path.values()
        for response in operation['responses'].values()
        for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(response))
    }
    # When their properties are collected, following references
    seen: set[str] = set()
    names: set[str] = set()
    while answered - seen:
        name = (answered - seen).pop()
        seen.add(name)
        text = json.dumps(schemas[name])
        names |= set(schemas[name].get('properties', {}))
        answered |= {ref.rsplit('/', 1)[-1] for ref in re.findall(r'"\$ref": "([^"]+)"', text)}
    # Then no property is named like a secret
    assert names and not [n for n in names if SECRET_WORDS.search(n)]
