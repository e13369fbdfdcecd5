"""The dev API server over HTTP: JWT verification as the authorizer does it, a few flows, and schemathesis."""

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from inboxdesk.auth import Role
from inboxdesk_cli.data_dir import signing_key
from inboxdesk_cli.local.api_server import ApiServer
from inboxdesk_cli.main import main
from inboxdesk_cli.tokens import issue_token

KEY = b'dev-key-for-tests-0123456789abcdef'
ADMIN = issue_token(Role.ADMIN, 'admin@example.com', key=KEY)
AGENT = issue_token(Role.AGENT, 'agent@example.com', key=KEY)


def _auth(token: str) -> dict[str, str]:
    return {'Authorization': f'Bearer {token}'}


@pytest.fixture
def server(aws: Any) -> Iterator[str]:
    api = ApiServer('127.0.0.1', 0, key=KEY)
    api.start()
    yield api.url
    api.stop()


def test_tokens_are_verified_like_the_jwt_authorizer(server):
    # Given tokens that are missing, forged, expired or valid
    forged = issue_token(Role.ADMIN, 'eve@example.com', key=b'not-the-dev-key')
    expired = issue_token(Role.ADMIN, 'admin@example.com', key=KEY, lifetime=10, now=1_000_000)
    # When each calls a protected route, Then only the valid one gets through
    assert requests.get(f'{server}/queues', timeout=10).status_code == 401
    for bad in (forged, expired, 'abc.def.ghi'):
        response = requests.get(f'{server}/queues', headers=_auth(bad), timeout=10)
        assert response.status_code == 401 and response.json() == {'message': 'Unauthorized'}
    assert requests.get(f'{server}/queues', headers={'Authorization': 'Basic eDp5'}, timeout=10).status_code == 401
    assert requests.get(f'{server}/queues', headers=_auth(AGENT), timeout=10).status_code == 200
    # And public routes answer without a token, whatever the header says
    assert requests.get(f'{server}/health', headers=_auth(forged), timeout=10).json()['status'] == 'ok'
    assert requests.get(f'{server}/openapi.json', timeout=10).json()['info']['title'] == 'Inboxdesk API'
    assert requests.get(f'{server}/docs', timeout=10).headers['Content-Type'] == 'text/html'


def test_ticket_flow_over_http(server):
    # Given an admin sets up a queue and an agent is not allowed to
    queue = {'name': 'Support', 'inbound_addresses': ['support@example.com']}
    assert requests.post(f'{server}/queues', json=queue, headers=_auth(AGENT), timeout=10).status_code == 403
    assert requests.post(f'{server}/queues', json=queue, headers=_auth(ADMIN), timeout=10).status_code == 201
    # When an agent opens a ticket, replies and changes its status with the ETag read
    opened = requests.post(
        f'{server}/tickets',
        json={'customer': 'carol@example.org', 'title': 'Broken', 'text': 'Hello'},
        headers=_auth(AGENT),
        timeout=10,
    )
    assert opened.status_code == 201
    ticket_url = server + opened.headers['Location']
    reply = requests.post(f'{ticket_url}/replies', json={'text': 'On it'}, headers=_auth(AGENT), timeout=10)
    assert reply.status_code == 202
    read = requests.get(ticket_url, headers=_auth(AGENT), timeout=10)
    patched = requests.patch(
        ticket_url, json={'status': 'pending'}, headers={**_auth(AGENT), 'If-Match': read.headers['ETag']}, timeout=10
    )
    stale = requests.patch(
        ticket_url, json={'status': 'solved'}, headers={**_auth(AGENT), 'If-Match': read.headers['ETag']}, timeout=10
    )
    # Then the change lands once, the stale one is a 412 problem, and the conversation has both messages
    assert patched.status_code == 200 and patched.json()['status'] == 'pending'
    assert stale.status_code == 412 and stale.headers['Content-Type'] == 'application/problem+json'
    messages = requests.get(f'{ticket_url}/messages', headers=_auth(AGENT), timeout=10).json()['items']
    assert [m['text'] for m in messages] == ['Hello', 'On it']


def test_token_command_and_server_share_the_dev_key(aws, tmp_path, monkeypatch, capsys):
    # Given the data folder of `make dev`, its key made when the server starts
    with ApiServer('127.0.0.1', 0, key=signing_key(tmp_path)) as api:
        # When the CLI prints an admin token from that folder
        monkeypatch.setenv('INBOXDESK_DEV_DATA_DIR', str(tmp_path))
        assert main(['token', '--role', 'admin', '--email', 'ops@example.com']) == 0
        token = capsys.readouterr().out.strip()
        # Then the server accepts it as an admin's
        response = requests.put(
            f'{api.url}/settings/appearance', json={'signature_text': 'Ops'}, headers=_auth(token), timeout=10
        )
    assert response.status_code == 200 and response.json()['signature_text'] == 'Ops'


def _exchange(url: str, request: bytes, *, wait: float = 10.0) -> bytes:
    """Send raw bytes to the server and read until it closes the connection."""
    host, port = url.removeprefix('http://').split(':')
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(request)
        answer = b''
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def _problem(answer: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = answer.partition(b'\r\n\r\n')
    status = int(head.split(b' ', 2)[1])
    assert b'content-type: application/problem+json' in head.lower(), head
    return status, json.loads(body)


@pytest.mark.parametrize('length', ['abc', '-1', '1e3', '12 34'])
def test_a_bad_content_length_is_a_400_problem(server, length):
    # Given a request whose Content-Length is no number of bytes
    request = f'POST /tickets HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}'.encode()
    # When it is sent, Then the answer is a 400 problem naming the header, and the connection is closed
    status, problem = _problem(_exchange(server, request))
    assert status == 400 and 'Content-Length' in problem['detail']


def test_two_content_lengths_are_a_400_problem(server):
    # Given a request with two Content-Length headers that disagree (a request-smuggling shape)
    request = b'POST /tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}'
    # When it is sent, Then it is refused with a 400 problem
    status, problem = _problem(_exchange(server, request))
    assert status == 400 and 'Content-Length' in problem['detail']


def test_a_body_that_never_arrives_is_answered_and_the_connection_closed(aws):
    # Given a server with a short read timeout, and a client that announces 100 bytes and sends 2
    with ApiServer('127.0.0.1', 0, key=KEY, read_timeout=0.5) as api:
        request = b'POST /tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}'
        # When the client stalls, Then the server answers 408 with a problem and closes the connection
        status, problem = _problem(_exchange(api.url, request))
        assert status == 408 and 'did not arrive' in problem['detail']
        # And a client that sends nothing at all is disconnected, not kept waiting for ever
        assert _exchange(api.url, b'') == b''
        # And the server still serves the next request
        assert requests.get(f'{api.url}/health', timeout=10).status_code == 200


# --- schemathesis: generated requests against the dev server must never get a 5xx -----------------


# schemathesis' pytest plugin (`from_fixture`) does not run on pytest 9 (`Function._nodeid` is gone),
# so each operation's hypothesis strategy is driven here, bounded to 15 examples per operation.


@pytest.mark.slow
def test_generated_requests_never_get_a_server_error(server):
    # Given every operation of the document the dev server serves
    schema = schemathesis.openapi.from_url(f'{server}/openapi.json')
    schema.config.update(base_url=server)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]  # Err raises
    assert len(operations) >= 15
    session = requests.Session()
    failures: list[str] = []
    seen: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case: Any) -> None:
            # When an admin sends any request the document allows, Then the answer is not a 5xx
            response = case.call(session=session, headers=_auth(ADMIN), timeout=10)
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f'{case.method} {case.formatted_path} -> {response.status_code}')

        check()
    assert failures == []
    assert 401 not in seen and any(200 <= status < 300 for status in seen)  # the requests got through
