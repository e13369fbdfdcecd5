"""Queues: everyone signed in reads them; admins create, change and delete them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from inboxdesk.logic import queues as logic
from inboxdesk.models.api import QueueCreate, QueueList, QueuePatch, QueueResource

from ..access import ADMINS, AGENTS
from ..problems import responses

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped


def _fields(model: QueueCreate | QueuePatch) -> dict[str, Any]:
    data = model.model_dump(exclude_unset=True)
    ack = data.pop('auto_acknowledge', None)
    if ack is not None:
        data['auto_ack_enabled'] = bool(ack.get('enabled', False))
        data['auto_ack_template'] = ack.get('template')
    return data


@router.get('/queues', security=AGENTS, tags=['queues'], responses=responses())
def list_queues() -> QueueList:
    """Every queue, by name."""
    return QueueList(items=[QueueResource.of(q) for q in logic.list_queues()], next_cursor=None)


@router.post('/queues', security=ADMINS, tags=['queues'], responses=responses(409))
def create_queue(request: QueueCreate) -> Response[QueueResource]:
    """A new queue; 409 when one of its inbound addresses belongs to another queue."""
    queue = logic.create_queue(**_fields(request))
    return Response(201, 'application/json', QueueResource.of(queue), headers={'Location': f'/queues/{queue.id}'})


@router.get('/queues/<queue_id>', security=AGENTS, tags=['queues'], responses=responses(404))
def get_queue(queue_id: str) -> QueueResource:
    return QueueResource.of(logic.get_queue(queue_id))


@router.patch('/queues/<queue_id>', security=ADMINS, tags=['queues'], responses=responses(404, 409))
def update_queue(queue_id: str, changes: QueuePatch) -> QueueResource:
    """Change some fields; inbound addresses are replaced as a whole."""
    return QueueResource.of(logic.update_queue(queue_id, _fields(changes)))


@router.delete('/queues/<queue_id>', security=ADMINS, tags=['queues'], responses=responses(404, 409))
def delete_queue(queue_id: str) -> Response[Any]:
    """Refused (409, with the reason) while the queue has tickets or is the default."""
    logic.delete_queue(queue_id)
    return Response(204, None, '')
