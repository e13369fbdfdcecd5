"""Logger and metrics shared by the domain package and the handlers (Powertools; no X-Ray SDK: cold start).

The service name comes from POWERTOOLS_SERVICE_NAME (set per function); metrics go to namespace `Inboxdesk`.
Never log mail bodies, subjects or secrets: log ids and S3 keys."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service=os.environ.get('POWERTOOLS_SERVICE_NAME', 'inboxdesk'))
metrics = Metrics(namespace=os.environ.get('POWERTOOLS_METRICS_NAMESPACE', 'Inboxdesk'))


def count(name: str, value: int = 1) -> None:
    """Add one count metric (PascalCase event name, e.g. `InboundMailCreated`)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
