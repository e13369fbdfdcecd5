"""Who is calling: the claims API Gateway's JWT authorizer passes become a caller with one role."""

from typing import Any

from inboxdesk.auth import Role, caller_from_claims
from tests.support.events import claims_as_authorizer_context


def test_claims_from_the_authorizer_give_one_role():
    # Given claims as API Gateway passes them (array claims rendered as "[a b]") or as lists
    admin = claims_as_authorizer_context({'sub': 's1', 'cognito:groups': ['admins', 'agents'], 'exp': 5})
    assert admin['cognito:groups'] == '[admins agents]' and admin['exp'] == '5'

    # When they become callers, Then the strongest group wins and no group means no role
    def role(claims: dict[str, Any]) -> Role | None:
        caller = caller_from_claims(claims)
        assert caller is not None
        return caller.role

    assert role(admin) is Role.ADMIN
    assert role({'sub': 's2', 'cognito:groups': ['agents']}) is Role.AGENT
    assert role({'sub': 's3', 'cognito:groups': '[readers]'}) is None
    assert caller_from_claims({}) is None
    assert Role.ADMIN.allows(Role.AGENT) and not Role.AGENT.allows(Role.ADMIN)


# Who may call what: the policy, written out. A route the resolver has without a row here fails
# `test_every_route_has_a_row_and_every_row_a_route`; a row that is wrong fails the integration matrix
# (tests/integration/test_api_access.py), which calls each route as each caller.
OK = 'answered'  # neither 401 nor 403, and not a server error
POLICY: dict[tuple[str, str], dict[str, int | str]] = {
    ('GET', '/health'): {'anonymous': OK, 'agent': OK, 'admin': OK},
    ('GET', '/openapi.json'): {'anonymous': OK, 'agent': OK, 'admin': OK},
    ('GET', '/docs'): {'anonymous': OK, 'agent': OK, 'admin': OK},
    ('GET', '/tickets'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/tickets'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/by-number/<number>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/<ticket_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PATCH', '/tickets/<ticket_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/<ticket_id>/messages'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/tickets/<ticket_id>/messages/<message_id>/attachments/<attachment_id>'): {
        'anonymous': 401,
        'agent': OK,
        'admin': OK,
    },
    ('POST', '/tickets/<ticket_id>/replies'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/tickets/<ticket_id>/notes'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/attachments'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/attachments/<attachment_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/queues'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('POST', '/queues'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/queues/<queue_id>'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PATCH', '/queues/<queue_id>'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('DELETE', '/queues/<queue_id>'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/settings/outgoing-filter'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PUT', '/settings/outgoing-filter'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/settings/appearance'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('PUT', '/settings/appearance'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/customers'): {'anonymous': 401, 'agent': OK, 'admin': OK},
    ('GET', '/channels'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('POST', '/channels'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('GET', '/channels/<channel_id>'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('PATCH', '/channels/<channel_id>'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('DELETE', '/channels/<channel_id>'): {'anonymous': 401, 'agent': 403, 'admin': OK},
    ('POST', '/channels/<channel_id>/test'): {'anonymous': 401, 'agent': 403, 'admin': OK},
}


def test_every_route_has_a_row_and_every_row_a_route():
    # Given every route the API's resolver has
    from api.access import routes
    from api.handler import app

    served = {(route.method, route.path) for route in routes(app)}
    # Then the policy has a row for each, and no row for a route that does not exist
    assert sorted(served - POLICY.keys()) == [], 'add a row to POLICY for each new route'
    assert sorted(POLICY.keys() - served) == []
