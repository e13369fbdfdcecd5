"""Mail loops: an autoresponder that answers every mail it receives, pointed at a queue that acknowledges new
tickets, through the real inbound function, reply sender and moto's SES, for a fixed number of rounds. What
Inboxdesk sends stays within the limits on automatic mail, however the responder behaves."""

from __future__ import annotations

from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import boto3
import pytest

from tests.integration.test_inbound_handler import SUPPORT
from tests.integration.test_outbound_handler import send, ses_outbox
from tests.integration.test_reply_tokens_and_acknowledgements import arrive, outbound_jobs
from tests.support.api import ADMIN, call

ROUNDS = 50
RESPONDER = 'robot@responder.test'
Responder = Callable[[EmailMessage, int], EmailMessage]


def polite(received: EmailMessage, round_: int) -> EmailMessage:
    """An RFC 3834 autoresponder: marked auto-replied, answering the mail it got."""
    answer = _answer(received, f'Automatic reply: {received["Subject"]}')
    answer['Auto-Submitted'] = 'auto-replied'
    answer['In-Reply-To'] = str(received['Message-ID'])
    answer['References'] = str(received['Message-ID'])
    return answer


def broken(received: EmailMessage, round_: int) -> EmailMessage:
    """A responder that claims to be a person (`Auto-Submitted: no`), keeps no header of ours, writes to the
    plain From address with a new subject each time, and quotes nothing."""
    answer = _answer(received, f'Your ticket update {round_}: we are away')
    answer['Auto-Submitted'] = 'no'
    return answer


def _answer(received: EmailMessage, subject: str) -> EmailMessage:
    answer = EmailMessage()
    answer['From'] = f'Robot <{RESPONDER}>'
    answer['To'] = SUPPORT
    answer['Subject'] = subject
    answer['Message-ID'] = make_msgid(domain='responder.test')
    answer.set_content('I am out of the office until further notice.')
    return answer


@pytest.fixture
def acknowledging_queue(aws, moto_endpoint) -> str:
    boto3.client('sesv2').create_email_identity(EmailIdentity='inboxdesk.test')
    body = {'name': 'Support', 'inbound_addresses': [SUPPORT], 'auto_acknowledge': {'enabled': True}}
    assert call('POST', '/queues', claims=ADMIN, body=body)[0] == 201
    return moto_endpoint


def exchange(moto: str, responder: Responder) -> tuple[int, int]:
    """Run ROUNDS rounds: the responder's mail is ingested, queued replies are sent, and the responder answers
    each mail that reached it. Returns (mails Inboxdesk sent, mails the responder sent)."""
    inbox = [_answer(EmailMessage(), 'Hello')]  # the responder writes first
    inbox[0].replace_header('Subject', 'Is anyone there?')
    ours = theirs = 0
    for round_ in range(ROUNDS):
        for mail in inbox:
            arrive(mail)
            theirs += 1
        for job in outbound_jobs():
            assert send(job) == {'batchItemFailures': []}
        sent = ses_outbox(moto)
        fresh, ours = sent[ours:], len(sent)
        received = [_parsed(m['raw_data']) for m in fresh if any(RESPONDER in d for d in m['destinations'])]
        inbox = [responder(mail, round_) for mail in received]
    return ours, theirs


def _parsed(raw: str | bytes) -> EmailMessage:
    return message_from_bytes(raw.encode() if isinstance(raw, str) else raw, policy=policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize('responder', [polite, broken], ids=['polite', 'broken'])
def test_an_autoresponder_loop_stays_within_the_limits(acknowledging_queue, responder, capsys):
    # Given a queue that acknowledges new tickets, and an autoresponder that answers everything
    # When they exchange mail for ROUNDS rounds
    ours, theirs = exchange(acknowledging_queue, responder)
    with capsys.disabled():
        print(f'\n{responder.__name__} responder, {ROUNDS} rounds: Inboxdesk sent {ours}, the responder sent {theirs}')
    # Then Inboxdesk sent no more than the acknowledgement limit allows (at most 3 to one address in 10 minutes),
    # and the polite responder, whose answers are automatic replies on an existing ticket, got just one
    assert ours == (1 if responder is polite else 3)
    # And the exchange died out: the responder only answers what it receives
    assert theirs == ours + 1
