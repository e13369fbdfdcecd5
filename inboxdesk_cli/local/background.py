"""The start/stop of the dev runtime's background work: loops (queue workers, schedules) and servers, one
daemon thread each."""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class BackgroundLoop:
    """Run `_run` in a daemon thread named `_thread_name` from `start()` until `stop()` sets `_stop`."""

    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def _thread_name(self) -> str:
        return type(self).__name__

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end and wait (up to `timeout`) for its current round to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError


class ServingThread:
    """A socketserver server (HTTP, WSGI) answering in a daemon thread from `serve()` until `stop()`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._server: socketserver.BaseServer | None = None
        self._thread: threading.Thread | None = None

    def serve(self, server: socketserver.BaseServer) -> int:
        """Start answering; returns the port the server is bound to (useful with port 0)."""
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return int(server.server_address[1])  # type: ignore[index]  # an (host, port) pair for TCP servers

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
