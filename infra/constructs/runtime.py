"""The Lambda runtime every function shares: the two layers, and a function with Inboxdesk's defaults.

No Docker: the dependencies layer is bundled locally (`PipBundling`): it reuses `make build`'s
`.build/deps/python` when that is newer than `layers/deps/requirements.txt`, and otherwise runs
`infra.build_layer.build` (manylinux2014_aarch64 wheels for 3.12, AWS SDK pruned, 3.12 bytecode when possible).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, Duration, ILocalBundling, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from inboxdesk import names
from infra import build_layer
from infra.constants import (
    ASSET_EXCLUDES,
    DEPS_LAYER_DIR,
    DOMAIN_LAYER_DIR,
    FUNCTIONS_DIR,
    LAMBDA_PYTHON_VERSION,
    PREBUILT_DEPS_DIR,
)
from infra.nag import acknowledge

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64


def _newest_mtime(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob('*')), default=0.0)


@jsii.implements(ILocalBundling)
class PipBundling:
    """Builds the dependencies layer on this machine, without Docker."""

    def try_bundle(self, output_dir: str, *_options: Any, **_kw: Any) -> bool:  # jsii passes options positionally
        target = Path(output_dir) / 'python'
        prebuilt = PREBUILT_DEPS_DIR / 'python'
        if prebuilt.is_dir() and _newest_mtime(prebuilt) >= build_layer.REQUIREMENTS.stat().st_mtime:
            shutil.copytree(prebuilt, target, dirs_exist_ok=True)  # `make build` already made it
        else:
            build_layer.build(target)
        return True


class Layers(Construct):
    """`domain`: our package (`/opt/python/inboxdesk`); `deps`: third-party packages for arm64 / Python 3.12."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.domain = lambda_.LayerVersion(
            self,
            'Domain',
            code=lambda_.Code.from_asset(str(DOMAIN_LAYER_DIR), exclude=ASSET_EXCLUDES),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description='Inboxdesk domain package (layers/inboxdesk)',
        )
        self.deps = lambda_.LayerVersion(
            self,
            'Deps',
            code=lambda_.Code.from_asset(
                str(DEPS_LAYER_DIR),
                bundling=BundlingOptions(
                    # CDK requires an image; it runs only when local bundling declines, which it never does
                    # (this plain pip install would keep the AWS SDK that build_layer prunes).
                    image=DockerImage.from_registry(f'public.ecr.aws/sam/build-python{LAMBDA_PYTHON_VERSION}'),
                    command=[
                        'bash',
                        '-c',
                        'pip install '
                        + ' '.join(build_layer.PIP_ARGS)
                        + ' --target /asset-output/python -r requirements.txt',
                    ],
                    local=PipBundling(),
                ),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description='Inboxdesk third-party dependencies (layers/deps/requirements.txt)',
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.deps, self.domain]


class InboxdeskFunction(Construct):
    """A Python 3.12 arm64 function from the shared `functions/` asset: JSON logs into its own log group
    (with retention), active tracing, and a role that holds only what the owning construct grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        service: str,
        layers: Layers,
        environment: dict[str, str],
        log_retention_days: int,
        memory_size: int = 512,
        timeout: Duration | None = None,
        reserved_concurrency: int | None = None,
        description: str = '',
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            'Logs',
            retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Our own role instead of AWSLambdaBasicExecutionRole: logs go to this one log group only.
        self.role = iam.Role(self, 'Role', assumed_by=iam.ServicePrincipal('lambda.amazonaws.com'))
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=['logs:CreateLogStream', 'logs:PutLogEvents'], resources=[self.log_group.log_group_arn]
            )
        )
        self.function = lambda_.Function(
            self,
            'Function',
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR), exclude=ASSET_EXCLUDES),
            layers=layers.all,
            role=self.role,
            environment={
                'POWERTOOLS_SERVICE_NAME': service,
                'POWERTOOLS_METRICS_NAMESPACE': names.METRICS_NAMESPACE,
                'POWERTOOLS_LOG_LEVEL': 'INFO',
                **environment,
            },
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            memory_size=memory_size,
            timeout=timeout or Duration.seconds(30),
            reserved_concurrent_executions=reserved_concurrency,
            description=description,
        )
        acknowledge(
            self.role,
            'AwsSolutions-IAM5[Resource::*]',
            'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions.',
        )
        acknowledge(
            self.function,
            'AwsSolutions-L1',
            f'Pinned to Python {LAMBDA_PYTHON_VERSION} on purpose: the dependencies layer is built for cp312 wheels.',
        )

    def consume(self, queue: sqs.IQueue, *, batch_size: int = 10, max_concurrency: int | None = None) -> None:
        """Invoke the function with batches of `queue`; it reports the records that failed (partial batch
        response), so only those are retried and, after the queue's maximum receives, dead-lettered."""
        self.function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=batch_size,
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )


def log_retention(days: int) -> logs.RetentionDays:
    """The smallest CloudWatch retention that keeps logs at least `days` days."""
    for limit, retention in _RETENTIONS:
        if limit >= days:
            return retention
    return logs.RetentionDays.TEN_YEARS


R = logs.RetentionDays
_RETENTIONS = [
    (1, R.ONE_DAY),
    (3, R.THREE_DAYS),
    (7, R.ONE_WEEK),
    (14, R.TWO_WEEKS),
    (30, R.ONE_MONTH),
    (60, R.TWO_MONTHS),
    (90, R.THREE_MONTHS),
    (180, R.SIX_MONTHS),
    (365, R.ONE_YEAR),
    (731, R.TWO_YEARS),
    (1827, R.FIVE_YEARS),
]
