"""Scheduled functions in the dev runtime: fired on their interval, with EventBridge's event, surviving failures."""

from __future__ import annotations

import threading
from typing import Any

from inboxdesk_cli.local.scheduler import ScheduledFunction


def test_a_scheduled_function_runs_on_its_interval_even_after_a_failure():
    # Given a scheduled handler that fails on its first run
    calls: list[tuple[dict[str, Any], str]] = []
    third = threading.Event()

    def handler(event, context):
        calls.append((event, context.function_name))
        if len(calls) >= 3:
            third.set()
        if len(calls) == 1:
            raise RuntimeError('first run fails')
        return {'requeued': 0}

    schedule = ScheduledFunction(handler=handler, function_name='inboxdesk-requeue-local', every_seconds=0.05)

    # When the schedule runs for a while
    schedule.start()
    try:
        assert third.wait(10)
    finally:
        schedule.stop()

    # Then it kept firing after the failure, each time with a scheduled EventBridge event
    event, function_name = calls[1]
    assert function_name == 'inboxdesk-requeue-local'
    assert event['detail-type'] == 'Scheduled Event'
    assert event['source'] == 'aws.events'
    assert event['resources'] == ['arn:aws:events:eu-west-1:123456789012:rule/inboxdesk-requeue-local-schedule']
