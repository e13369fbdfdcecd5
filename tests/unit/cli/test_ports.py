"""Port checks of `inboxdesk dev`: a restart right after a stop must not see its own old port as busy."""

from __future__ import annotations

import socket

from inboxdesk_cli.local.embedded_aws import port_is_free


def _server_closed_connection_port() -> int:
    """A loopback port whose server closed a connection first: that connection is now in TIME_WAIT."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('127.0.0.1', 0))
    listener.listen()
    port = int(listener.getsockname()[1])
    client = socket.create_connection(('127.0.0.1', port))
    served, _ = listener.accept()
    served.close()  # the server side closes first, as a stopping server does
    client.recv(1)
    client.close()
    listener.close()
    return port


def test_a_port_with_only_old_connections_in_time_wait_is_free():
    # Given a port a stopped server used, with its side of an old connection in TIME_WAIT
    port = _server_closed_connection_port()
    with socket.socket() as plain:
        try:
            plain.bind(('127.0.0.1', port))
            in_time_wait = False
        except OSError:
            in_time_wait = True
    assert in_time_wait, 'the TIME_WAIT state could not be set up on this system'

    # When the dev runtime checks it, Then it is free (the servers bind with SO_REUSEADDR too)
    assert port_is_free('127.0.0.1', port)


def test_a_listening_port_is_busy():
    # Given a port something listens on, When checked, Then it is busy
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen()
        assert not port_is_free('127.0.0.1', int(listener.getsockname()[1]))
