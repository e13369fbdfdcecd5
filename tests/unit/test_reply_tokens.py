"""Signed reply tokens: they name one ticket, cannot be forged or moved to another ticket, and are
found again wherever a mail client leaves them."""

from __future__ import annotations

import pytest

from inboxdesk.reply_tokens import (
    make_token,
    plus_address,
    reference_id,
    reference_line,
    token_of_address,
    token_of_references,
    token_of_text,
    verify_token,
)

KEY = b'k' * 32
TICKET = '01JF3K6M7C9Q2X8D4T5V6W7Y8Z'
OTHER_TICKET = '01JF3K6M7C9Q2X8D4T5V6W7Y90'


def test_a_token_names_its_ticket_in_any_letter_case() -> None:
    # Given the token of a ticket
    token = make_token(TICKET, KEY)

    # Then it verifies to that ticket as written, lower-cased and upper-cased (mail systems fold case)
    assert verify_token(token, KEY) == TICKET
    assert verify_token(token.upper(), KEY) == TICKET
    assert verify_token(token.lower(), KEY) == TICKET
    assert token == token.lower()


def test_another_tickets_token_or_key_does_not_verify_as_this_ticket() -> None:
    # Given the tokens of two tickets
    mine, other = make_token(TICKET, KEY), make_token(OTHER_TICKET, KEY)

    # When someone puts this ticket's id in front of the other ticket's MAC
    moved = mine[:26] + other[26:]

    # Then nothing verifies but the genuine tokens, and not under another key
    assert verify_token(other, KEY) == OTHER_TICKET
    assert verify_token(moved, KEY) is None
    assert verify_token(mine, b'another key') is None


def test_every_flipped_character_is_refused() -> None:
    # Given a token
    token = make_token(TICKET, KEY)

    # When any one character is changed to another of the alphabet
    for position, char in enumerate(token):
        replacement = '7' if char != '7' else '8'
        forged = token[:position] + replacement + token[position + 1 :]

        # Then it no longer verifies
        assert verify_token(forged, KEY) is None, position


@pytest.mark.parametrize('junk', ['', 'x', 'ref', TICKET, TICKET.lower() + 'zzzzzzzzzzzzz', 'ü' * 39, ' ' * 39])
def test_junk_is_no_token(junk: str) -> None:
    assert verify_token(junk, KEY) is None


def test_the_plus_address_fits_the_64_character_local_part() -> None:
    # Given a token and queue addresses with short and long local parts
    token = make_token(TICKET, KEY)
    short = plus_address('support@inboxdesk.test', token)
    longest = plus_address('a' * (64 - 1 - len(token)) + '@inboxdesk.test', token)
    too_long = plus_address('a' * (64 - len(token)) + '@inboxdesk.test', token)

    # Then the token rides in the plus part while the local part stays within 64 characters
    assert short == f'support+{token}@inboxdesk.test'
    assert len(longest.split('@')[0]) == 64
    assert token_of_address(longest) == token
    # and an address with no room left is used as it is (References and the text still carry the token)
    assert too_long == 'a' * (64 - len(token)) + '@inboxdesk.test'


def test_tokens_are_found_where_they_travel() -> None:
    # Given a token in an address (as a client may upper-case it), a References list and a quoted body
    token = make_token(TICKET, KEY)
    address = plus_address('Support@InboxDesk.test', token).upper()
    references = ['<c1@customer.test>', f'<{reference_id(token, "inboxdesk.test")}>', '<c2@customer.test>']
    body = f'Thanks!\n\nOn Tue, Support wrote:\n> Hello\n> {reference_line(token)}\n'

    # Then each finder gives the token back, and it verifies
    for found in (token_of_address(address), token_of_references(references), token_of_text(body)):
        assert found == token
        assert verify_token(found, KEY) == TICKET
    assert token_of_references([reference_id(token, 'inboxdesk.test')]) == token  # bare ids too


def test_finders_ignore_what_carries_no_token() -> None:
    assert token_of_address('support@inboxdesk.test') is None
    assert token_of_address('support+billing@inboxdesk.test') is None
    assert token_of_references(['<c1@customer.test>', '<ref-short@inboxdesk.test>']) is None
    assert token_of_text('[ref:] and [ref:abc]') is None


def test_a_ticket_id_that_is_no_ulid_is_refused() -> None:
    with pytest.raises(ValueError, match='not a ticket id'):
        make_token('ticket-1', KEY)
    with pytest.raises(ValueError, match='key'):
        make_token(TICKET, b'')
