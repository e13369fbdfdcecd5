"""cfn-lint and cdk-nag (AwsSolutions) on the synthesized app."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, synth_context

LINT_REGIONS = ['us-east-1', 'eu-west-1']  # regions where SES receives mail


@dataclass(frozen=True)
class Ack:
    path: str
    rule_id: str
    reason: str


@dataclass
class Unacknowledged:
    """A synth of the app with every acknowledgement withheld (and recorded), and the rule-set activation on."""

    error: str
    findings: set[tuple[str, str]]  # (rule id with finding, construct path)
    acks: list[Ack]
    template_file: Path


@pytest.fixture(scope='session')
def unacknowledged(tmp_path_factory: pytest.TempPathFactory) -> Unacknowledged:
    import infra.nag
    from infra.app import build_app

    acks: list[Ack] = []

    class RecordingValidations:  # stands in for aws_cdk.Validations inside infra.nag only
        @staticmethod
        def of(scope: Any) -> Any:
            class _Recorder:
                def acknowledge(self, ack: Any) -> None:
                    acks.append(Ack(scope.node.path, ack.id, ack.reason))

            return _Recorder()

    outdir = tmp_path_factory.mktemp('cdk.out.unacknowledged')
    context = synth_context(**{'inboxdesk:activateReceiptRuleSet': True, 'inboxdesk:alarmEmail': 'ops@example.com'})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(infra.nag, 'Validations', RecordingValidations)
        app, stack = build_app(context, outdir=str(outdir))
        with pytest.raises(Exception) as failure:  # noqa: PT011 - jsii wraps the CDK ValidationError
            app.synth()
    report = json.loads((outdir / 'validation-report.json').read_text())
    findings = {
        (violation['ruleName'], construct['constructPath'])
        for plugin in report['pluginReports']
        for violation in plugin['violations']
        for construct in violation['violatingConstructs']
    }
    return Unacknowledged(str(failure.value), findings, acks, outdir / f'{stack.artifact_id}.template.json')


def _errors(template_file: Path) -> list[str]:
    from cfnlint.api import lint_file  # type: ignore[import-untyped]
    from cfnlint.config import ManualArgs  # type: ignore[import-untyped]

    matches = lint_file(template_file, config=ManualArgs(regions=LINT_REGIONS))
    return [f'{m.rule.id} {m.message} ({m.filename}:{m.linenumber})' for m in matches if m.rule.id.startswith('E')]


def test_cfn_lint_finds_no_errors_in_the_template(synthesized: Synthesized) -> None:
    # Given the template `cdk synth` writes with cdk.json's context
    # When cfn-lint checks it
    errors = _errors(synthesized.template_file)
    # Then it reports no errors (warnings about CDK's own DependsOn are allowed)
    assert errors == []


def test_cfn_lint_finds_no_errors_with_rule_set_activation_and_alarm_email(unacknowledged: Unacknowledged) -> None:
    # Given the template with the optional custom resource and the email subscription
    # When cfn-lint checks it
    errors = _errors(unacknowledged.template_file)
    # Then it reports no errors
    assert errors == []


def test_cdk_nag_findings_fail_synth(unacknowledged: Unacknowledged) -> None:
    # Given the app synthesized without its acknowledgements
    # Then synth failed on AwsSolutions findings
    assert unacknowledged.error.startswith('ValidationFailed')
    assert unacknowledged.findings
    assert all(rule.startswith('AwsSolutions-') for rule, _ in unacknowledged.findings)


def test_every_acknowledgement_answers_a_real_finding_with_a_reason(unacknowledged: Unacknowledged) -> None:
    # Given what cdk-nag finds when nothing is acknowledged, and the acknowledgements the app makes
    findings, acks = unacknowledged.findings, unacknowledged.acks

    def covers(ack: Ack, finding: tuple[str, str]) -> bool:
        rule, path = finding
        return ack.rule_id == rule and (path == ack.path or path.startswith(f'{ack.path}/'))

    # Then every finding is acknowledged (so the real synth passes) ...
    assert [f for f in sorted(findings) if not any(covers(a, f) for a in acks)] == []
    # ... and every acknowledgement answers at least one finding (none is stale) with a written reason
    assert [a for a in acks if not any(covers(a, f) for f in findings)] == []
    assert [a for a in acks if len(a.reason.strip()) < 20] == []


def test_the_synthesized_app_records_every_acknowledgement_with_its_reason(synthesized: Synthesized) -> None:
    # Given the app `cdk synth` builds (which passed cdk-nag in the fixture)
    from aws_cdk import Validations

    # When collecting the acknowledgements recorded in the construct tree
    recorded = [
        (construct.node.path, rule, reason)
        for construct in synthesized.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    ]
    # Then there are some, each naming an AwsSolutions rule and carrying a non-empty reason
    assert recorded
    assert [r for r in recorded if 'AwsSolutions-' not in r[1] or not str(r[2]).strip()] == []
