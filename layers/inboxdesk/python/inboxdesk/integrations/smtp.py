"""Sending through a customer's own SMTP server, safely.

The host comes from an admin, so it is treated as hostile: before every connection it is resolved
and refused unless every address is public (or the stack's allow-list names the host), only the
mail ports are allowed, and the socket is connected to an address that was checked (no second
lookup that DNS could answer differently). TLS always, implicit or STARTTLS, with the certificate
checked against the host name; credentials never travel in the clear.

smtplib and ssl are imported on first use (cold start).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from inboxdesk.errors import PermanentSendError, SendError, TransientSendError
from inboxdesk.integrations.transport import SentMail, check_envelope

if TYPE_CHECKING:
    import smtplib
    import ssl

ALLOWED_PORTS: Final = frozenset({25, 465, 587, 2525})
_MAX_REASON: Final = 300
# Ranges no customer mail server lives in, beyond what `ipaddress` calls private or not global
# (multicast and 100.64/10 are "global" to it; the cloud metadata addresses are spelled out).
_REFUSED_NETWORKS: Final = tuple(
    ipaddress.ip_network(network)
    for network in (
        '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
        '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15',
        '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4', '169.254.169.254/32',
        '::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32',
        'fc00::/7', 'fd00::/8', 'fd00:ec2::254/128', 'fe80::/10', 'fec0::/10', 'ff00::/8',
    )
)  # fmt: skip
_NAT64: Final = ipaddress.IPv6Network('64:ff9b::/96')


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: Literal['implicit', 'starttls']
    username: str  # '' sends without AUTH (a relay that trusts the sender's address)
    password: str = field(repr=False)


def is_public_address(address: str) -> bool:
    """Whether an IP address (text, IPv4 or IPv6, with or without a zone) may be connected to."""
    try:
        ip = ipaddress.ip_address(address.split('%', 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address written as IPv6 (mapped, NAT64) is judged as the IPv4 address it reaches.
        embedded = ip.ipv4_mapped or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if embedded is not None:
            return is_public_address(str(embedded))
        if ip.sixtofour is not None and not is_public_address(str(ip.sixtofour)):
            return False
        if ip.is_site_local:
            return False
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback:
        return False
    return not ip.is_unspecified and not any(ip in network for network in _REFUSED_NETWORKS)


def _host_name(host: str) -> str:
    return host.strip().rstrip('.').lower()


def checked_addresses(host: str, port: int, allow_list: frozenset[str]) -> list[str]:
    """The addresses of `host` that may be connected to on `port`, in resolver order; raises
    `PermanentSendError` (stage 'address' or 'dns') when the host or port is refused."""
    name = _host_name(host)
    allowed = bool(name) and name in {_host_name(entry) for entry in allow_list}
    if not allowed and port not in ALLOWED_PORTS:
        raise PermanentSendError(f'port {port} is not a mail port: use 25, 465, 587 or 2525', stage='address')
    if not name:
        raise PermanentSendError('no SMTP host is set', stage='dns')
    try:
        found = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        temporary = error.errno == socket.EAI_AGAIN
        kind = TransientSendError if temporary else PermanentSendError
        raise kind(f'{host} could not be found in DNS ({error.strerror})', stage='dns') from error
    except UnicodeError as error:
        raise PermanentSendError(f'{host!r} is not a valid host name', stage='dns') from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise PermanentSendError(f'{host} has no addresses in DNS', stage='dns')
    refused = [address for address in addresses if not is_public_address(address)]
    if refused and not allowed:
        raise PermanentSendError(
            f'{host} resolves to {refused[0]}, which is not a public address: '
            'Inboxdesk only connects to mail servers on the internet',
            stage='address',
        )
    return addresses


def _one_line(text: str) -> str:
    line = ' '.join(text.split())
    return line if len(line) <= _MAX_REASON else line[: _MAX_REASON - 1] + '…'


def _reply_error(code: int, reply: bytes | str, what: str, *, stage: str) -> SendError:
    """A server's refusal: 4xx (and garbled codes) can pass, 5xx will not."""
    text = reply.decode('utf-8', 'replace') if isinstance(reply, bytes) else reply
    kind = PermanentSendError if 500 <= code < 600 else TransientSendError
    return kind(_one_line(f'{what} ({code} {text})'), stage=stage)


@contextmanager
def _stage(stage: str, host: str) -> Iterator[None]:
    """Turn what smtplib, ssl and socket raise during `stage` into a SendError in plain words."""
    import smtplib
    import ssl

    try:
        yield
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError as error:
        raise _reply_error(error.smtp_code, error.smtp_error, 'the server refused the user name or password',
                           stage=stage) from error  # fmt: skip
    except smtplib.SMTPServerDisconnected as error:
        raise TransientSendError(f'{host} closed the connection', stage=stage) from error
    except smtplib.SMTPResponseException as error:
        raise _reply_error(error.smtp_code, error.smtp_error, f'{host} answered with an error', stage=stage) from error
    except smtplib.SMTPException as error:  # e.g. no authentication method both sides know
        raise PermanentSendError(_one_line(f'{host}: {error}'), stage=stage) from error
    except ssl.SSLCertVerificationError as error:
        raise PermanentSendError(
            _one_line(f'the TLS certificate of {host} is not valid ({error.verify_message})'), stage='tls'
        ) from error
    except ssl.SSLError as error:
        raise PermanentSendError(
            _one_line(f'TLS with {host} failed ({error.reason or error}): check the port and the TLS mode'),
            stage='tls',
        ) from error
    except TimeoutError as error:
        raise TransientSendError(f'{host} did not answer in time', stage=stage) from error
    except OSError as error:
        raise TransientSendError(_one_line(f'the connection to {host} failed ({error.strerror or error})'),
                                 stage=stage) from error  # fmt: skip


def _open(
    settings: SmtpSettings, allow_list: frozenset[str], context: ssl.SSLContext, timeout: float, helo: str
) -> smtplib.SMTP:
    """A session to the server, after TLS and AUTH: connected to a checked address."""
    import smtplib

    name = _host_name(settings.host)  # certificates name hosts without a trailing dot, case-insensitively

    class _Session(smtplib.SMTP):
        """smtplib over a socket opened here, so the address that was checked is the one used."""

        def __init__(self, connected: socket.socket) -> None:
            self._connected = connected
            super().__init__(host=name, port=settings.port, local_hostname=helo, timeout=timeout)

        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            return self._connected

    if settings.tls not in ('implicit', 'starttls'):  # never a session without TLS
        raise PermanentSendError(f'unknown TLS mode {settings.tls!r}: use implicit or starttls', stage='tls')
    addresses = checked_addresses(settings.host, settings.port, allow_list)
    with _stage('tcp', settings.host):
        connected = _connect_first(addresses, settings.port, timeout)
    try:
        with _stage('tls', settings.host):
            if settings.tls == 'implicit':
                connected = context.wrap_socket(connected, server_hostname=name)
        with _stage('tcp', settings.host):
            session = _Session(connected)
    except BaseException:
        connected.close()
        raise
    try:
        if settings.tls == 'starttls':
            with _stage('tls', settings.host):
                session.ehlo()
                if not session.has_extn('starttls'):
                    raise PermanentSendError(
                        f'{settings.host} does not offer STARTTLS: Inboxdesk never sends a password unencrypted',
                        stage='tls',
                    )
                session.starttls(context=context)
        with _stage('auth', settings.host):
            session.ehlo()
            if settings.username:
                if not session.has_extn('auth'):
                    raise PermanentSendError(f'{settings.host} does not offer authentication (AUTH)', stage='auth')
                session.login(settings.username, settings.password)
    except BaseException:
        session.close()
        raise
    return session


def _connect_first(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first address that answers (an IPv6 address first may have no route)."""
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as error:
            last = error
    assert last is not None  # addresses is never empty
    raise last


def _close(session: smtplib.SMTP) -> None:
    """QUIT politely; a server that already hung up (after a 421) is simply closed."""
    try:
        session.quit()
    except Exception:  # noqa: BLE001 - the outcome is already decided
        session.close()


def _default_context(ca_file: str | None) -> ssl.SSLContext:
    import ssl

    return ssl.create_default_context(cafile=ca_file)  # verifies certificates and host names, TLS 1.2+


def check(
    settings: SmtpSettings,
    *,
    allow_list: frozenset[str] = frozenset(),
    ssl_context: ssl.SSLContext | None = None,
    ca_file: str | None = None,
    timeout: float = 20.0,
) -> None:
    """Connect, start TLS and authenticate without sending; raises a SendError whose `reason` says
    what failed (`stage`: 'address', 'dns', 'tcp', 'tls' or 'auth')."""
    SmtpTransport(settings, allow_list, ssl_context=ssl_context, ca_file=ca_file, timeout=timeout).check()


class SmtpTransport:
    """A `Transport` to one SMTP server. A connection per mail: replies leave one at a time."""

    def __init__(
        self,
        settings: SmtpSettings,
        allow_list: frozenset[str],
        *,
        ssl_context: ssl.SSLContext | None = None,
        ca_file: str | None = None,
        timeout: float = 30.0,
        helo_name: str = 'localhost',
    ) -> None:
        self.settings = settings
        self.allow_list = allow_list
        self._context = ssl_context
        self._ca_file = ca_file
        self._timeout = timeout
        self._helo = helo_name

    def _session(self) -> smtplib.SMTP:
        context = self._context or _default_context(self._ca_file)
        return _open(self.settings, self.allow_list, context, self._timeout, self._helo)

    def check(self) -> None:
        _close(self._session())

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SentMail:
        check_envelope(sender, recipients)
        host = self.settings.host
        session = self._session()
        try:
            with _stage('send', host):
                code, reply = session.mail(sender)
                if code != 250:
                    raise _reply_error(code, reply, f'{host} refused the sender {sender}', stage='send')
                refused: dict[str, tuple[int, bytes]] = {}
                for recipient in recipients:
                    code, reply = session.rcpt(recipient)
                    if code not in (250, 251):
                        refused[recipient] = (code, reply)
                if len(refused) == len(recipients):
                    code, reply = min(refused.values())  # a 4xx among them: worth trying again
                    raise _reply_error(code, reply, f'{host} refused every recipient', stage='send')
                code, reply = session.data(raw)
                if code != 250:
                    raise _reply_error(code, reply, f'{host} did not accept the mail', stage='send')
        finally:
            _close(session)
        return SentMail(
            provider_id=_one_line(reply.decode('utf-8', 'replace')) or None,
            refused_recipients=tuple(
                (address, _one_line(f'{code} {text.decode("utf-8", "replace")}'))
                for address, (code, text) in refused.items()
            ),
        )
