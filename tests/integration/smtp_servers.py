"""Real SMTP servers for tests: aiosmtpd on 127.0.0.1 with a generated certificate (a test CA and a
server certificate for `localhost` and 127.0.0.1), STARTTLS or implicit TLS, AUTH PLAIN/LOGIN."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.conftest import free_port

USER = 'agent@inboxdesk.test'
PASSWORD = 'correct horse battery staple'


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # what a client trusts
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_certificates(folder: Path) -> Certificates:
    """A CA and a server certificate it signed, for `localhost`, 127.0.0.1 and ::1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, issuer: x509.Name | None, issuer_key: Any, key: Any, ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        else:
            alt_names = [
                x509.DNSName('localhost'),
                x509.IPAddress(ipaddress.ip_address('127.0.0.1')),
                x509.IPAddress(ipaddress.ip_address('::1')),
            ]
            builder = (
                builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
                )
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build('Inboxdesk test CA', None, ca_key, ca_key, ca=True)
    server = build('localhost', ca.subject, ca_key, server_key, ca=False)
    certificates = Certificates(folder / 'ca.pem', folder / 'server.pem', folder / 'server.key')
    certificates.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certificates.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    certificates.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certificates


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
