"""Real-world mail (shared corpus), ingested by the inbound logic, read back through the API's conversation."""

import os
from pathlib import Path

import boto3
import pytest
import requests

from inboxdesk.logic.ingest import ingest
from inboxdesk.models import InboundNotice
from tests.support.api import ADMIN, AGENT, call

CASES = [
    'proton-bridge/pkg/message/testdata/text_plain_docx_attachment_cyrillic.eml',
    'proton-bridge/pkg/message/testdata/text_plain_octet_attachment_good_2231_filename.eml',
    'proton-bridge/pkg/message/parser/testdata/complex_structure.eml',
    'proton-bridge/pkg/message/testdata/ics_attachment.eml',
]


@pytest.mark.parametrize('relative', CASES)
def test_ingested_corpus_mail_reads_back_with_download_links(aws, corpus_dir: Path, relative: str):
    # Given a default queue and a real mail stored as SES or a poller would store it
    assert (
        call('POST', '/queues', claims=ADMIN, body={'name': 'Support', 'inbound_addresses': ['support@example.com']})[0]
        == 201
    )
    raw = (corpus_dir / relative).read_bytes()
    bucket = os.environ['MAIL_BUCKET']
    boto3.client('s3').put_object(Bucket=bucket, Key='raw/corpus-1', Body=raw)
    outcome = ingest(InboundNotice(source='mailbox', bucket=bucket, key='raw/corpus-1'))
    assert outcome.ticket_id, outcome
    # When an agent reads the conversation
    status, _, body = call('GET', f'/tickets/{outcome.ticket_id}/messages', claims=AGENT)
    # Then the inbound message is there, threaded as new, with safe HTML and working attachment links
    assert status == 200
    [message] = body['items']
    assert message['direction'] == 'inbound' and message['threading_rule'] == 'new'
    assert '<script' not in message['html'].lower()
    links = [a for a in message['attachments'] if a['download_url']]
    assert links, 'the corpus mail has attachments'
    for link in links:
        status, headers, _ = call('GET', link['download_url'], claims=AGENT)
        assert status == 302 and headers['x-content-type-options'] == 'nosniff'
        downloaded = requests.get(headers['location'], timeout=10)
        assert len(downloaded.content) == link['size']
        disposition = downloaded.headers.get('Content-Disposition', '')
        # inline only for a raster image whose bytes are that image (the corpus has an `image/gif` that is not)
        magic = IMAGE_MAGIC.get(link['content_type'])
        inline = magic is not None and downloaded.content.startswith(magic)
        assert disposition.startswith('inline' if inline else 'attachment'), disposition


PNG = b'\x89PNG\r\n\x1a\n' + b'\0' * 24
# How the files of each raster type begin (webp: none in the corpus)
IMAGE_MAGIC = {'image/png': b'\x89PNG\r\n\x1a\n', 'image/jpeg': b'\xff\xd8\xff', 'image/gif': b'GIF8'}


def test_inbound_attachments_are_served_as_downloads_and_only_raster_images_inline(aws):
    # Given a customer's mail carrying an SVG, an HTML page and a PNG, ingested as SES would deliver it
    from email.message import EmailMessage

    assert call('POST', '/queues', claims=ADMIN, body={'name': 'S', 'inbound_addresses': ['support@example.com']})[0]
    mail = EmailMessage()
    mail['From'], mail['To'], mail['Subject'] = 'c@example.org', 'support@example.com', 'files'
    mail['Message-ID'] = '<files-1@example.org>'
    mail.set_content('see attached')
    mail.add_attachment(b'<svg onload="alert(1)"/>', maintype='image', subtype='svg+xml', filename='logo.svg')
    mail.add_attachment(b'<script>alert(1)</script>', maintype='text', subtype='html', filename='page.html')
    mail.add_attachment(PNG, maintype='image', subtype='png', filename='photo.png')
    bucket = os.environ['MAIL_BUCKET']
    boto3.client('s3').put_object(Bucket=bucket, Key='raw/files-1', Body=mail.as_bytes())
    outcome = ingest(InboundNotice(source='mailbox', bucket=bucket, key='raw/files-1'))
    [message] = call('GET', f'/tickets/{outcome.ticket_id}/messages', claims=AGENT)[2]['items']
    served = {}
    for link in message['attachments']:
        # When an agent follows each download link
        status, headers, _ = call('GET', link['download_url'], claims=AGENT)
        assert status == 302 and headers['x-content-type-options'] == 'nosniff'
        answer = requests.get(headers['location'], timeout=10)
        served[link['filename']] = (answer.headers['Content-Type'], answer.headers['Content-Disposition'].split(';')[0])
    # Then SVG and HTML come as opaque downloads, and only the PNG may show inline as an image
    assert served == {
        'logo.svg': ('application/octet-stream', 'attachment'),
        'page.html': ('application/octet-stream', 'attachment'),
        'photo.png': ('image/png', 'inline'),
    }
    # And an attachment id that is not in the message is 404
    missing = message['attachments'][0]['download_url'].rsplit('/', 1)[0] + '/nope'
    assert call('GET', missing, claims=AGENT)[0] == 404
