"""The dev API server: HTTP on a local port in front of the API handler, as API Gateway's HTTP API would be.

Each request becomes an HTTP API payload v2 event. A bearer token is verified the way the JWT
authorizer verifies it (signature, issuer, audience, expiry; `inboxdesk_cli.tokens`) and its claims are
placed in `requestContext.authorizer.jwt.claims` with API Gateway's string rendering; a bad token is
answered `401 {"message":"Unauthorized"}` without calling the function, as the authorizer does.
Routes without the authorizer (`inboxdesk.names.PUBLIC_ROUTES`) ignore the header. The handler runs
in-process (`api.handler.lambda_handler`). A request whose body does not arrive within
`READ_TIMEOUT` seconds, or whose Content-Length is no number of bytes, is answered with a problem
document and the connection closed, so one slow client cannot hold a server thread.
"""

from __future__ import annotations

import base64
import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from inboxdesk.names import PUBLIC_ROUTES
from inboxdesk_cli.aws_events import LambdaContext, api_gateway_event
from inboxdesk_cli.errors import InvalidTokenError
from inboxdesk_cli.local.background import ServingThread
from inboxdesk_cli.tokens import verify_token

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
READ_TIMEOUT = 30.0  # seconds a client may take to send a request's head and body


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ApiServer:
    """`ApiServer(host, port, key=...).start()` serves the API until `stop()`; `port=0` picks a free port."""

    def __init__(self, host: str, port: int, *, key: bytes, read_timeout: float = READ_TIMEOUT) -> None:
        self.host = host
        self.port = port
        self._key = key
        self._read_timeout = read_timeout
        self._serving = ServingThread('inboxdesk-api')

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    def start(self) -> None:
        httpd = ThreadingHTTPServer((self.host, self.port), _request_handler(self._key, self._read_timeout))
        httpd.daemon_threads = True
        self.port = self._serving.serve(httpd)

    def stop(self) -> None:
        self._serving.stop()

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _content_length(value: str | None) -> int:
    """The body's size in bytes; _BadRequest when the header is no such number or over the limit."""
    if value is None:
        return 0
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise _BadRequest(HTTPStatus.BAD_REQUEST, 'Content-Length must be a number of bytes')
    length = int(text)
    if length > MAX_BODY:
        raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f'the body may be at most {MAX_BODY} bytes')
    return length


def _request_handler(key: bytes, read_timeout: float) -> type[BaseHTTPRequestHandler]:
    # imported when a server starts: the handler reads its settings from the environment at import
    from api.handler import lambda_handler
    from api.problems import PROBLEM_JSON, problem_body

    class _ApiRequestHandler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        server_version = 'inboxdesk-dev-api'
        timeout = read_timeout  # on the socket: a stalled head or body raises TimeoutError

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # the handler logs; paths may carry addresses

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ('content-length', 'connection', 'transfer-encoding'):
                    self.send_header(name, value)
            self.send_header('Content-Length', str(len(body)))
            if self.close_connection:
                self.send_header('Connection', 'close')
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(body)

        def _refuse(self, status: HTTPStatus, detail: str) -> None:
            """A problem document, and the connection closed: what is left of the body is unread."""
            self.close_connection = True
            self._send(status, {'Content-Type': PROBLEM_JSON}, problem_body(status, detail).encode('utf-8'))

        def _read_body(self) -> bytes:
            if len(self.headers.get_all('Content-Length') or []) > 1:
                raise _BadRequest(HTTPStatus.BAD_REQUEST, 'Content-Length is given more than once')
            length = _content_length(self.headers.get('Content-Length'))
            try:
                body = self.rfile.read(length) if length else b''
            except TimeoutError:
                raise _BadRequest(
                    HTTPStatus.REQUEST_TIMEOUT, f'the body did not arrive within {read_timeout:g} s'
                ) from None
            if len(body) < length:
                raise _BadRequest(HTTPStatus.BAD_REQUEST, 'the body is shorter than its Content-Length')
            return body

        def _handle(self) -> None:
            try:
                body = self._read_body()
            except _BadRequest as bad:
                self._refuse(bad.status, bad.detail)
                return
            path = urlsplit(self.path).path or '/'
            claims = None
            authorization = self.headers.get('Authorization')
            if authorization and (self.command, path) not in PUBLIC_ROUTES:
                scheme, _, token = authorization.partition(' ')
                try:
                    if scheme.lower() != 'bearer' or not token.strip():
                        raise InvalidTokenError('not a bearer token')
                    claims = verify_token(token.strip(), key=key)
                except InvalidTokenError:
                    self._send(
                        401,
                        {'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer'},
                        b'{"message":"Unauthorized"}',
                    )
                    return
            event = api_gateway_event(
                self.command, self.path, list(self.headers.items()), body, claims, self.client_address[0]
            )
            try:
                context: Any = LambdaContext(function_name='inboxdesk-api-dev', timeout_seconds=29)
                result = lambda_handler(event, context)
            except Exception:  # as API Gateway: a function error is a 500, the details stay in the logs
                self._send(500, {'Content-Type': 'application/json'}, b'{"message":"Internal Server Error"}')
                return
            headers = {str(k): str(v) for k, v in (result.get('headers') or {}).items()}
            payload = result.get('body') or ''
            raw = base64.b64decode(payload) if result.get('isBase64Encoded') else str(payload).encode('utf-8')
            for cookie in result.get('cookies') or []:
                headers.setdefault('Set-Cookie', cookie)
            if 'body' in result and not isinstance(result.get('body'), str | type(None)):
                raw = json.dumps(result['body']).encode('utf-8')
            self._send(int(result.get('statusCode', 200)), headers, raw)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return _ApiRequestHandler
