"""Automatic-mail classification: auto-replies, out-of-office, bounces, list mail.

Placeholder until the classification rules land: classifies nothing."""

from __future__ import annotations

from email.message import EmailMessage

from inboxdesk.mail.model import Classification


def classify(msg: EmailMessage, *, from_address: str, subject: str) -> Classification:
    """Classify a parsed message. Never raises."""
    return Classification()
