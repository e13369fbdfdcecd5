"""The SMTP transport against real aiosmtpd servers (STARTTLS, implicit TLS, AUTH PLAIN and LOGIN)
on 127.0.0.1, and its refusal of hosts and ports no customer mail server uses."""

from __future__ import annotations

import io
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inboxdesk.errors import PermanentSendError, SendError, TransientSendError
from inboxdesk.integrations.smtp import SmtpSettings, SmtpTransport, check, is_public_address
from inboxdesk.mail.compose import OutgoingAttachment, OutgoingMail, compose
from tests.conftest import free_port
from tests.integration.smtp_servers import PASSWORD, USER, Certificates, make_certificates, smtp_server

ALLOWED = frozenset({'localhost'})


@pytest.fixture(scope='module')
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp('smtp-certs'))


def raw_reply() -> bytes:
    data = bytes(range(256)) * 400 + b'\r\n.\r\n..leading dots survive dot-stuffing'
    return compose(
        OutgoingMail(
            from_address='support@inboxdesk.test',
            from_name='Acme Support',
            to=(('Ana', 'ana@customer.test'),),
            cc=(('', 'bob@customer.test'),),
            reply_to='support@inboxdesk.test',
            subject='Re: Printer broken [#12]',
            message_id='m1@inboxdesk.test',
            in_reply_to=None,
            references=(),
            text='Hello Ana,\n.\n.. a line with only a dot above',
            attachments=(
                OutgoingAttachment('data.bin', 'application/octet-stream', len(data), lambda: io.BytesIO(data)),
            ),
        )
    )


def transport(port: int, certificates: Certificates, **changes: Any) -> SmtpTransport:
    settings: dict[str, Any] = {
        'host': 'localhost',
        'port': port,
        'tls': 'starttls',
        'username': USER,
        'password': PASSWORD,
    }
    settings.update(changes)
    return SmtpTransport(SmtpSettings(**settings), ALLOWED, ca_file=str(certificates.ca_file))


@pytest.mark.parametrize('mechanism', ['PLAIN', 'LOGIN'])
@pytest.mark.parametrize('mode', ['starttls', 'implicit'])
def test_each_tls_mode_and_auth_mechanism_delivers_the_exact_mime(
    certificates: Certificates, mode: str, mechanism: str
) -> None:
    # Given a server that offers one TLS mode and one AUTH mechanism, allow-listed as the dev catcher is
    raw = raw_reply()
    with smtp_server(certificates, mode, mechanisms=(mechanism,)) as server:  # type: ignore[arg-type]
        # When a composed reply is sent through it
        sent = transport(server.port, certificates, tls=mode).send(
            raw, sender='support@inboxdesk.test', recipients=['ana@customer.test', 'bob@customer.test']
        )

    # Then the server received exactly those bytes, for the envelope given, after authenticating
    [received] = server.recorder.received
    assert received.content == raw
    assert received.mail_from == 'support@inboxdesk.test'
    assert received.rcpt_tos == ('ana@customer.test', 'bob@customer.test')
    assert server.recorder.logins == [(mechanism, USER, True)]
    # and the server's queue id is what we keep as the provider's id
    assert sent.provider_id is not None
    assert 'queued as 4XJ7Q2' in sent.provider_id
    assert sent.refused_recipients == ()


@pytest.mark.parametrize('mode', ['starttls', 'implicit'])
def test_a_wrong_password_fails_permanently_with_a_reason(certificates: Certificates, mode: str) -> None:
    # Given a server and a channel with a wrong password
    # When a reply is sent
    with smtp_server(certificates, mode) as server, pytest.raises(PermanentSendError) as failed:  # type: ignore[arg-type]
        transport(server.port, certificates, tls=mode, password='wrong password').send(
            raw_reply(), sender='support@inboxdesk.test', recipients=['ana@customer.test']
        )

    # Then it fails for good, says so in words, never repeats the password, and nothing was delivered
    assert failed.value.stage == 'auth'
    assert 'refused the user name or password' in failed.value.reason
    assert '535' in failed.value.reason
    assert 'wrong password' not in failed.value.reason
    assert server.recorder.received == []


def test_a_421_is_transient_and_the_retry_delivers_once(certificates: Certificates) -> None:
    # Given a server that answers the first mail with 421 (busy) and accepts the next
    raw = raw_reply()
    with smtp_server(certificates, 'starttls', answers=('421 4.3.2 Service not available, try again later',)) as server:
        channel = transport(server.port, certificates)

        # When the reply is sent, and sent again after the transient failure
        with pytest.raises(TransientSendError) as busy:
            channel.send(raw, sender='support@inboxdesk.test', recipients=['ana@customer.test'])
        channel.send(raw, sender='support@inboxdesk.test', recipients=['ana@customer.test'])

    # Then the first attempt reported a retryable failure and exactly one copy arrived
    assert '421' in busy.value.reason
    assert [r.content for r in server.recorder.received] == [raw]


def test_starttls_is_required_before_any_password_is_sent(certificates: Certificates) -> None:
    # Given a server that offers AUTH without TLS
    # When a STARTTLS channel checks it
    with smtp_server(certificates, 'plain') as server, pytest.raises(PermanentSendError) as refused:
        check(
            SmtpSettings('localhost', server.port, 'starttls', USER, PASSWORD),
            allow_list=ALLOWED,
            ca_file=str(certificates.ca_file),
        )

    # Then Inboxdesk refuses, and the server never saw a login attempt
    assert refused.value.stage == 'tls'
    assert 'STARTTLS' in refused.value.reason
    assert server.recorder.logins == []


def test_check_authenticates_without_sending(certificates: Certificates) -> None:
    # Given a working server
    with smtp_server(certificates, 'starttls') as server:
        # When the channel is checked
        check(
            SmtpSettings('localhost', server.port, 'starttls', USER, PASSWORD),
            allow_list=ALLOWED,
            ca_file=str(certificates.ca_file),
        )

    # Then it logged in and sent nothing
    assert server.recorder.logins == [('PLAIN', USER, True)]
    assert server.recorder.received == []


def _check_failure(settings: SmtpSettings, certificates: Certificates | None) -> SendError:
    with pytest.raises(SendError) as failed:
        check(settings, allow_list=ALLOWED, ca_file=str(certificates.ca_file) if certificates else None, timeout=5)
    return failed.value


def test_check_says_what_failed(certificates: Certificates) -> None:
    # Given servers and settings that fail at each stage
    nothing_listens = free_port()
    with smtp_server(certificates, 'starttls') as starttls, smtp_server(certificates, 'implicit') as implicit:
        failures = {
            'dns': _check_failure(SmtpSettings('no-such-host.invalid', 587, 'starttls', USER, PASSWORD), certificates),
            'tcp': _check_failure(SmtpSettings('localhost', nothing_listens, 'starttls', USER, PASSWORD), certificates),
            'untrusted': _check_failure(SmtpSettings('localhost', starttls.port, 'starttls', USER, PASSWORD), None),
            'wrong mode': _check_failure(
                SmtpSettings('localhost', starttls.port, 'implicit', USER, PASSWORD), certificates
            ),
            'auth': _check_failure(SmtpSettings('localhost', implicit.port, 'implicit', USER, 'nope'), certificates),
        }

    # Then each answer names the stage and says in words what went wrong
    assert failures['dns'].stage == 'dns'
    assert 'no-such-host.invalid could not be found' in failures['dns'].reason
    assert failures['tcp'].stage == 'tcp'
    assert 'connection to localhost failed' in failures['tcp'].reason
    assert failures['untrusted'].stage == 'tls'
    assert 'certificate of localhost is not valid' in failures['untrusted'].reason
    assert isinstance(failures['untrusted'], PermanentSendError)
    assert failures['wrong mode'].stage == 'tls'
    assert 'check the port and the TLS mode' in failures['wrong mode'].reason
    assert failures['auth'].stage == 'auth'
    assert isinstance(failures['auth'], PermanentSendError)


def test_refused_recipients_are_reported_when_others_were_accepted(certificates: Certificates) -> None:
    # Given a server that refuses one recipient
    from aiosmtpd.controller import Controller

    class RefusesOne:
        def __init__(self) -> None:
            self.received: list[tuple[str, ...]] = []

        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
            if address.startswith('gone@'):
                return '550 5.1.1 <gone@customer.test>: user unknown'
            envelope.rcpt_tos.append(address)
            return '250 OK'

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.received.append(tuple(envelope.rcpt_tos))
            return '250 OK'

    handler = RefusesOne()
    port = free_port()
    controller = Controller(handler, hostname='127.0.0.1', port=port, ssl_context=certificates.server_context(),
                            server_hostname='localhost')  # fmt: skip
    controller.start()
    try:
        sent = transport(port, certificates, tls='implicit', username='').send(
            raw_reply(), sender='support@inboxdesk.test', recipients=['ana@customer.test', 'gone@customer.test']
        )
    finally:
        controller.stop()

    # Then the mail went to the others and the refusal is kept with the server's words
    assert handler.received == [('ana@customer.test',)]
    assert sent.refused_recipients == (('gone@customer.test', '550 5.1.1 <gone@customer.test>: user unknown'),)


# --- hosts and ports no customer server may use --------------------------------------------------------------

_connections: list[Any] = []
_watching = threading.Event()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == 'socket.connect' and _watching.is_set():
        _connections.append(args[1])


sys.addaudithook(_audit)  # sees every connect() this process makes, to any address


class _Listener:
    """Sockets on 127.0.0.1 and ::1 port 587 (shared with any other listener via SO_REUSEPORT) that
    record every connection they accept."""

    def __init__(self) -> None:
        self.accepted: list[Any] = []
        self.sockets: list[socket.socket] = []
        for family, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, 587))
            sock.listen()
            sock.settimeout(0.05)
            self.sockets.append(sock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            for sock in self.sockets:
                try:
                    connection, peer = sock.accept()
                except (TimeoutError, OSError):
                    continue
                self.accepted.append(peer)
                connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    recording = _Listener()
    _connections.clear()
    _watching.set()
    yield recording
    _watching.clear()
    recording.close()


REFUSED_HOSTS = [
    '127.0.0.1', '::1', 'localhost', '10.0.0.1', '172.16.0.1', '172.31.255.254', '192.168.1.1', '169.254.169.254',
    'fd00:ec2::254', 'fd00::1', 'fc00::1', 'fe80::1', '100.64.0.1', '100.127.255.254', '0.0.0.0', '::',
    '224.0.0.1', 'ff02::1', '240.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.1', '::ffff:10.0.0.1',
    '::ffff:127.0.0.1', '64:ff9b::a00:1', '2002:a00:1::1', '2001:db8::1',
]  # fmt: skip


@pytest.mark.parametrize('host', REFUSED_HOSTS)
def test_private_and_reserved_hosts_are_refused_before_any_packet(listener: _Listener, host: str) -> None:
    # Given a channel naming a host that is not on the internet (or resolves to one), not allow-listed
    channel = SmtpTransport(SmtpSettings(host, 587, 'starttls', USER, PASSWORD), frozenset())

    # When it sends, or is checked
    with pytest.raises(PermanentSendError) as refused:
        channel.send(b'Subject: x\r\n\r\nx\r\n', sender='support@inboxdesk.test', recipients=['ana@customer.test'])
    with pytest.raises(PermanentSendError):
        channel.check()

    # Then both are refused with the reason, and no connection was attempted, let alone accepted
    assert refused.value.stage == 'address'
    assert 'not a public address' in refused.value.reason
    assert _connections == []
    assert listener.accepted == []


@pytest.mark.parametrize('port', [8025, 22, 80, 443, 1025, 5000])
def test_ports_other_than_the_mail_ports_are_refused_before_any_packet(listener: _Listener, port: int) -> None:
    # Given a public server named with a port that is not a mail port
    channel = SmtpTransport(SmtpSettings('93.184.215.14', port, 'implicit', USER, PASSWORD), frozenset())

    # When it sends
    with pytest.raises(PermanentSendError) as refused:
        channel.send(b'Subject: x\r\n\r\nx\r\n', sender='support@inboxdesk.test', recipients=['ana@customer.test'])

    # Then it is refused for the port, before any connection
    assert refused.value.stage == 'address'
    assert f'port {port} is not a mail port' in refused.value.reason
    assert _connections == []


PUBLIC = ['93.184.215.14', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:82a::200e', '::ffff:8.8.8.8']


@pytest.mark.parametrize('address', PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(address)


def test_the_allow_list_admits_a_loopback_catcher(certificates: Certificates, tmp_path: Path) -> None:
    # Given the dev catcher's loopback host, allow-listed (with a trailing dot and capitals, as DNS allows)
    with smtp_server(certificates, 'starttls') as server:
        channel = SmtpTransport(
            SmtpSettings('LOCALHOST.', server.port, 'starttls', USER, PASSWORD),
            frozenset({'localhost'}),
            ca_file=str(certificates.ca_file),
        )
        # When a mail is sent
        channel.send(b'Subject: hi\r\n\r\nhi\r\n', sender='support@inboxdesk.test', recipients=['ana@customer.test'])

    # Then it arrives
    assert [r.content for r in server.recorder.received] == [b'Subject: hi\r\n\r\nhi\r\n']


def test_the_watchers_see_a_connection_when_one_is_made(listener: _Listener) -> None:
    # Given the recording listener and the audit of connect() calls used above
    # When something does connect to 127.0.0.1:587
    with socket.create_connection(('127.0.0.1', 587), timeout=2):
        pass
    for _ in range(100):
        if listener.accepted:
            break
        threading.Event().wait(0.02)

    # Then both notice it (so their silence above means no packet was sent)
    assert ('127.0.0.1', 587) in _connections
    assert listener.accepted


@pytest.mark.parametrize(
    ('sender', 'recipient'),
    [
        ('support@inboxdesk.test', 'ana@customer.test\r\nRCPT TO:<victim@evil.test>'),
        ('support@inboxdesk.test\r\nRSET', 'ana@customer.test'),
        ('support@inboxdesk.test', 'ana@customer.test\x00'),
        ('support@inboxdesk.test', 'jösé@customer.test'),
        ('support@inboxdesk.test', 'ana@customer.test> NOTIFY=NEVER'),
    ],
)
def test_envelope_addresses_that_could_inject_smtp_commands_are_refused(
    certificates: Certificates, sender: str, recipient: str
) -> None:
    # Given a working server
    # When the envelope holds an address with line breaks, NUL, non-ASCII or extra parameters
    with smtp_server(certificates, 'starttls') as server, pytest.raises(PermanentSendError) as refused:
        transport(server.port, certificates).send(raw_reply(), sender=sender, recipients=[recipient])

    # Then nothing is sent and the address is named
    assert 'cannot be used as an envelope address' in refused.value.reason
    assert server.recorder.received == []
    assert server.recorder.logins == []


def test_a_tls_mode_other_than_implicit_or_starttls_is_refused(certificates: Certificates) -> None:
    # Given settings read from somewhere with a TLS mode Inboxdesk does not know
    with smtp_server(certificates, 'plain') as server:
        settings = SmtpSettings('localhost', server.port, 'none', USER, PASSWORD)  # type: ignore[arg-type]

        # When the channel is checked
        with pytest.raises(PermanentSendError) as refused:
            check(settings, allow_list=ALLOWED)

    # Then no session without TLS is opened and no password is offered
    assert refused.value.stage == 'tls'
    assert server.recorder.logins == []
