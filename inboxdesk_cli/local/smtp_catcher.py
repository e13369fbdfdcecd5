"""The dev runtime's SMTP catcher: a mail server on 127.0.0.1:1025 that SMTP channels can point to, and that
keeps every mail it receives instead of delivering it.

It speaks like a customer's own server: STARTTLS (required) with a certificate from a CA the dev runtime
makes in its data folder, and AUTH PLAIN/LOGIN (only inside TLS) for one dev user whose password is made on
first start and kept in the data folder (`smtp-catcher.json`), so a channel saved once keeps working.
Each mail is written to `<data_dir>/smtp-outbox/` as an `.eml` file, with one line about it in
`index.jsonl` (envelope, subject, Message-ID): `inboxdesk outbox --smtp` reads that.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Final

from inboxdesk_cli.local.certificates import Certificates, make_certificates

CATCHER_USER: Final = 'dev@inboxdesk.test'
CATCHER_PORT: Final = 1025
OUTBOX_DIR: Final = 'smtp-outbox'
INDEX_FILE: Final = 'index.jsonl'
CREDENTIALS_FILE: Final = 'smtp-catcher.json'
TLS_DIR: Final = 'tls'
CERTIFICATE_DAYS: Final = 365


def catcher_password(data_dir: Path) -> str:
    """The dev user's password, made on first use (mode 0600) and kept."""
    path = data_dir / CREDENTIALS_FILE
    if path.is_file():
        return str(json.loads(path.read_text(encoding='utf-8'))['password'])
    data_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as f:
        json.dump({'user': CATCHER_USER, 'password': password}, f)
    return password


def catcher_certificates(data_dir: Path) -> Certificates:
    """The catcher's certificate and the CA that signed it, made on first use and kept for a year."""
    folder = data_dir / TLS_DIR
    found = Certificates(folder / 'ca.pem', folder / 'server.pem', folder / 'server.key')
    if all(p.is_file() for p in (found.ca_file, found.cert_file, found.key_file)) and _still_valid(found.cert_file):
        return found
    return make_certificates(folder, days=CERTIFICATE_DAYS, issuer='Inboxdesk dev CA')


def _still_valid(cert_file: Path) -> bool:
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return certificate.not_valid_after_utc > datetime.now(UTC)


def caught(data_dir: Path) -> list[dict[str, Any]]:
    """What the catcher received, oldest first (the lines of its index)."""
    index = data_dir / OUTBOX_DIR / INDEX_FILE
    if not index.is_file():
        return []
    return [json.loads(line) for line in index.read_text(encoding='utf-8').splitlines() if line.strip()]


@dataclass
class _Keeper:
    """The aiosmtpd handler: writes each mail to the outbox folder; checks the dev user's login."""

    folder: Path
    password: str

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        content = bytes(envelope.original_content or b'')
        headers = BytesHeaderParser(policy=default_policy).parsebytes(content)
        name = f'{datetime.now(UTC).strftime("%Y%m%dT%H%M%S")}-{uuid.uuid4().hex[:8]}.eml'
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(content)
        line = {
            'received_at': datetime.now(UTC).isoformat(timespec='seconds'),
            'mail_from': envelope.mail_from,
            'recipients': list(envelope.rcpt_tos),
            'subject': str(headers.get('Subject', '')),
            'message_id': str(headers.get('Message-ID', '')),
            'file': name,
        }
        with (self.folder / INDEX_FILE).open('a', encoding='utf-8') as index:
            index.write(json.dumps(line) + '\n')
        return f'250 2.0.0 Ok: kept as {name}'

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode('utf-8', 'replace') == CATCHER_USER
            and secrets.compare_digest(auth_data.password, self.password.encode('utf-8'))
        )
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpCatcher:
    """STARTTLS and AUTH PLAIN/LOGIN on `host:port`; keeps what it receives under `data_dir`."""

    data_dir: Path
    host: str = '127.0.0.1'
    port: int = CATCHER_PORT
    certificates: Certificates = field(init=False)
    password: str = field(init=False)
    _controller: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.certificates = catcher_certificates(self.data_dir)
        self.password = catcher_password(self.data_dir)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        keeper = _Keeper(self.data_dir / OUTBOX_DIR, self.password)
        self._controller = Controller(
            keeper,
            hostname=self.host,
            port=self.port,
            authenticator=keeper.authenticate,
            auth_require_tls=True,
            tls_context=self.certificates.server_context(),
            require_starttls=True,
            server_hostname='localhost',
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
