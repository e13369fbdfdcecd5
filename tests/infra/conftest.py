"""Synthesize the CDK app once per session (CDK synth is slow): the template every infra test reads.

The context is cdk.json's, as `cdk synth` reads it, with asset bundling skipped (no network in tests)
and two creation-address domains, so that "one receipt rule per domain" is visible.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20')  # before jsii starts node

REPO = Path(__file__).resolve().parents[2]
MAIL_DOMAINS = ['support.example.com', 'help.example.org']


def synth_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO / 'cdk.json').read_text())['context']
    context['aws:cdk:bundling-stacks'] = []  # skip the pip bundling of the dependencies layer
    context['inboxdesk:mailDomains'] = MAIL_DOMAINS
    context.update(overrides)
    return context


@dataclass
class Synthesized:
    context: dict[str, Any]
    stack: Any  # infra.stack.InboxdeskStack
    template: dict[str, Any]
    template_file: Path


@pytest.fixture(scope='session')
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from infra.app import build_app

    context = synth_context()
    app, stack = build_app(context, outdir=str(tmp_path_factory.mktemp('cdk.out')))
    assembly = app.synth()  # runs the cdk-nag validation plugin: an unacknowledged finding raises here
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    return Synthesized(
        context=context,
        stack=stack,
        template=artifact.template,
        template_file=Path(assembly.directory) / artifact.template_file,
    )


@pytest.fixture(scope='session')
def template(synthesized: Synthesized) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized.template)
