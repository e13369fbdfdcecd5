"""Fire scheduled functions, as EventBridge rules / Scheduler would: moto stores schedules but never fires them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from inboxdesk_cli.aws_events import LambdaContext, scheduled_event
from inboxdesk_cli.local.background import BackgroundLoop
from inboxdesk_cli.local.worker import Handler

logger = logging.getLogger('inboxdesk_dev')


@dataclass
class ScheduledFunction(BackgroundLoop):
    """Call `handler` every `every_seconds` (first call after one interval) in a background thread."""

    handler: Handler
    function_name: str
    every_seconds: float
    region: str = 'eu-west-1'
    account: str = '123456789012'

    @property
    def _thread_name(self) -> str:
        return f'schedule-{self.function_name}'

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            self.fire()

    def fire(self) -> Any:
        """One scheduled invocation; a failure is logged (Lambda would retry it), never raised."""
        event = scheduled_event(rule_name=f'{self.function_name}-schedule', region=self.region, account=self.account)
        context = LambdaContext(function_name=self.function_name, region=self.region, account=self.account)
        try:
            return self.handler(event, context)
        except Exception as error:
            logger.warning('%s: the scheduled run failed (%s)', self.function_name, type(error).__name__)
            return None
