import pytest

from api.etag import etag, parse_if_match
from inboxdesk.errors import InvalidRequestError, PreconditionFailedError
from inboxdesk.logic.attachments import content_disposition, safe_filename


@pytest.mark.parametrize(('header', 'version'), [('"3"', 3), ('3', 3), (None, None), ('*', None), (etag(41), 41)])
def test_if_match_forms(header, version):
    assert parse_if_match(header) == version


def test_a_weak_etag_never_matches_if_match():
    # Given the weak form of the ETag an agent read (RFC 9110: If-Match compares strongly)
    # When it is sent in If-Match, Then it does not match: 412, with the strong form to send instead
    with pytest.raises(PreconditionFailedError, match='"3"'):
        parse_if_match('W/"3"')


@pytest.mark.parametrize('header', ['"abc"', '"1", "2"', '-1'])
def test_if_match_garbage_is_refused(header):
    with pytest.raises(InvalidRequestError):
        parse_if_match(header)


@pytest.mark.parametrize(
    ('name', 'safe'),
    [
        ('../../etc/passwd', 'passwd'),
        ('C:\\Users\\x\\a.pdf', 'a.pdf'),
        ('a"\r\nX-Evil: 1.txt', 'aX-Evil: 1.txt'),
        ('', 'attachment'),
    ],
)
def test_filenames_lose_paths_quotes_and_control_characters(name, safe):
    assert safe_filename(name) == safe


@pytest.mark.parametrize(
    ('content_type', 'kind'),
    [
        ('image/png', 'inline'),
        ('image/jpeg', 'inline'),
        ('image/svg+xml', 'attachment'),
        ('text/html', 'attachment'),
        ('application/pdf', 'attachment'),
    ],
)
def test_only_raster_images_are_inline(content_type, kind):
    disposition = content_disposition('Résumé.bin', content_type)
    assert disposition.startswith(f'{kind}; filename="R_sum_.bin"; ')
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9.bin" in disposition
