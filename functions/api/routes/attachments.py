"""Attachments: presigned uploads for replies, and redirects to short-lived downloads."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from inboxdesk.logic import attachments as logic
from inboxdesk.models.api import Upload, UploadRequest

from ..access import AGENTS, actor
from ..problems import responses

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped
REDIRECT_HEADERS = {'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'private, no-store'}


@router.post('/attachments', security=AGENTS, tags=['attachments'], responses=responses())
def create_attachment(request: UploadRequest) -> Response[Upload]:
    """An attachment id and a presigned URL: PUT the bytes there with exactly the headers given."""
    grant = logic.grant_upload(request.filename, request.content_type, request.size, actor(router))
    body = Upload(
        id=grant.id,
        upload_url=grant.upload_url,
        method='PUT',
        headers=grant.headers,
        expires_in=grant.expires_in,
        max_size=logic.MAX_ATTACHMENT_BYTES,
    )
    return Response(201, 'application/json', body, headers={'Location': f'/attachments/{grant.id}'})


@router.get(
    '/attachments/<attachment_id>',
    security=AGENTS,
    tags=['attachments'],
    responses=responses(404, status_302='redirect to a download link valid for a minute'),
)
def get_attachment(attachment_id: str) -> Response[Any]:
    """Redirects to the bytes; served as a download, inline only for raster images."""
    url = logic.upload_download_url(attachment_id)
    return Response(302, None, '', headers={'Location': url, **REDIRECT_HEADERS})
