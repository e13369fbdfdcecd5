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
