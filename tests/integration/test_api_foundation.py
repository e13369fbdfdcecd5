"""What agents see through the API of mail the inbound function stored: every status lists, a styled mail
keeps its look, and errors that are not the caller's say nothing about themselves."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.integration.test_inbound_handler import SUPPORT, deliver, make_mail
from tests.support.api import ADMIN, AGENT, call

REPO = Path(__file__).resolve().parents[2]
STYLED_HTML = (
    '<div style="color: #1f2937; font-family: Georgia, serif">'
    '<p style="background-color: #fef3c7; padding: 8px">Our <font color="#b91c1c">invoice</font> is wrong</p>'
    '<table bgcolor="#e5e7eb"><tr><td style="border: 1px solid #9ca3af">total</td></tr></table>'
    '<img src="cid:logo@customer.test" alt="logo" width="120">'
    '<script>alert(1)</script></div>'
)


@pytest.fixture
def queue(aws):
    status, _, body = call('POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': [SUPPORT]})
    assert status == 201, body
    return body


def _styled_mail() -> EmailMessage:
    mail = make_mail(subject='Invoice', body='Our invoice is wrong')
    mail.add_alternative(STYLED_HTML, subtype='html')
    return mail


def test_spam_tickets_the_inbound_function_made_can_be_listed(queue):
    # Given a mail SES marked as spam, which ingestion files as a spam ticket, and an ordinary one
    deliver(make_mail(subject='WIN A PRIZE'), verdicts={'spam': 'FAIL'})
    deliver(make_mail(subject='Printer on fire'))
    # When an agent lists the spam tickets
    status, _, page = call('GET', '/tickets', claims=AGENT, query={'status': 'spam'})
    # Then the spam ticket is listed, and only it
    assert status == 200, page
    assert [(t['title'], t['status']) for t in page['items']] == [('WIN A PRIZE', 'spam')]


def test_a_styled_mail_keeps_its_style_colours_and_inline_image(queue):
    # Given a customer's mail styled with inline styles, colours, a table and an inline (cid:) image
    deliver(_styled_mail())
    _, _, page = call('GET', '/tickets', claims=AGENT)
    # When an agent reads the conversation
    status, _, messages = call('GET', f'/tickets/{page["items"][0]["id"]}/messages', claims=AGENT)
    # Then the HTML still carries its look, and still carries no script
    assert status == 200
    html = messages['items'][0]['html']
    for kept in ('color:#1f2937', 'background-color:#fef3c7', 'color="#b91c1c"', 'bgcolor="#e5e7eb"', 'cid:logo'):
        assert kept in html.replace(': ', ':'), kept
    assert '<script' not in html and 'alert(1)' not in html


def test_an_agents_styled_reply_and_note_are_shown_as_written_without_script(queue):
    # Given a ticket
    deliver(make_mail())
    _, _, page = call('GET', '/tickets', claims=AGENT)
    ticket_id = page['items'][0]['id']
    html = '<p style="color: #b91c1c">Fixed</p><img src="cid:sig" onerror="steal()"><script>x()</script>'
    # When an agent replies and writes a note in styled HTML with a script and a handler in it
    status, _, reply = call('POST', f'/tickets/{ticket_id}/replies', claims=AGENT, body={'html': html})
    assert status == 202, reply
    status, _, note = call('POST', f'/tickets/{ticket_id}/notes', claims=AGENT, body={'html': html})
    assert status == 201, note
    # Then what is read back keeps the colour and the inline image, without the script or the handler
    _, _, messages = call('GET', f'/tickets/{ticket_id}/messages', claims=AGENT)
    for message in messages['items'][1:]:
        assert 'color:#b91c1c' in message['html'].replace(': ', ':') and 'cid:sig' in message['html']
        assert 'script' not in message['html'] and 'onerror' not in message['html']


def test_a_bug_is_a_500_that_says_nothing_and_logs_what_failed(queue, monkeypatch, caplog):
    # Given a bug deep in the code that raises a ValueError quoting what a customer wrote
    from inboxdesk.logic import tickets

    quoted = ' '.join(['my card number is', '41' + '11'])  # made at run time, as request content is

    def broken(ticket_id: str) -> None:
        raise ValueError(f'customer wrote: {quoted}')

    monkeypatch.setattr(tickets, 'get_ticket', broken)
    # When an agent reads a ticket
    with caplog.at_level(logging.ERROR):
        status, headers, problem = call('GET', '/tickets/01ZZZZZZZZZZZZZZZZZZZZZZZZ', claims=AGENT)
    # Then the answer is a 500 problem without the message, and the log names the error, not its text
    assert status == 500 and headers['content-type'] == 'application/problem+json'
    assert '4111' not in json.dumps(problem)
    logged = ' '.join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert 'ValueError' in logged and '4111' not in logged


def _import_in_a_fresh_process(module: str, without: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != without}
    env['PYTHONPATH'] = os.pathsep.join(str(REPO / p) for p in ('layers/inboxdesk/python', 'functions', '.'))
    return subprocess.run(
        [sys.executable, '-c', f'import {module}'], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ('module', 'variable'),
    [('api.handler', 'OUTBOUND_QUEUE_URL'), ('api.handler', 'TABLE_NAME'), ('inbound.handler', 'MAIL_BUCKET')],
)
def test_a_function_without_a_setting_it_needs_fails_at_cold_start(moto_endpoint, module, variable):
    # Given a function deployed without a variable it needs (the API cannot queue replies without its queue)
    # When Lambda loads its handler
    result = _import_in_a_fresh_process(module, without=variable)
    # Then the load fails, naming the variable, before any request is accepted
    assert result.returncode != 0
    assert 'ConfigurationError' in result.stderr and variable in result.stderr


def test_moving_a_queue_onto_a_taken_address_names_that_address(queue):
    # Given a second queue with an address of its own
    status, _, sales = call('POST', '/queues', claims=ADMIN, body={'name': 'Sales', 'inbound_addresses': ['s@x.test']})
    assert status == 201, sales
    # When an admin gives it a new address and one Support owns, dropping its own (a delete, then the puts)
    body = {'inbound_addresses': ['new@x.test', SUPPORT]}
    status, _, problem = call('PATCH', f'/queues/{sales["id"]}', claims=ADMIN, body=body)
    # Then the refusal names the taken address, and nothing changed
    assert status == 409 and SUPPORT in problem['detail'], problem
    assert call('GET', f'/queues/{sales["id"]}', claims=AGENT)[2]['inbound_addresses'] == ['s@x.test']
