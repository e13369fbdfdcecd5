"""Logger and metrics shared by the domain package and the handlers (Powertools; no X-Ray SDK: cold start).

The service name comes from POWERTOOLS_SERVICE_NAME (set per function on AWS), else each function's own
name (`service_name`): under `inboxdesk dev` the functions share one process and one environment. `logger` is
the inbound function's; the API's loggers use `service_name(SERVICE_API)`. Metrics go to namespace `Inboxdesk`.
Never log mail bodies, subjects or secrets: log ids and S3 keys."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from inboxdesk.names import METRICS_NAMESPACE, SERVICE_INBOUND


def service_name(default: str) -> str:
    """POWERTOOLS_SERVICE_NAME when set, else `default` (the function's own name)."""
    return os.environ.get('POWERTOOLS_SERVICE_NAME') or default


logger = Logger(service=service_name(SERVICE_INBOUND))
metrics = Metrics(namespace=os.environ.get('POWERTOOLS_METRICS_NAMESPACE', METRICS_NAMESPACE))


def count(name: str, value: int = 1) -> None:
    """Add one count metric (PascalCase event name, e.g. `InboundMailCreated`)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
