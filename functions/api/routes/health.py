"""GET /health: no token needed; answers without touching storage."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from inboxdesk.models.api import Health
from inboxdesk.names import HEALTH_PATH, SERVICE_API
from inboxdesk.observability import service_name

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped


@router.get(HEALTH_PATH, tags=['health'], summary='Is the API up?')
def get_health() -> Health:
    return Health(status='ok', service=service_name(SERVICE_API))
