"""The embedded AWS of the dev runtime: moto server in this process, on a loopback port."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from typing import Any

from inboxdesk.errors import InboxdeskError


class PortBusyError(InboxdeskError):
    """A port the dev runtime needs is already taken."""


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as the servers bind: connections of a previous run in TIME_WAIT do not make the port busy
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def moto_is_running(endpoint: str, timeout: float = 2.0) -> bool:
    """Does a moto server answer at `endpoint`? (Its reset/introspection API lives under /moto-api/.)"""
    try:
        with urllib.request.urlopen(f'{endpoint}/moto-api/reset-auth', timeout=timeout) as response:
            body = response.read(200)
    except urllib.error.HTTPError as error:  # moto answers this read with 400 ("Need to POST to reset Moto Auth")
        body = error.read(200)
    except (OSError, ValueError):
        return False
    return b'moto' in body.lower()


def check_ports(host: str, ports: dict[str, int]) -> None:
    """Fail early, with what to do, when any of the ports is taken."""
    for what, port in ports.items():
        if port_is_free(host, port):
            continue
        endpoint = f'http://{host}:{port}'
        if what == 'aws' and moto_is_running(endpoint):
            raise PortBusyError(
                f'a moto server is already running on {host}:{port} (another `inboxdesk dev`?). '
                f'Stop it, or choose another port with --aws-port.'
            )
        raise PortBusyError(f'port {host}:{port} ({what}) is already in use; choose another with --{what}-port.')


class EmbeddedAws:
    """moto's ThreadedMotoServer on `host:port`."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        return f'http://{self.host}:{self.port}'

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
