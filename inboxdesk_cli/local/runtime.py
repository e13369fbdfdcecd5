"""The whole system on one machine (`inboxdesk dev`): embedded AWS, SES-like SMTP, handler workers, API,
and a mail catcher for SMTP channels.

Start order: ports checked -> moto server -> environment and resources (`provision`) -> the default
queue -> the SMTP catcher (its host allowed and its CA trusted, here only) -> the workers of the inbound,
reply-sender and SES-feedback functions -> SES's delivery events for what moto's SES sent -> SMTP -> API
-> schedules. `stop()` undoes it in reverse and may be called after a partial start. The handlers are
imported as the modules they are on Lambda (`inbound.handler`, `api.handler`: the editable install makes
`functions/`'s packages importable).

Logs: every handler module the runtime loads (queue workers, the API, scheduled functions) has its
Powertools JSON lines written to `<data_dir>/logs/handlers.jsonl` (stdout with `verbose`); the console
shows only the one-line outcomes (`outcomes.OutcomeLogHandler`). Each function logs under its own
service name (`inboxdesk.observability.service_name`), as on AWS.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Protocol

from inboxdesk import resources as r
from inboxdesk_cli.data_dir import DEFAULT_DATA_DIR
from inboxdesk_cli.local.smtp_catcher import CATCHER_USER
from inboxdesk_cli.local.worker import QueueWorker

console = logging.getLogger('inboxdesk_dev')

DEFAULT_QUEUE_ADDRESS = 'support@inboxdesk.test'
REPLY_SWEEP_SECONDS = 60.0  # faster than on AWS, so its effect shows while you watch


class Startable(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class DevSettings:
    host: str = '127.0.0.1'
    aws_port: int = 5000
    smtp_port: int = 2525
    api_port: int = 8000
    catcher_port: int = 1025  # the SMTP catcher that SMTP channels can point to
    data_dir: Path = DEFAULT_DATA_DIR  # the handlers' logs and the key that signs the dev API's tokens
    poll_seconds: int = 1
    verbose: bool = False  # keep the handlers' JSON logs on stdout instead of `<data_dir>/logs/`

    @property
    def aws_endpoint(self) -> str:
        return f'http://{self.host}:{self.aws_port}'


def trust_bundle(extra_ca: Path, data_dir: Path) -> Path:
    """The usual public CAs (certifi's) and `extra_ca`, in one file: what the dev runtime's TLS clients trust."""
    import certifi

    bundle = data_dir / 'tls' / 'trust.pem'
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_text(Path(certifi.where()).read_text(encoding='ascii') + '\n' + extra_ca.read_text(encoding='ascii'))
    return bundle


def powertools_loggers(module: ModuleType) -> list[logging.Logger]:
    """The standard loggers behind the Powertools `Logger`s a handler module defines."""
    from aws_lambda_powertools import Logger

    found = [logging.getLogger(value.service) for value in vars(module).values() if isinstance(value, Logger)]
    return found or [logging.getLogger(os.environ.get('POWERTOOLS_SERVICE_NAME', 'service_undefined'))]


@dataclass
class DevRuntime:
    settings: DevSettings
    endpoints: dict[str, str] = field(default_factory=dict)
    _started: list[tuple[str, Startable]] = field(default_factory=list)
    _log_stream: IO[str] | None = None
    # JSON handlers moved to handlers.jsonl, each with the stream it had (restored on stop)
    _redirected: list[tuple[logging.StreamHandler[IO[str]], IO[str]]] = field(default_factory=list)
    _outcome_handlers: list[tuple[logging.Logger, logging.Handler]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what did not start, for the banner
    catcher_password: str = ''

    def start(self) -> None:
        from inboxdesk_cli.local.embedded_aws import EmbeddedAws, check_ports

        s = self.settings
        check_ports(s.host, {'aws': s.aws_port, 'smtp': s.smtp_port, 'api': s.api_port, 'smtp catcher': s.catcher_port})
        aws = EmbeddedAws(s.host, s.aws_port)
        aws.start()
        self._started.append(('embedded AWS', aws))
        self.endpoints['aws'] = aws.endpoint
        self._set_environment()
        from inboxdesk_cli.local.provision import create_resources

        created = create_resources()
        self._verify_mail_domains()
        self._ensure_default_queue()
        self._start_catcher()
        self._start_workers(feedback_queue_url=created['FEEDBACK_QUEUE'])
        self._start_ses_events(feedback_queue_url=created['FEEDBACK_QUEUE'], topic_arn=created['FEEDBACK_TOPIC'])
        self._start_smtp(topic_arn=created['INBOUND_TOPIC'])
        self._start_api()
        self._start_schedules()

    def stop(self) -> None:
        """Stop everything started so far, newest first; never raises."""
        from inboxdesk_cli.data_dir import forget_running

        forget_running()
        while self._started:
            name, part = self._started.pop()
            try:
                part.stop()
            except Exception:
                console.exception('stopping %s failed', name)
        for logger, handler in self._outcome_handlers:
            logger.removeHandler(handler)
        self._outcome_handlers.clear()
        for json_handler, previous in self._redirected:
            json_handler.setStream(previous)
        self._redirected.clear()
        if self._log_stream is not None:
            self._log_stream.close()
            self._log_stream = None

    def describe(self) -> list[str]:
        """Where everything listens, for the start banner."""
        s = self.settings
        port = '' if s.aws_port == DevSettings.aws_port else f' --aws-port {s.aws_port}'
        return [
            f'embedded AWS (moto)   {self.endpoints.get("aws", "-")}   (export AWS_ENDPOINT_URL={s.aws_endpoint})',
            f'SMTP (as SES inbound) {self.endpoints.get("smtp", "-")}   accepts mail for the address of every queue'
            ' (others get 550):',
            *(f'  {address:<20} queue {name}' for name, address in self.accepted_addresses()),
            f'API                   {self.endpoints.get("api", "-")}',
            '  a token:            inboxdesk token --role agent --email you@example.org',
            f'SMTP catcher          {self.endpoints.get("catcher", "-")}   STARTTLS, AUTH PLAIN/LOGIN as'
            f' {CATCHER_USER} / {self.catcher_password or "-"}',
            '  for SMTP channels:  host 127.0.0.1, port'
            f' {s.catcher_port}, tls_mode starttls; what it caught: inboxdesk outbox --smtp',
            'replies through SES   kept by the embedded SES, reported delivered; list them: inboxdesk outbox',
            f'ingest queue          {os.environ.get(r.ENV_INGEST_QUEUE_URL, "-")}',
            f'outbound queue        {os.environ.get(r.ENV_OUTBOUND_QUEUE_URL, "-")}',
            f'data folder           {s.data_dir}   (the signing key jwt.key, and the logs)',
            f'handler logs (JSON)   {"stdout" if s.verbose else s.data_dir / "logs" / "handlers.jsonl"}',
            *self.notes,
            f'list tickets with `inboxdesk tickets{port}`; stop with Ctrl-C',
        ]

    def accepted_addresses(self) -> list[tuple[str, str]]:
        """(queue name, address) for every inbound address of every queue: what the SMTP door accepts."""
        from inboxdesk.dal import queues

        return [(queue.name, address) for queue in queues.list_queues() for address in queue.inbound_addresses]

    def _set_environment(self) -> None:
        from inboxdesk_cli.local.provision import local_environment

        os.environ.update(local_environment(self.settings.aws_endpoint))
        os.environ.setdefault(r.ENV_OWN_DOMAINS, DEFAULT_QUEUE_ADDRESS.split('@', 1)[1])
        os.environ.setdefault('POWERTOOLS_TRACE_DISABLED', 'true')  # no X-Ray daemon here
        os.environ.setdefault('POWERTOOLS_METRICS_DISABLED', 'true')  # EMF lines would flood the console
        os.environ.setdefault('POWERTOOLS_LOG_LEVEL', 'INFO')

    def _verify_mail_domains(self) -> None:
        """Replies leave through SES from the queues' own addresses: the embedded SES knows the dev mail domains
        as verified, as a deployed stack's SES knows its own."""
        import boto3

        ses = boto3.client('sesv2')
        for domain in (d.strip() for d in os.environ.get(r.ENV_OWN_DOMAINS, '').split(',')):
            if domain:
                ses.create_email_identity(EmailIdentity=domain)

    def _ensure_default_queue(self) -> None:
        """The default queue, owning the address the SMTP server accepts (the embedded AWS starts empty)."""
        from inboxdesk.logic.queues import ensure_default_queue
        from inboxdesk.names import DEFAULT_QUEUE_NAME

        ensure_default_queue(name=DEFAULT_QUEUE_NAME, inbound_addresses=[DEFAULT_QUEUE_ADDRESS])

    def _start_workers(self, *, feedback_queue_url: str) -> None:
        """One worker per queue-triggered function, as the CDK app's SQS event sources (moto runs no Lambdas)."""
        import boto3

        import inbound.handler
        import outbound.feedback
        import outbound.handler

        functions = [
            (inbound.handler, os.environ[r.ENV_INGEST_QUEUE_URL], 'inboxdesk-inbound-local'),
            (outbound.handler, os.environ[r.ENV_OUTBOUND_QUEUE_URL], 'inboxdesk-outbound-local'),
            (outbound.feedback, feedback_queue_url, 'inboxdesk-feedback-local'),
        ]
        sqs = boto3.client('sqs')
        for module, queue_url, function_name in functions:
            self.hook_logs(module)
            worker = QueueWorker(
                sqs=sqs,
                queue_url=queue_url,
                handler=module.lambda_handler,
                function_name=function_name,
                wait_seconds=self.settings.poll_seconds,
            )
            worker.start()
            self._started.append((f'{function_name} worker', worker))

    def hook_logs(self, module: ModuleType) -> None:
        """Outcome lines of `module`'s loggers on the console; their JSON lines to
        `<data_dir>/logs/handlers.jsonl` unless verbose (once per logger; one file for all)."""
        from inboxdesk_cli.local.outcomes import OutcomeLogHandler

        for logger in powertools_loggers(module):
            if any(hooked is logger for hooked, _ in self._outcome_handlers):
                continue
            handler = OutcomeLogHandler()
            logger.addHandler(handler)
            self._outcome_handlers.append((logger, handler))
            json_handler = getattr(logger, 'powertools_handler', None)
            if not self.settings.verbose and isinstance(json_handler, logging.StreamHandler):
                previous = json_handler.setStream(self._handler_log())
                if previous is not None:
                    self._redirected.append((json_handler, previous))

    def _handler_log(self) -> IO[str]:
        if self._log_stream is None:
            log_dir = self.settings.data_dir / 'logs'
            log_dir.mkdir(parents=True, exist_ok=True)
            self._log_stream = (log_dir / 'handlers.jsonl').open('a', encoding='utf-8')
        return self._log_stream

    def _start_catcher(self) -> None:
        """The SMTP catcher; the reply sender may connect to its loopback host (the dev runtime's allow-list
        only) and trusts its CA besides the usual ones."""
        from inboxdesk_cli.local.smtp_catcher import SmtpCatcher

        s = self.settings
        catcher = SmtpCatcher(s.data_dir, host=s.host, port=s.catcher_port)
        os.environ[r.ENV_SMTP_HOST_ALLOW_LIST] = ','.join(dict.fromkeys([s.host, 'localhost']))
        os.environ['SSL_CERT_FILE'] = str(trust_bundle(catcher.certificates.ca_file, s.data_dir))
        catcher.start()
        self._started.append(('SMTP catcher', catcher))
        self.catcher_password = catcher.password
        self.endpoints['catcher'] = f'smtp://{s.host}:{s.catcher_port}'

    def _start_ses_events(self, *, feedback_queue_url: str, topic_arn: str) -> None:
        import boto3

        from inboxdesk_cli.local.ses_events import SesDeliveryReporter

        reporter = SesDeliveryReporter(
            sqs=boto3.client('sqs'),
            endpoint=self.settings.aws_endpoint,
            feedback_queue_url=feedback_queue_url,
            topic_arn=topic_arn,
            configuration_set=os.environ[r.ENV_SES_CONFIGURATION_SET],
            region=os.environ.get('AWS_DEFAULT_REGION', 'eu-west-1'),
            every_seconds=float(self.settings.poll_seconds),
        )
        reporter.start()
        self._started.append(('SES delivery events', reporter))

    def _start_smtp(self, *, topic_arn: str) -> None:
        import boto3

        from inboxdesk.dal import queues
        from inboxdesk_cli.local.ses_inbound import SesInbound, SmtpGateway

        def accepts(address: str) -> bool:
            return queues.find_queue_by_address(address) is not None

        handler = SesInbound(
            s3=boto3.client('s3'),
            sqs=boto3.client('sqs'),
            bucket=os.environ[r.ENV_MAIL_BUCKET],
            queue_url=os.environ[r.ENV_INGEST_QUEUE_URL],
            topic_arn=topic_arn,
            accepts=accepts,
        )
        gateway = SmtpGateway(handler, host=self.settings.host, port=self.settings.smtp_port)
        gateway.start()
        self._started.append(('SMTP', gateway))
        self.endpoints['smtp'] = f'smtp://{self.settings.host}:{self.settings.smtp_port}'

    def _start_schedules(self) -> None:
        """The reply sweep, as the CDK app's schedule runs it (moto stores schedules but never fires them)."""
        import outbound.sweep
        from inboxdesk_cli.local.scheduler import ScheduledFunction

        function_name = 'inboxdesk-reply-sweep-local'
        handler = outbound.sweep.lambda_handler
        region = os.environ.get('AWS_DEFAULT_REGION', 'eu-west-1')
        schedule = ScheduledFunction(
            handler=handler, function_name=function_name, every_seconds=REPLY_SWEEP_SECONDS, region=region
        )
        schedule.start()
        self._started.append((f'{function_name} schedule', schedule))
        self.notes.append(f'{function_name}: runs every {REPLY_SWEEP_SECONDS:g} s')

    def _start_api(self) -> None:
        """The API as API Gateway would serve it, verifying tokens signed with the data folder's key."""
        import api.handler
        from inboxdesk_cli.data_dir import record_running, signing_key
        from inboxdesk_cli.local.api_server import ApiServer

        server = ApiServer(self.settings.host, self.settings.api_port, key=signing_key(self.settings.data_dir))
        self.hook_logs(api.handler)
        server.start()
        self._started.append(('API', server))
        self.endpoints['api'] = server.url
        record_running(self.settings.data_dir, server.url)
