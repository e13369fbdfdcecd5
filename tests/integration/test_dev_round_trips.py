"""Round trips through `inboxdesk dev` (a subprocess, on free ports): a customer's mail over SMTP becomes a
ticket, an agent answers over the API, the reply leaves through moto's SES (and is reported delivered) or
through an SMTP channel pointed at the dev runtime's SMTP catcher, and the customer's answers come back."""

from __future__ import annotations

import json
import re
import smtplib
import urllib.request
from email import message_from_string, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from tests.integration.test_dev_runtime import DevProcess, dev_system, wait_for

__all__ = ['dev_system']  # the fixture: `inboxdesk dev` on free ports

SUPPORT = 'support@inboxdesk.test'


def token(dev: DevProcess, role: str) -> str:
    return dev.command('token', f'--role={role}', f'--email={role}@example.org').strip()


def api(dev: DevProcess, method: str, path: str, role: str = 'agent', body: Any = None) -> Any:
    request = urllib.request.Request(
        f'http://{dev.host}:{dev.api_port}{path}',
        data=None if body is None else json.dumps(body).encode(),
        headers={'Authorization': f'Bearer {token(dev, role)}', 'Content-Type': 'application/json'},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=20) as answer:
        return json.load(answer)


def outbox(dev: DevProcess, *flags: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(dev.command('outbox', '--json', f'--aws-port={dev.aws_port}', *flags))
    return rows


def customer_mail(subject: str, body: str, *, sender: str = 'Ada <ada@example.org>', to: str = SUPPORT) -> EmailMessage:
    mail = EmailMessage()
    mail['From'] = sender
    mail['To'] = to
    mail['Subject'] = subject
    mail['Message-ID'] = make_msgid(domain='example.org')
    mail.set_content(body)
    return mail


def send(dev: DevProcess, mail: EmailMessage, recipient: str = SUPPORT) -> None:
    raw = mail.as_bytes(policy=policy.SMTP.clone(max_line_length=200))  # SES's long ids on one line, as clients do
    with smtplib.SMTP(dev.host, dev.smtp_port, timeout=10) as client:
        client.sendmail('ada@example.org', [recipient], raw)


def messages(dev: DevProcess, ticket_id: str) -> list[dict[str, Any]]:
    return list(api(dev, 'GET', f'/tickets/{ticket_id}/messages')['items'])


def test_a_reply_through_ses_is_delivered_and_every_kind_of_answer_finds_its_ticket(dev_system):
    dev = dev_system
    # Given a customer's mail over SMTP, which became a ticket
    send(dev, customer_mail('Printer on fire', 'It is burning.'))
    [ticket] = wait_for(lambda: dev.tickets(), timeout=30, interval=0.5)
    ticket_id = api(dev, 'GET', f'/tickets/by-number/{ticket["number"]}')['id']
    # When an agent replies over the API
    reply = api(dev, 'POST', f'/tickets/{ticket_id}/replies', body={'text': 'We are on it.'})
    # Then the mail leaves through moto's SES to the customer, and `inboxdesk outbox` lists it with SES's id
    [sent] = wait_for(lambda: outbox(dev), timeout=30, interval=0.5)
    assert sent['recipients'] == ['ada@example.org']
    assert sent['subject'] == f'Re: Printer on fire [#{ticket["number"]}]'
    assert re.fullmatch(r'<[^@]+@eu-west-1\.amazonses\.com>', sent['message_id']), sent
    # And the message shows delivered, from the Delivery event the dev runtime made for it
    delivered = wait_for(
        lambda: [m for m in messages(dev, ticket_id) if m['id'] == reply['id'] and m['delivery_status'] == 'delivered'],
        timeout=30,
        interval=0.5,
    )
    assert delivered, (messages(dev, ticket_id), dev.output())

    # When the customer answers naming only SES's Message-ID, Then it joins the ticket
    answer = customer_mail('Re: something', 'Thanks.')
    answer['In-Reply-To'] = sent['message_id']
    send(dev, answer)
    assert wait_for(lambda: len(messages(dev, ticket_id)) == 3, timeout=30, interval=0.5), dev.output()

    # When they answer with no threading header at all, to the plus-addressed Reply-To, Then it joins the ticket
    raw = next(m for m in moto_mail(dev) if sent['message_id'].strip('<>').startswith(m['id']))['raw_data']
    reply_to = str(message_from_string(raw, policy=policy.default)['Reply-To'])
    assert reply_to.startswith('support+'), reply_to
    send(dev, customer_mail('new words', 'Still burning.', to=reply_to), recipient=reply_to)
    joined = wait_for(lambda: len(messages(dev, ticket_id)) == 4, timeout=30, interval=0.5)
    assert joined, dev.output()
    assert messages(dev, ticket_id)[-1]['threading_rule'] == 'reply-token'

    # When a mail comes with a forged token, Then it is a new ticket
    real = reply_to.split('+', 1)[1].split('@', 1)[0]
    forged = f'support+{real[:-1]}{"a" if real[-1] != "a" else "b"}@inboxdesk.test'
    send(dev, customer_mail('me too', 'Let me in.', sender='Eve <eve@example.net>', to=forged), recipient=forged)
    assert wait_for(lambda: len(dev.tickets()) == 2, timeout=30, interval=0.5), dev.output()
    assert len(messages(dev, ticket_id)) == 4


def moto_mail(dev: DevProcess) -> list[dict[str, Any]]:
    from inboxdesk_cli.local.ses_events import ses_outbox

    return ses_outbox(f'http://{dev.host}:{dev.aws_port}')


def test_a_reply_through_an_smtp_channel_pointed_at_the_catcher_arrives_there(dev_system):
    dev = dev_system
    # Given the catcher's dev user and password from the banner, and a channel pointing at the catcher
    found = re.search(r'AUTH PLAIN/LOGIN as (\S+) / (\S+)', dev.output())
    assert found, dev.output()
    user, password = found.groups()
    channel = api(
        dev,
        'POST',
        '/channels',
        role='admin',
        body={
            'kind': 'smtp',
            'from_address': 'help@customer-domain.test',
            'display_name': 'Help desk',
            'smtp': {
                'host': '127.0.0.1',
                'port': dev.catcher_port,
                'tls_mode': 'starttls',
                'username': user,
                'password': password,
            },
        },
    )
    [queue] = api(dev, 'GET', '/queues')['items']
    api(dev, 'PATCH', f'/queues/{queue["id"]}', role='admin', body={'reply_via': channel['id']})
    # And a ticket
    send(dev, customer_mail('Invoice', 'Where is it?'))
    [ticket] = wait_for(lambda: dev.tickets(), timeout=30, interval=0.5)
    ticket_id = api(dev, 'GET', f'/tickets/by-number/{ticket["number"]}')['id']
    # When an agent replies
    reply = api(dev, 'POST', f'/tickets/{ticket_id}/replies', body={'text': 'Attached.'})
    # Then the catcher received it (STARTTLS, logged in), and `inboxdesk outbox --smtp` lists it
    caught = wait_for(lambda: outbox(dev, '--smtp', f'--data-dir={dev.data_dir}'), timeout=30, interval=0.5)
    assert caught, dev.output()
    [mail] = caught
    assert mail['recipients'] == ['ada@example.org']
    assert mail['subject'] == f'Re: Invoice [#{ticket["number"]}]'
    assert mail['message_id'].startswith(f'<{ticket_id}.')
    # And the reply shows sent, and nothing went through SES
    sent = [m for m in messages(dev, ticket_id) if m['id'] == reply['id']]
    assert sent[0]['delivery_status'] == 'sent', sent
    assert outbox(dev) == []
