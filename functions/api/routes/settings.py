"""Settings: the outgoing filter and the appearance of outgoing mail. Agents read, admins change."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from inboxdesk.logic import settings as logic
from inboxdesk.models.api import Appearance, FilterEntryResource, OutgoingFilter, OutgoingFilterUpdate

from ..access import ADMINS, AGENTS, actor
from ..etag import etag, parse_if_match
from ..problems import responses

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped
IfMatch = Annotated[str | None, Header(description='the ETag you read; 412 when it changed since')]


def _filter_response(entries: list[logic.FilterEntry], version: int) -> Response[OutgoingFilter]:
    body = OutgoingFilter(entries=[FilterEntryResource.model_validate(e) for e in entries])
    return Response(200, 'application/json', body, headers={'ETag': etag(version)})


@router.get('/settings/outgoing-filter', security=AGENTS, tags=['settings'], responses=responses())
def get_outgoing_filter() -> Response[OutgoingFilter]:
    """The addresses Inboxdesk never sends to; inbound addresses and connected mailboxes are always in it."""
    return _filter_response(*logic.outgoing_filter())


@router.put('/settings/outgoing-filter', security=ADMINS, tags=['settings'], responses=responses(409, 412))
def put_outgoing_filter(update: OutgoingFilterUpdate, if_match: IfMatch = None) -> Response[OutgoingFilter]:
    """Replace the manual addresses. Leaving out an address a queue uses is refused (409)."""
    entries, version = logic.replace_outgoing_filter(
        update.addresses, expected_version=parse_if_match(if_match), updated_by=actor(router)
    )
    return _filter_response(entries, version)


def _appearance_response(data: dict[str, Any] | None, version: int) -> Response[Appearance]:
    body = Appearance.model_validate(data or {})
    return Response(200, 'application/json', body, headers={'ETag': etag(version)})


@router.get('/settings/appearance', security=AGENTS, tags=['settings'], responses=responses())
def get_appearance() -> Response[Appearance]:
    """Signature, colours and logo of outgoing mail."""
    return _appearance_response(*logic.appearance())


@router.put('/settings/appearance', security=ADMINS, tags=['settings'], responses=responses(412))
def put_appearance(appearance: Appearance, if_match: IfMatch = None) -> Response[Appearance]:
    """Replace signature, colours and logo; the signature's HTML is sanitised as it is saved."""
    stored, version = logic.replace_appearance(
        appearance.model_dump(), expected_version=parse_if_match(if_match), updated_by=actor(router)
    )
    return _appearance_response(stored, version)
