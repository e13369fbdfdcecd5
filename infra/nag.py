"""cdk-nag acknowledgements: every one names the finding and says why it is acceptable."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (`AwsSolutions-IAM5[Resource::...]` names a single finding) on `scope`."""
    if not reason.strip():
        raise ValueError(f'acknowledgement of {rule_id} needs a reason')
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
