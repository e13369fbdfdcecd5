"""Who may call which route, declared once per route as its OpenAPI `security` and enforced here.

`security=AGENTS` (agents and admins) or `ADMINS`; a route without security is public only when it
is listed in `PUBLIC_ROUTES` (the API Gateway routes without the JWT authorizer), otherwise it is
treated as admin-only (fail closed). The check runs before routing, so an anonymous caller gets
401 before any validation, as from the JWT authorizer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, cast

from inboxdesk.auth import Caller, Role, caller_from_claims
from inboxdesk.names import ADMINS_GROUP, AGENTS_GROUP, PUBLIC_ROUTES

from .problems import problem_result

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.api_gateway import Route, Router
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

SCHEME: Final = 'jwt'
AGENTS: Final = [{SCHEME: [AGENTS_GROUP]}]
ADMINS: Final = [{SCHEME: [ADMINS_GROUP]}]


def required_role(route: Route) -> Role | None:
    """None for a public route."""
    if not route.security and (route.method, route.path) in PUBLIC_ROUTES:
        return None
    if route.security == AGENTS:
        return Role.AGENT
    return Role.ADMIN


def routes(app: APIGatewayHttpResolver) -> list[Route]:
    """Every registered route (Powertools keeps them in these two lists)."""
    return list(app._static_routes) + list(app._dynamic_routes)


def find_route(app: APIGatewayHttpResolver, method: str, path: str) -> Route | None:
    for route in routes(app):
        if route.method == method and route.rule.match(path):
            return route
    return None


def allowed_methods(app: APIGatewayHttpResolver, path: str) -> list[str]:
    """The methods some route answers on `path` (the `Allow` header of a 405); empty for an unknown path."""
    return sorted({route.method for route in routes(app) if route.rule.match(path)})


def _claims(event: dict[str, Any]) -> dict[str, Any] | None:
    authorizer = (event.get('requestContext') or {}).get('authorizer') or {}
    claims = (authorizer.get('jwt') or {}).get('claims')
    return claims if isinstance(claims, dict) else None


def request_path(event: dict[str, Any]) -> str:
    """The path the routes see: API Gateway's raw path without a named stage."""
    context = event.get('requestContext') or {}
    path = str(event.get('rawPath') or (context.get('http') or {}).get('path') or '/')
    stage = context.get('stage')
    if stage and stage != '$default' and path.startswith(f'/{stage}/'):
        path = path[len(stage) + 1 :]
    return path


def deny(app: APIGatewayHttpResolver, event: dict[str, Any]) -> dict[str, Any] | None:
    """The 401/403 answer for this event, or None when the caller may go on."""
    method = str(((event.get('requestContext') or {}).get('http') or {}).get('method', 'GET')).upper()
    route = find_route(app, method, request_path(event))
    if route is None:
        return None  # routing answers 404
    needed = required_role(route)
    if needed is None:
        return None
    caller = caller_from_claims(_claims(event))
    if caller is None:
        return problem_result(401, 'sign in: send a valid bearer token', **{'WWW-Authenticate': 'Bearer'})
    if caller.role is None or not caller.role.allows(needed):
        return problem_result(403, f'only {needed.value}s may do this; ask an admin for access')
    return None


def current_caller(router: Router | APIGatewayHttpResolver) -> Caller:
    """The verified caller of the current request (routes behind AGENTS or ADMINS only)."""
    event = cast('APIGatewayProxyEventV2', router.current_event)
    caller = caller_from_claims(event.request_context.authorizer.jwt_claim or None)
    if caller is None:  # unreachable behind `deny`; kept so a misconfigured route fails closed
        raise PermissionError('no caller')
    return caller


def actor(router: Router | APIGatewayHttpResolver) -> str:
    """How the caller is recorded on what they change: their verified email, else their subject (`sub`)."""
    caller = current_caller(router)
    return caller.email or caller.sub
