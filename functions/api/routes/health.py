"""GET /health: no token needed; answers without touching storage."""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler.api_gateway import Router

from inboxdesk.models.api import Health

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped


@router.get('/health', tags=['health'], summary='Is the API up?')
def get_health() -> Health:
    return Health(status='ok', service=os.environ.get('POWERTOOLS_SERVICE_NAME', 'inboxdesk-api'))
