"""RFC 9457 problem details for every error the API returns (`application/problem+json`)."""

from __future__ import annotations

import json
import traceback
from http import HTTPStatus
from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from inboxdesk.errors import (
    ConflictError,
    InboxdeskError,
    InvalidRequestError,
    MalformedRequestError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from inboxdesk.models.api import Problem
from inboxdesk.names import SERVICE_API
from inboxdesk.observability import service_name

PROBLEM_JSON: Final = 'application/problem+json'
TYPE_BASE: Final = 'https://inboxdesk.dev/problems/'

logger = Logger(service=service_name(SERVICE_API), child=True)  # under the handler's logger

# The only errors that become 4xx: each domain error class (and its subclasses) -> its status. Anything
# else, a domain error not listed here included, is our fault: a 500 without detail, and a log line.
STATUS_OF: Final[dict[type[InboxdeskError], int]] = {
    InvalidRequestError: 422,
    MalformedRequestError: 400,
    NotFoundError: 404,
    ConflictError: 409,
    PreconditionFailedError: 412,
    PreconditionRequiredError: 428,
}
_RETRY_HINT: Final = {412: '; read it again and retry with the new version'}


def status_of(error: InboxdeskError) -> int | None:
    """The status of the nearest class of `error` in STATUS_OF; None when none is listed."""
    return next((STATUS_OF[kind] for kind in type(error).__mro__ if kind in STATUS_OF), None)


def problem_body(status: int, detail: str, *, errors: list[dict[str, Any]] | None = None) -> str:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        'type': TYPE_BASE + phrase.lower().replace(' ', '-').replace("'", ''),
        'title': phrase,
        'status': status,
        'detail': detail,
    }
    if errors is not None:
        body['errors'] = errors
    return json.dumps(body, separators=(',', ':'))


def problem(status: int, detail: str, *, errors: list[dict[str, Any]] | None = None, **headers: str) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=problem_body(status, detail, errors=errors),
        headers={'X-Content-Type-Options': 'nosniff', **headers},
    )


def problem_result(status: int, detail: str, **headers: str) -> dict[str, Any]:
    """A problem as a ready API Gateway v2 result, for answers given before routing (401, 403)."""
    return {
        'statusCode': status,
        'headers': {'Content-Type': PROBLEM_JSON, 'X-Content-Type-Options': 'nosniff', **headers},
        'body': problem_body(status, detail),
        'isBase64Encoded': False,
    }


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and why, never the submitted value (it may be a mail body)."""
    out = []
    for error in exc.errors():
        loc = [part for part in error.get('loc', ()) if isinstance(part, str | int)]
        out.append({'loc': loc, 'msg': str(error.get('msg', '')), 'type': str(error.get('type', ''))})
    return out


def _summary(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        where = '.'.join(str(p) for p in error['loc'][1:] or error['loc']) or 'request'
        parts.append(f'{where}: {error["msg"]}')
    more = f' (and {len(errors) - 5} more)' if len(errors) > 5 else ''
    return '; '.join(parts) + more


ERROR_RESPONSES: Final[dict[int, OpenAPIResponse]] = {
    status: {'description': text, 'content': {PROBLEM_JSON: {'model': Problem}}}
    for status, text in (
        (400, 'the request cannot be read (not UTF-8, not JSON, nested too deep) or its cursor was forged'),
        (401, 'no valid token'),
        (403, 'your group may not do this'),
        (422, 'the request is not valid; `errors` lists each field'),
    )
}


def responses(*statuses: int, **described: str) -> dict[int, OpenAPIResponse]:
    """OpenAPI error responses of a route: the common ones plus `statuses`."""
    extra = {
        404: 'not found',
        409: 'conflicts with the current state',
        412: 'changed by someone else since you read it',
        428: 'If-Match is required',
    }
    out = dict(ERROR_RESPONSES)
    for status in statuses:
        out[status] = {'description': extra[status], 'content': {PROBLEM_JSON: {'model': Problem}}}
    for name, text in described.items():  # success statuses without a body: status_302='...'
        out[int(name.removeprefix('status_'))] = {'description': text}
    return out


def register(app: APIGatewayHttpResolver) -> None:
    """Map every error to a problem: domain errors by class, never by message text."""

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        errors = _field_errors(exc)
        return problem(422, _summary(errors) or 'the request is not valid', errors=errors)

    @app.exception_handler(RouteNotFoundError)  # type: ignore[untyped-decorator]
    def _no_route(exc: RouteNotFoundError) -> Response[Any]:
        from .access import allowed_methods, request_path  # access answers 401/403 with our problems

        path = request_path(app.current_event.raw_event)
        method = app.current_event.http_method
        allowed = allowed_methods(app, path)
        if allowed:
            return problem(405, f'{path} answers {", ".join(allowed)}, not {method}', Allow=', '.join(allowed))
        return problem(404, f'there is no {method} {path}; see /openapi.json')

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _not_json(exc: RequestUnsupportedContentType) -> Response[Any]:
        return problem(415, 'send the body as JSON, with Content-Type: application/json')

    @app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]
    def _service_error(exc: ServiceError) -> Response[Any]:
        return problem(
            exc.status_code, str(exc.msg) if isinstance(exc.msg, str) else HTTPStatus(exc.status_code).phrase
        )

    def unexpected(exc: Exception) -> Response[Any]:
        # The type and where, not the message: messages can quote request content.
        logger.error(
            'unhandled error',
            error=f'{type(exc).__module__}.{type(exc).__qualname__}',
            path=app.current_event.path,
            stack=traceback.format_tb(exc.__traceback__),
        )
        return problem(500, 'something went wrong on our side; it was logged, please retry later')

    app.exception_handler(Exception)(unexpected)

    @app.exception_handler(InboxdeskError)  # type: ignore[untyped-decorator]
    def _domain_error(exc: InboxdeskError) -> Response[Any]:
        status = status_of(exc)
        if status is None:
            return unexpected(exc)
        return problem(status, f'{exc or HTTPStatus(status).phrase.lower()}{_RETRY_HINT.get(status, "")}')
