"""Small readers over a synthesized CloudFormation template (a dict)."""

from __future__ import annotations

from typing import Any


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template['Resources'].items() if v['Type'] == resource_type}


def one(template: dict[str, Any], resource_type: str, prefix: str) -> tuple[str, dict[str, Any]]:
    """The single resource of `resource_type` whose logical id starts with `prefix` (construct path)."""
    found = [(k, v) for k, v in of_type(template, resource_type).items() if k.startswith(prefix)]
    assert len(found) == 1, f'expected one {resource_type} {prefix}*, found {[k for k, _ in found]}'
    return found[0]


def props(resource: dict[str, Any]) -> dict[str, Any]:
    return dict(resource.get('Properties', {}))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements_of_role(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of every IAM policy attached to the role `role_id`."""
    found = []
    for policy in of_type(template, 'AWS::IAM::Policy').values():
        if {'Ref': role_id} in props(policy).get('Roles', []):
            found.extend(props(policy)['PolicyDocument']['Statement'])
    return found


def resources_for(statements: list[dict[str, Any]], action: str) -> list[Any]:
    """The resources that `action` is allowed on, across `statements`."""
    return [
        resource
        for statement in statements
        if statement['Effect'] == 'Allow' and action in as_list(statement['Action'])
        for resource in as_list(statement['Resource'])
    ]


def arn_suffix(resource: Any, logical_id: str) -> str | None:
    """For `{"Fn::Join": ["", [{"Fn::GetAtt": [logical_id, "Arn"]}, "/raw/*"]]}`, the suffix `/raw/*`."""
    if isinstance(resource, dict) and 'Fn::Join' in resource:
        parts = resource['Fn::Join'][1]
        if parts and parts[0] == {'Fn::GetAtt': [logical_id, 'Arn']}:
            return ''.join(p for p in parts[1:] if isinstance(p, str))
    if resource == {'Fn::GetAtt': [logical_id, 'Arn']}:
        return ''
    return None
