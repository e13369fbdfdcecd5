"""The dev API server: HTTP on a local port in front of the API handler, as API Gateway's HTTP API would be.

Each request becomes an HTTP API payload v2 event. A bearer token is verified the way the JWT
authorizer verifies it (signature, issuer, audience, expiry; `inboxdesk.auth`) and its claims are
placed in `requestContext.authorizer.jwt.claims` with API Gateway's string rendering; a bad token is
answered `401 {"message":"Unauthorized"}` without calling the function, as the authorizer does.
Routes without the authorizer (`api.access.PUBLIC_ROUTES`) ignore the header. The handler runs
in-process (`api.handler.lambda_handler`).
"""

from __future__ import annotations

import base64
import importlib
import json
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import inboxdesk
from inboxdesk.auth import InvalidTokenError, claims_as_authorizer_context, load_dev_key, verify_token
from inboxdesk.local.worker import LambdaContext

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _load_api() -> tuple[Handler, frozenset[tuple[str, str]]]:
    try:
        handler_module = importlib.import_module('api.handler')
    except ModuleNotFoundError:
        functions = Path(inboxdesk.__file__).resolve().parents[4] / 'functions'
        sys.path.insert(0, str(functions))
        handler_module = importlib.import_module('api.handler')
    access = importlib.import_module('api.access')
    return handler_module.lambda_handler, frozenset(access.PUBLIC_ROUTES)


def build_event(
    method: str, target: str, headers: list[tuple[str, str]], body: bytes, claims: dict[str, Any] | None, source_ip: str
) -> dict[str, Any]:
    """An HTTP API payload v2 event, as API Gateway builds it."""
    url = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname == 'cookie':
            cookies += [c.strip() for c in value.split(';') if c.strip()]
            continue
        merged[lname] = f'{merged[lname]},{value}' if lname in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        query[name] = f'{query[name]},{value}' if name in query else value
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        'accountId': '123456789012',
        'apiId': 'inboxdesk-dev',
        'domainName': merged.get('host', 'localhost'),
        'domainPrefix': merged.get('host', 'localhost').split('.', 1)[0],
        'http': {
            'method': method,
            'path': url.path or '/',
            'protocol': 'HTTP/1.1',
            'sourceIp': source_ip,
            'userAgent': merged.get('user-agent', ''),
        },
        'requestId': str(uuid.uuid4()),
        'routeKey': '$default',
        'stage': '$default',
        'time': now.strftime('%d/%b/%Y:%H:%M:%S +0000'),
        'timeEpoch': int(now.timestamp() * 1000),
    }
    if claims is not None:
        context['authorizer'] = {'jwt': {'claims': claims_as_authorizer_context(claims), 'scopes': None}}
    event: dict[str, Any] = {
        'version': '2.0',
        'routeKey': '$default',
        'rawPath': url.path or '/',
        'rawQueryString': url.query,
        'headers': merged,
        'requestContext': context,
        'isBase64Encoded': False,
    }
    if cookies:
        event['cookies'] = cookies
    if query:
        event['queryStringParameters'] = query
    if body:
        try:
            event['body'] = body.decode('utf-8')
        except UnicodeDecodeError:
            event['body'] = base64.b64encode(body).decode('ascii')
            event['isBase64Encoded'] = True
    return event


class ApiServer:
    """`ApiServer(host, port).start()` serves the API until `stop()`; `port=0` picks a free port."""

    def __init__(self, host: str = '127.0.0.1', port: int = 8000, *, key: bytes | None = None) -> None:
        self.host = host
        self.port = port
        self._key = key
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f'http://{self.host}:{self.port}'

    def start(self) -> None:
        handler, public = _load_api()
        key = self._key if self._key is not None else load_dev_key()
        self._httpd = ThreadingHTTPServer((self.host, self.port), _request_handler(handler, public, key))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, name='inboxdesk-api', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _request_handler(handler: Handler, public: frozenset[tuple[str, str]], key: bytes) -> type[BaseHTTPRequestHandler]:
    class _ApiRequestHandler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        server_version = 'inboxdesk-dev-api'

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass  # the handler logs; paths may carry addresses

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ('content-length', 'connection', 'transfer-encoding'):
                    self.send_header(name, value)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get('Content-Length') or 0)
            if length > MAX_BODY:
                self._send(413, {'Content-Type': 'application/json'}, b'{"message":"Request Entity Too Large"}')
                return
            body = self.rfile.read(length) if length > 0 else b''
            path = urlsplit(self.path).path or '/'
            claims = None
            authorization = self.headers.get('Authorization')
            if authorization and (self.command, path) not in public:
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
            event = build_event(
                self.command, self.path, list(self.headers.items()), body, claims, self.client_address[0]
            )
            try:
                result = handler(event, LambdaContext(function_name='inboxdesk-api-dev', timeout_seconds=29))
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
