"""The start/stop of a dev-runtime background loop (queue workers, schedules): one daemon thread per loop."""

from __future__ import annotations

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
