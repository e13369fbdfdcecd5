"""The API function: API Gateway HTTP API (payload v2) -> Powertools resolver -> routes -> logic.

Authorisation is decided from the verified JWT claims before routing (`access.deny`), then a body
that cannot be read is a 400 (`bodies`); every error is a problem document (`problems`). OpenAPI at
GET /openapi.json, Swagger UI at /docs.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from inboxdesk.config import api_settings
from inboxdesk.names import OPENAPI_PATH, SERVICE_API, SWAGGER_PATH
from inboxdesk.observability import service_name

from . import access, bodies, problems
from .routes import attachments, channels, customers, health, queues, settings, tickets

logger = Logger(service=service_name(SERVICE_API))  # POWERTOOLS_SERVICE_NAME wins (set per function on AWS)
api_settings()  # cold start: a deploy without a variable the API needs fails here, before it accepts a reply


def openapi_settings() -> dict[str, Any]:
    """Built on first use: the OpenAPI models cost ~200 ms to import, which a cold start need not pay."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {
        'title': 'Inboxdesk API',
        'version': '1.0.0',
        'description': 'Tickets, conversations, queues and settings of an Inboxdesk helpdesk. '
        'Send a Cognito ID token as a bearer token; errors are RFC 9457 problem details.',
        'security_schemes': {
            access.SCHEME: HTTPBearer(bearerFormat='JWT', description='Cognito ID token (groups: agents, admins)')
        },
    }


app = APIGatewayHttpResolver(enable_validation=True, response_validation_error_http_code=500)
problems.register(app)
for module in (health, tickets, attachments, queues, settings, customers, channels):
    app.include_router(module.router)


@cache
def openapi_json() -> str:
    """The document, with Powertools' own 422/500 shapes replaced by the problem details we send."""
    document = json.loads(app.get_openapi_json_schema(**openapi_settings()))
    problem = {'$ref': '#/components/schemas/Problem'}
    for operations in document.get('paths', {}).values():
        for operation in operations.values():
            for status, text in (('422', 'the request is not valid; `errors` lists each field'), ('500', 'our fault')):
                if status in operation.get('responses', {}):
                    operation['responses'][status] = {
                        'description': text,
                        'content': {problems.PROBLEM_JSON: {'schema': problem}},
                    }
    for unused in ('HTTPValidationError', 'ValidationError', 'ResponseValidationError'):
        document.get('components', {}).get('schemas', {}).pop(unused, None)
    return json.dumps(document, separators=(',', ':'))


@app.get(OPENAPI_PATH, include_in_schema=False)
def openapi_document() -> Response[Any]:
    return Response(status_code=200, content_type='application/json', body=openapi_json())


@app.get(SWAGGER_PATH, include_in_schema=False)
def swagger_ui() -> Response[Any]:
    """Swagger UI on the same document as /openapi.json (assets shipped with Powertools, no CDN)."""
    from pathlib import Path

    from aws_lambda_powertools.event_handler.openapi import swagger_ui as assets
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    folder = Path(assets.__file__).parent
    js = (folder / 'swagger-ui-bundle.min.js').read_text(encoding='utf-8')
    css = (folder / 'swagger-ui.min.css').read_text(encoding='utf-8')
    body = generate_swagger_html(openapi_json().replace('</', '<\\/'), js, css, '', None, False)
    return Response(status_code=200, content_type='text/html', body=body)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    denied = access.deny(app, event)
    if denied is not None:
        logger.info('request denied', status=denied['statusCode'], path=event.get('rawPath'))
        return denied
    unreadable = bodies.unreadable(event)
    if unreadable is not None:
        return problems.problem_result(400, unreadable)
    return app.resolve(event, context)
