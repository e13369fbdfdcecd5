"""Uploads for replies and downloads of stored attachments, through the real handler and presigned S3 URLs."""

import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from inboxdesk.logic.attachments import MAX_ATTACHMENT_BYTES
from tests.support.api import ADMIN, AGENT, call

PNG = b'\x89PNG\r\n\x1a\n' + b'\0' * 24


def _upload(filename: str, content_type: str, data: bytes) -> dict[str, Any]:
    status, headers, grant = call(
        'POST',
        '/attachments',
        claims=AGENT,
        body={'filename': filename, 'content_type': content_type, 'size': len(data)},
    )
    assert status == 201, grant
    assert requests.put(grant['upload_url'], data=data, headers=grant['headers'], timeout=10).status_code == 200
    return dict(grant)


def _download_params(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_uploaded_image_downloads_inline_and_pdf_as_attachment(aws):
    # Given a PNG and a PDF uploaded through presigned URLs
    png = _upload('screen shot.png', 'image/png', PNG)
    pdf = _upload('../../etc/invoice".pdf', 'application/pdf', b'%PDF-1.4 test')
    # When each is fetched, Then it redirects to a short-lived link with the right disposition
    status, headers, _ = call('GET', f'/attachments/{png["id"]}', claims=AGENT)
    assert status == 302 and headers['x-content-type-options'] == 'nosniff'
    params = _download_params(headers['location'])
    assert params['response-content-disposition'].startswith('inline; filename="screen shot.png"')
    assert params['response-content-type'] == 'image/png' and int(params['X-Amz-Expires']) <= 300
    assert requests.get(headers['location'], timeout=10).content == PNG
    status, headers, _ = call('GET', f'/attachments/{pdf["id"]}', claims=AGENT)
    params = _download_params(headers['location'])
    assert params['response-content-disposition'].startswith('attachment; filename="invoice.pdf"')
    assert params['response-content-type'] == 'application/octet-stream'


@pytest.mark.parametrize(
    ('content_type', 'size'),
    [
        ('image/svg+xml', 10),
        ('text/html', 10),
        ('application/x-msdownload', 10),
        ('image/png', MAX_ATTACHMENT_BYTES + 1),
    ],
)
def test_disallowed_types_and_sizes_are_refused(aws, content_type, size):
    status, _, problem = call(
        'POST', '/attachments', claims=AGENT, body={'filename': 'x', 'content_type': content_type, 'size': size}
    )
    assert status == 422 and problem['detail']


def test_unknown_or_not_uploaded_attachment(aws):
    assert call('GET', '/attachments/nope', claims=AGENT)[0] == 404
    _, _, grant = call(
        'POST', '/attachments', claims=AGENT, body={'filename': 'a.txt', 'content_type': 'text/plain', 'size': 3}
    )
    assert call('GET', f'/attachments/{grant["id"]}', claims=AGENT)[0] == 422


def test_reply_with_attachments_links_them_in_the_conversation(aws):
    # Given a queue, a ticket and an uploaded PNG, plus one upload that never arrived
    call('POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': ['support@example.com']})
    ticket = call('POST', '/tickets', claims=AGENT, body={'customer': 'c@example.org', 'title': 't', 'text': 'x'})[2][
        'ticket'
    ]
    png = _upload('shot.png', 'image/png', PNG)
    _, _, missing = call(
        'POST', '/attachments', claims=AGENT, body={'filename': 'a.txt', 'content_type': 'text/plain', 'size': 3}
    )
    path = f'/tickets/{ticket["id"]}/replies'
    # When a reply names the missing upload, Then it is refused and nothing is stored
    status, _, problem = call('POST', path, claims=AGENT, body={'text': 'see', 'attachment_ids': [missing['id']]})
    assert status == 422 and 'never uploaded' in problem['detail']
    # When a reply names the PNG
    status, _, reply = call('POST', path, claims=AGENT, body={'text': 'see attached', 'attachment_ids': [png['id']]})
    assert status == 202
    # Then the conversation links it, and the link redirects to its bytes
    messages = call('GET', f'/tickets/{ticket["id"]}/messages', claims=AGENT)[2]['items']
    assert len(messages) == 2
    [link] = messages[-1]['attachments']
    assert link['filename'] == 'shot.png' and link['size'] == len(PNG)
    status, headers, _ = call('GET', link['download_url'], claims=AGENT)
    assert status == 302 and requests.get(headers['location'], timeout=10).content == PNG
    assert call('GET', link['download_url'].replace(png['id'], 'other'), claims=AGENT)[0] == 404
    assert os.environ['MAIL_BUCKET'] in headers['location']
