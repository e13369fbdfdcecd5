"""Queues: where mail to an inbound address lands."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Queue:
    id: str
    name: str
    colour: str  # '#RRGGBB'
    inbound_addresses: tuple[str, ...]  # lower-case; each also has an address item for routing
    is_default: bool
    reply_via: str | None = None  # the outbound channel replies leave by
    auto_ack_enabled: bool = False
    auto_ack_template: str | None = None
    created_at: str = ''
