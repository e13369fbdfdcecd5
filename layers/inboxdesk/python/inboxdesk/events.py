"""Domain events on EventBridge (`ticket.created`, `message.received`), source `inboxdesk`.

The bus comes from EVENT_BUS_NAME. Publishing never fails the caller: a failure is logged and
counted (`EventPublishFailed`). Details carry ids, never subjects or bodies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from inboxdesk import resources
from inboxdesk.config import inbound_settings
from inboxdesk.names import EVENT_PUBLISH_FAILED_METRIC
from inboxdesk.observability import count, logger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = 'inboxdesk'
TICKET_CREATED = 'ticket.created'
MESSAGE_RECEIVED = 'message.received'

_client: EventBridgeClient | None = None
_no_bus_logged = False


def _events() -> EventBridgeClient:
    global _client
    if _client is None:
        import boto3

        _client = boto3.client('events')
    return _client


def publish(events: list[tuple[str, dict[str, Any]]]) -> bool:
    """Put (detail type, detail) events in one call; False (logged, counted) when that failed."""
    global _no_bus_logged
    bus = inbound_settings().event_bus
    if not events:
        return True
    if bus is None:
        if not _no_bus_logged:
            logger.warning('events not published: no event bus configured', env=resources.ENV_EVENT_BUS)
            _no_bus_logged = True
        return False
    entries: Any = [
        {'Source': SOURCE, 'DetailType': detail_type, 'Detail': json.dumps(detail), 'EventBusName': bus}
        for detail_type, detail in events
    ]
    try:
        response = _events().put_events(Entries=entries)
    except Exception as exc:  # noqa: BLE001 - publishing must never fail an ingestion that is already stored
        logger.warning('event publish failed', error=type(exc).__name__, events=len(entries))
        count(EVENT_PUBLISH_FAILED_METRIC, len(entries))
        return False
    failed = int(response.get('FailedEntryCount', 0))
    if failed:
        logger.warning('event publish failed', failed=failed, events=len(entries))
        count(EVENT_PUBLISH_FAILED_METRIC, failed)
        return False
    return True
