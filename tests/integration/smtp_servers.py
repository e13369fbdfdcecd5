"""Real SMTP servers for tests: aiosmtpd on 127.0.0.1 with a generated certificate
(`inboxdesk_cli.local.certificates`: a test CA and a server certificate for `localhost` and 127.0.0.1),
STARTTLS or implicit TLS, AUTH PLAIN/LOGIN."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from inboxdesk_cli.local.certificates import Certificates, make_certificates
from tests.conftest import free_port

__all__ = ['PASSWORD', 'USER', 'Certificates', 'Recorder', 'Server', 'make_certificates', 'smtp_server']

USER = 'agent@inboxdesk.test'
PASSWORD = 'correct horse battery staple'


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes  # what arrived after DATA, dot-unstuffed: the MIME as the client sent it


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps what arrives. `answers` are replies to DATA used, in turn, before
    accepting (e.g. a 421 first)."""

    answers: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str, bool]] = field(default_factory=list)  # (mechanism, login, accepted)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        if self.answers:
            return self.answers.pop(0)
        self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content))
        return '250 2.0.0 Ok: queued as 4XJ7Q2'

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else ''
        self.logins.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False)


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    recorder: Recorder


@contextmanager
def smtp_server(
    certificates: Certificates,
    mode: Literal['starttls', 'implicit', 'plain'],
    *,
    mechanisms: tuple[str, ...] = ('PLAIN', 'LOGIN'),
    answers: tuple[str, ...] = (),
) -> Iterator[Server]:
    """An aiosmtpd server on 127.0.0.1. 'plain' offers AUTH without any TLS (a server Inboxdesk must
    refuse to give a password to)."""
    from aiosmtpd.controller import Controller

    recorder = Recorder(answers=list(answers))
    port = free_port()
    excluded = [m for m in ('PLAIN', 'LOGIN') if m not in mechanisms]
    options: dict[str, Any] = {
        'hostname': '127.0.0.1',
        'port': port,
        'authenticator': recorder.authenticate,
        'auth_exclude_mechanism': excluded,
        'server_hostname': 'localhost',
    }
    if mode == 'starttls':
        options.update(tls_context=certificates.server_context(), require_starttls=True, auth_require_tls=True)
    elif mode == 'implicit':
        options.update(ssl_context=certificates.server_context(), auth_require_tls=False)
    else:
        options.update(auth_require_tls=False)
    controller = Controller(recorder, **options)
    controller.start()
    try:
        yield Server('localhost', port, recorder)
    finally:
        controller.stop()
