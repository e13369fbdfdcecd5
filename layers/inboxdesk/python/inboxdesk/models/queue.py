"""Queues: where mail to an inbound address lands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Queue:
    id: str
    name: str
    colour: str  # '#RRGGBB'
    inbound_addresses: tuple[str, ...]  # lower-case; each also has an address item for routing
    is_default: bool
    reply_via: str | None = None  # the outbound channel replies leave by (outbound issue)
    auto_ack_enabled: bool = False
    auto_ack_template: str | None = None
    created_at: str = ''

    def to_json(self) -> dict[str, Any]:
        return {
            'id': self.id,
            'name': self.name,
            'colour': self.colour,
            'inbound_addresses': list(self.inbound_addresses),
            'is_default': self.is_default,
            'reply_via': self.reply_via,
            'auto_ack_enabled': self.auto_ack_enabled,
            'auto_ack_template': self.auto_ack_template,
            'created_at': self.created_at,
        }
