"""CDK entry point (`cdk.json`: `.venv/bin/python -m infra.app`). Environment-agnostic: no account, no Docker.

cdk-nag's AwsSolutions pack runs as a CDK validation plugin: any unacknowledged finding fails synth.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra.constants import STACK_ID
from infra.stack import InboxdeskStack


def build_app(context: dict[str, Any] | None = None, *, outdir: str | None = None) -> tuple[App, InboxdeskStack]:
    """The app with its one stack; tests pass the context that `cdk` would read from cdk.json."""
    app = App(context=context, outdir=outdir)
    stack = InboxdeskStack(app, STACK_ID, description='Inboxdesk: serverless helpdesk email channel')
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == '__main__':
    main()
