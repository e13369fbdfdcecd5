"""Customers, looked up by email address."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from inboxdesk.logic.customers import find_customer
from inboxdesk.models.api import CustomerList, CustomerResource, EmailAddress

from ..access import AGENTS
from ..problems import responses

router = Router()  # type: ignore[no-untyped-call]  # Powertools Router is untyped


@router.get('/customers', security=AGENTS, tags=['customers'], responses=responses())
def find_customers(email: Annotated[EmailAddress, Query(description='the exact address')]) -> CustomerList:
    """The customer with this address (an empty list when none wrote yet)."""
    found = find_customer(email)
    if found is None:
        return CustomerList(items=[])
    return CustomerList(items=[CustomerResource.of(found)])
