"""Delivery reports: what a bounce says about the message it returns.

Pure helpers for `inboxdesk.mail.classify`: RFC 3464 delivery-status fields, the Message-ID of
the returned original, recipients named in the text of non-standard bounces, why delivery failed
(Status and Diagnostic-Code, or the SMTP reply line of a non-standard bounce), and Amazon SES
notifications (the JSON an SNS e-mail subscription delivers). Nothing here raises on the
malformed input real MTAs produce; every scan is bounded in size."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_TEXT_SCAN = 64 * 1024  # characters of a text part searched for recipients and ids
MAX_RECIPIENTS = 50
MAX_REASON = 240  # characters of one recipient's failure reason
MAX_REASONS = 600  # characters of the whole reason (several recipients with different reasons)

# RFC 3464 actions, most severe first; `failed` is the only one that means "not delivered".
ACTION_FAILED = 'failed'
ACTION_DELAYED = 'delayed'
ACTION_DELIVERED = 'delivered'
_ACTION_RANK = {ACTION_FAILED: 0, ACTION_DELAYED: 1, ACTION_DELIVERED: 2}

_ADDR = r'[A-Za-z0-9!#$%&\'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?'
ADDRESS_RE = re.compile(_ADDR)
_ADDRESS_FULL_RE = re.compile(rf'^{_ADDR}$')
_MSGID_LINE_RE = re.compile(
    r'^[ \t]*(?:x-)?(?:original-)?message-id:[ \t]*(?:\r?\n[ \t]+)?<?([^\s<>"]+@[^\s<>"]+?)>?[ \t]*$',
    re.IGNORECASE | re.MULTILINE,
)
_FIELD_RE = re.compile(r'^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$')

# The reporting system itself is never a failed recipient.
_ROLE_LOCALPARTS = frozenset({'mailer-daemon', 'mailer_daemon', 'mailerdaemon', 'maildaemon', 'mail-daemon'})


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    final: str  # Final-Recipient address ('' when the block has none)
    original: str  # Original-Recipient address ('' when the block has none)
    action: str  # failed | delayed | delivered (relayed and expanded count as delivered)
    status: str = ''  # RFC 3463 status code (`5.1.1`), '' when the block has none or it is not one
    diagnostic: str = ''  # Diagnostic-Code as one line (`smtp; 550 5.1.1 <a@b>: User unknown`)

    @property
    def reason(self) -> str:
        """`5.1.1 smtp; 550 5.1.1 <a@b>: User unknown`; the status and its meaning without a diagnostic."""
        if self.diagnostic:
            return one_line(f'{self.status} {self.diagnostic}', MAX_REASON)
        meaning = _STATUS_MEANINGS.get(self.status[2:]) if self.status else None
        return f'{self.status} ({meaning})' if meaning else self.status


def address_of_field(value: str) -> str:
    """`rfc822; <User@Example.org>` -> `user@example.org`; '' unless it is an address."""
    text = value.split(';', 1)[1] if ';' in value else value
    text = text.strip().strip('<>').strip().strip('"\'').strip()
    text = text.rstrip('.,;:')
    if not _ADDRESS_FULL_RE.match(text):
        found = ADDRESS_RE.search(text)
        if not found:
            return ''
        text = found.group(0)
    return text.lower()


def message_id_in(value: str) -> str | None:
    """`  <abc@host> (comment)` -> `<abc@host>`; None when nothing id-like is there."""
    text = value.strip()
    match = re.search(r'<([^<>\s]+)>', text)
    core = match.group(1) if match else (text.split()[0] if text.split() else '')
    core = core.strip('<>"\'')
    if not core or len(core) > 250:
        return None
    return f'<{core}>'


def parse_field_blocks(text: str) -> list[dict[str, str]]:
    """Blank-line separated blocks of `Name: value` fields (continuation lines unfolded)."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ''
    for line in text[:MAX_TEXT_SCAN].splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, ''
            continue
        if line[:1] in (' ', '\t') and last:
            current[last] = f'{current[last]} {line.strip()}'
            continue
        match = _FIELD_RE.match(line)
        if match:
            last = match.group(1).lower()
            current.setdefault(last, match.group(2).strip())
        else:
            last = ''
    if current:
        blocks.append(current)
    return blocks


def action_of(fields: dict[str, str]) -> str:
    """The RFC 3464 action of one per-recipient block; Status decides when Action is missing."""
    action = fields.get('action', '').strip().lower()
    if action.startswith('fail'):
        return ACTION_FAILED
    if action.startswith('delay'):
        return ACTION_DELAYED
    if action.startswith(('deliver', 'relay', 'expand')):
        return ACTION_DELIVERED
    status = fields.get('status', '').strip()
    if status.startswith('4'):
        return ACTION_DELAYED
    if status.startswith('2'):
        return ACTION_DELIVERED
    return ACTION_FAILED


def recipient_statuses(blocks: Iterable[dict[str, str]]) -> list[RecipientStatus]:
    """Per-recipient blocks of a delivery-status report (blocks naming no recipient are skipped)."""
    statuses: list[RecipientStatus] = []
    for fields in blocks:
        final = address_of_field(fields.get('final-recipient', ''))
        original = address_of_field(fields.get('original-recipient', ''))
        if not final and not original:
            continue
        status = _STATUS_RE.search(fields.get('status', '')[:100])
        statuses.append(
            RecipientStatus(
                final=final,
                original=original,
                action=action_of(fields),
                status=status.group(0) if status else '',
                diagnostic=one_line(fields.get('diagnostic-code', ''), MAX_REASON),
            )
        )
    return statuses


def overall_action(actions: Iterable[str]) -> str | None:
    """The most severe action of a report: failed, then delayed, then delivered."""
    ranked = sorted(set(actions), key=lambda a: _ACTION_RANK.get(a, 0))
    return ranked[0] if ranked else None


def failed_addresses(statuses: Sequence[RecipientStatus]) -> list[str]:
    """Final-Recipient of each failed block, then its Original-Recipient when it differs (the
    address as the sender wrote it, before an alias or forward rewrote it)."""
    found: list[str] = []
    for status in statuses:
        if status.action != ACTION_FAILED:
            continue
        for address in (status.final, status.original):
            if address and address not in found:
                found.append(address)
    return found[:MAX_RECIPIENTS]


# --- why delivery failed ------------------------------------------------------------------------

_STATUS_RE = re.compile(r'(?<![\d.])[245]\.\d{1,3}\.\d{1,3}(?![\d.])')
# RFC 3463 subject.detail codes, for a report that gives a Status without a Diagnostic-Code.
_STATUS_MEANINGS = {
    '0.0': 'other or undefined status',
    '1.0': 'other address status',
    '1.1': 'bad destination mailbox address',
    '1.2': 'bad destination system address',
    '1.3': 'bad destination mailbox address syntax',
    '1.6': 'destination mailbox has moved',
    '2.0': 'other or undefined mailbox status',
    '2.1': 'mailbox disabled, not accepting messages',
    '2.2': 'mailbox full',
    '2.3': 'message length exceeds administrative limit',
    '3.0': 'other or undefined mail system status',
    '3.1': 'mail system full',
    '3.4': 'message too big for system',
    '4.0': 'other or undefined network or routing status',
    '4.1': 'no answer from host',
    '4.2': 'bad connection',
    '4.4': 'unable to route',
    '4.6': 'routing loop detected',
    '4.7': 'delivery time expired',
    '5.0': 'other or undefined protocol status',
    '7.0': 'other or undefined security status',
    '7.1': 'delivery not authorized, message refused',
}
# A line that is only an address (`<a@b>:`; Exchange adds `on <date>`).
_RECIPIENT_LINE_RE = re.compile(rf'^[ \t]*<?({_ADDR})>?[ \t]*(?::|[ \t]on[ \t]+\w{{3}},? .*)?[ \t]*$')
_SEPARATOR_RE = re.compile(r'^[-=*_~#]{3,}')
# Failure wording on the line that names the recipient: `Unknown user: a@b`, `a@b [User unknown]`.
_FAILURE_WORDS_RE = re.compile(
    r'unknown|invalid|no such|not found|does not exist|doesn\'t exist|not listed|mailbox (?:is )?full|over quota'
    r'|quota exceeded|rejected|denied|disabled|blocked|refused|size limit|too (?:big|large)',
    re.IGNORECASE,
)
_CONTROL_RE = re.compile(r'[\x00-\x1f\x7f]+')
# An SMTP reply in a report's prose: `550 5.1.1 <a@b>: User unknown`, `550-5.1.1 The email account`,
# Exchange's `#550 5.1.1 RESOLVER.ADR.RecipNotFound`, or an enhanced status code and its text.
_SMTP_REPLY_RE = re.compile(
    r'(?<![\w.:/@-])[45][0-5]\d[ -]+(?:#?[45]\.\d{1,3}\.\d{1,3}[ ]+)?(?=[\w<(\[\'"])'
    r'|(?<![\w.:/@-])#?[45]\.\d{1,3}\.\d{1,3}(?![\d.])[ ]+(?=[\w<(\[\'"])'
)


def one_line(text: str, limit: int) -> str:
    """Whitespace and control characters collapsed to single spaces, cut to `limit` characters."""
    line = ' '.join(_CONTROL_RE.sub(' ', text[: limit * 4]).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + '…'


def failure_reason(statuses: Sequence[RecipientStatus]) -> str:
    """Why delivery failed, one line: the reason when every failed recipient has the same one, else
    `a@x: reason | b@y: reason` for those that give one; '' when no failed block gives a reason."""
    failed = [s for s in statuses if s.action == ACTION_FAILED]
    reasons = {s.reason for s in failed}
    if len(reasons) == 1:
        return reasons.pop()
    entries: dict[str, str] = {}
    for status in failed:
        address = status.final or status.original
        if status.reason and address not in entries:
            entries[address] = f'{address}: {status.reason}'
    return one_line(' | '.join(entries.values()), MAX_REASONS)


def _smtp_reply(lines: Sequence[str], number: int) -> str:
    """The SMTP reply on lines[number], from its code on; a line ending in `:` goes on with the next."""
    match = _SMTP_REPLY_RE.search(lines[number])
    if not match:
        return ''
    found = lines[number][match.start() :].strip()
    following = lines[number + 1].strip() if number + 1 < len(lines) else ''
    if found.endswith((':', ',')) and following and not following.startswith('>'):
        found = f'{found} {following}'
    found = found.lstrip('#').rstrip(' \'"#')
    return one_line(found, MAX_REASON) if len(found) > 4 else ''


def _reason_below(lines: Sequence[str], number: int) -> str:
    """The reason in the lines below a recipient line: an SMTP reply among the next few lines, else the
    first line of text after blank lines and labels like `because:` / `For the following reason:`."""
    block: list[int] = []
    for index in range(number + 1, min(number + 10, len(lines))):
        following = lines[index].strip()
        if following.startswith('>') or _RECIPIENT_LINE_RE.match(lines[index]):
            break
        label = len(following) <= 40 and following.endswith(':') or _SEPARATOR_RE.match(following)
        if not following or (not block and label):
            if block:
                break
            continue  # blank lines and a label before the reason
        block.append(index)
        if len(block) == 4:
            break
    reply = next((found for found in (_smtp_reply(lines, index) for index in block) if found), '')
    if reply or not block:
        return reply
    first = lines[block[0]].strip()
    return one_line(first, MAX_REASON) if re.search(r'[^\W\d_]{3}', first) else ''


def reason_in_prose(text: str, recipients: Iterable[str] = ()) -> str:
    """Why a non-standard bounce failed, from the report part before the returned message, outside quoted
    lines: below a line that is only a failed recipient's address (Exim, qmail, Exchange, Domino), the reason
    given there; elsewhere the first SMTP reply (`550 5.1.1 <a@b>... User unknown`). '' when no line
    clearly says."""
    failed = {address_of_field(a) for a in recipients}
    lines = report_prose(text).splitlines()
    for number, line in enumerate(lines):
        if line.lstrip().startswith('>'):
            continue
        alone = _RECIPIENT_LINE_RE.match(line)
        if alone and address_of_field(alone.group(1)) in failed:
            found = _reason_below(lines, number)
            if found:
                return found
            continue
        reply = _smtp_reply(lines, number) or _reason_beside(line, failed)
        if reply:
            return reply
    return ''


def _reason_beside(line: str, failed: set[str]) -> str:
    """A short line naming a failed recipient together with failure wording: what it says after the address
    (`a@b [User unknown]`, `a@b Invalid Address`), else the whole line (`Unknown user: a@b`)."""
    text = line.strip()
    if len(text) > MAX_REASON or not _FAILURE_WORDS_RE.search(text):
        return ''
    for match in ADDRESS_RE.finditer(text):
        if address_of_field(match.group(0)) not in failed:
            continue
        after = text[match.end() :].lstrip('>').strip(' \t.:;,[]()')
        if match.start() <= 1 and _FAILURE_WORDS_RE.search(after):
            return one_line(after, MAX_REASON)
        return one_line(text, MAX_REASON)
    return ''


def message_id_in_text(text: str, *, exclude: str | None = None) -> str | None:
    """The first `Message-ID:` header line in text (a returned original pasted into a bounce)."""
    for match in _MSGID_LINE_RE.finditer(text[:MAX_TEXT_SCAN]):
        found = message_id_in(match.group(1))
        if found and found != exclude:
            return found
    return None


def is_role_address(address: str) -> bool:
    return address.split('@', 1)[0].lower() in _ROLE_LOCALPARTS


# --- recipients in the prose of non-standard bounces -------------------------------------------

# Where the report ends and the returned message begins.
_RETURNED_MARKERS = re.compile(
    r'^[ \t|>*=_-]*(?:'
    r'this is a copy of the (?:original )?message'
    r'|below this line is a copy of the message'
    r'|(?:original|returned|unsent|undelivered|bounced) (?:message|mail|e-mail|email)(?: follows| below|:|\s*-|$)'
    r'|message (?:header|headers|text) follows|original message headers'
    r'|the header of the original message'
    r'|(?:a )?copy of (?:the|your) (?:original )?message'
    r'|content-type: message/rfc822'
    r'|message headers follow'
    r')',
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_NAMES = (
    r'(?:return-path|received|from|message-id|date|subject|to|cc|mime-version|content-[\w-]+|dkim-signature|x-[\w-]+)'
)
# Three header lines in a row (continuations allowed): a returned original pasted as text.
_HEADER_BLOCK_RE = re.compile(
    rf'^{_HEADER_NAMES}:[^\n]*\n(?:[ \t][^\n]*\n)*{_HEADER_NAMES}:[^\n]*\n(?:[ \t][^\n]*\n)*{_HEADER_NAMES}:',
    re.IGNORECASE | re.MULTILINE,
)
_MESSAGE_HEADER_RE = re.compile(
    r'^(?:return-path|received|from|message-id|date|subject|to|dkim-signature):', re.I | re.M
)
# A heading the report puts above its list of failed recipients (checked on a line joined
# with the line before it, as reports wrap): the addresses on the next lines are the failures.
_HEADING_RE = re.compile(
    r'following (?:recipients?|address(?:es)?)(?:\(es\))?'
    r'|address(?:\(es\)|es)? (?:failed|had)|failed addresses|recipients? failed|did not reach|to these recipients'
    r'|delivery to the following|could not be delivered to\s*:?\s*$|undeliverable to\s*:?\s*$'
    r'|permanent(?:ly)? fail|unknown (?:recipients?|users?)\s*:\s*$|invalid (?:recipients?|address(?:es)?)\s*:\s*$'
    r'|(?:delivered|deliver|delivery|recipients?|recipient\(s\)|address(?:es)?)\s*(?:to\s*)?:\s*$|failure reasons?',
    re.IGNORECASE,
)
# A failure phrase followed on the same line by the address it names.
_LABELLED_RE = re.compile(
    r'(?:could not be delivered to|(?:error|problem|failure) delivering (?:your )?(?:mail|message) to'
    r'|delivery to the following recipients? (?:failed|was unsuccessful)|unable to deliver (?:your )?(?:message )?to'
    r'|(?:failed|unknown|invalid|rejected) (?:recipients?|address(?:es)?|user)|returned permanent errors'
    r'|rcpt to|target (?:mail )?address|not (?:be )?delivered to|undeliverable to'
    r'|delivery failed to|failed to deliver to'
    r'|original-recipient|final-recipient|wasn\'t delivered to|couldn\'t be delivered to'
    r'|not a member of (?:this |the )?(?:mailing )?list)'
    rf'[^\n@<]{{0,40}}?<?({_ADDR})>?',
    re.IGNORECASE,
)
# A line that starts with the address and goes on with the reason: `<addr>: host said` (Postfix,
# qmail), `addr: 550 ...`, `addr [User unknown]`, `addr on <date>` (Exchange), `<addr>... User
# unknown` (Sendmail); or an SMTP reply naming it: `550 5.1.1 <addr>... No such user`.
_ADDRESS_REASON_RE = re.compile(
    rf'^[ \t>]*(?:RCPT TO:?[ \t]*)?["<]?({_ADDR})[">]?[ \t]*(?::|\.\.\.|\[|\(|on [A-Z][a-z]{{2}})'
    rf'|^[ \t]*<({_ADDR})>[ \t]*$'
    rf'|\b[45]\d\d[ -](?:[45]\.\d{{1,3}}\.\d{{1,3}}[ \t]+)?[^\n<]{{0,60}}<({_ADDR})>',
    re.MULTILINE,
)


def report_prose(text: str) -> str:
    """The report part of a bounce's text: everything before the returned message."""
    text = text[:MAX_TEXT_SCAN]
    cut = len(text)
    marker = _RETURNED_MARKERS.search(text)
    if marker:
        cut = marker.start()
    for block in _HEADER_BLOCK_RE.finditer(text, 0, cut):
        if _MESSAGE_HEADER_RE.search(block.group(0)):  # not just the MIME headers of a part
            cut = block.start()
            break
    return text[:cut]


def addresses_in_prose(text: str, *, exclude: Iterable[str]) -> list[str]:
    """Recipient addresses a non-standard bounce reports, in text order: the lines under a
    "following addresses failed"-like heading, addresses a failure phrase names on its line, and
    lines that start with an address followed by the reason. Only the report part before the
    returned message is read; the given senders and daemon addresses are skipped."""
    skip = {a.lower() for a in exclude if a}
    lines = report_prose(text).splitlines()
    found: list[tuple[int, int, str]] = []
    previous = ''
    for number, line in enumerate(lines):
        if _HEADING_RE.search(f'{previous} {line}'):
            collected = 0
            for offset, following in enumerate(lines[number + 1 : number + 9], start=1):
                if not following.strip():
                    if collected:
                        break
                    continue
                if _HEADING_RE.search(following) or re.match(r'^\s*-{3,}', following) and collected:
                    break
                for match in ADDRESS_RE.finditer(following):
                    found.append((number + offset, match.start(), match.group(0)))
                    collected += 1
        for pattern in (_LABELLED_RE, _ADDRESS_REASON_RE):
            for match in pattern.finditer(line):
                for group in range(1, (pattern.groups or 0) + 1):
                    if match.group(group):
                        found.append((number, match.start(group), match.group(group)))
        if line.strip():
            previous = line
    result: list[str] = []
    for _, _, raw in sorted(found):
        address = address_of_field(raw)
        if address and address not in skip and not is_role_address(address) and address not in result:
            result.append(address)
    return result[:MAX_RECIPIENTS]


# --- Amazon SES notifications delivered by e-mail (SNS e-mail subscription) ----------------------


@dataclass(frozen=True, slots=True)
class SesNotification:
    kind: str  # Bounce | Complaint | Delivery | DeliveryDelay | ...
    action: str | None  # failed / delayed / delivered for delivery reports, None otherwise
    recipients: tuple[str, ...]  # bounced recipients (Bounce only)
    message_id: str | None  # the Message-ID of the mail the notification is about
    reason: str = ''  # Bounce only: status and diagnostic code of the bounced recipients (`failure_reason`)


def ses_notification(text: str) -> SesNotification | None:
    """An SES event notification in a text body (raw JSON or the SNS envelope around it)."""
    start = text.find('{')
    if start < 0 or '"notificationType"' not in text and '"eventType"' not in text:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(text[start : start + 4 * MAX_TEXT_SCAN])
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get('Message'), str):
        try:
            data = json.loads(data['Message'])
        except ValueError:
            return None
    if not isinstance(data, dict):
        return None
    kind = data.get('notificationType') or data.get('eventType')
    mail = data.get('mail')
    if not isinstance(kind, str) or not isinstance(mail, dict):
        return None
    action = {'Bounce': ACTION_FAILED, 'DeliveryDelay': ACTION_DELAYED, 'Delivery': ACTION_DELIVERED}.get(kind)
    recipients: list[str] = []
    statuses: list[RecipientStatus] = []
    bounce = data.get('bounce')
    if kind == 'Bounce' and isinstance(bounce, dict):
        for item in bounce.get('bouncedRecipients') or []:
            if isinstance(item, dict) and isinstance(item.get('emailAddress'), str):
                address = address_of_field(item['emailAddress'])
                if address and address not in recipients:
                    recipients.append(address)
                    status = _STATUS_RE.search(str(item.get('status') or '')[:100])
                    diagnostic = one_line(str(item.get('diagnosticCode') or ''), MAX_REASON)
                    statuses.append(
                        RecipientStatus(address, '', ACTION_FAILED, status.group(0) if status else '', diagnostic)
                    )
    reason = failure_reason(statuses)
    if kind == 'Bounce' and isinstance(bounce, dict) and not reason:
        # SES's own verdict, e.g. `Permanent bounce (Suppressed)` for an address on the suppression list
        kinds = [str(bounce.get(k) or '') for k in ('bounceType', 'bounceSubType')]
        if kinds[0]:
            reason = one_line(f'{kinds[0]} bounce' + (f' ({kinds[1]})' if kinds[1] else ''), MAX_REASON)
    return SesNotification(
        kind=kind, action=action, recipients=tuple(recipients), message_id=_ses_message_id(mail), reason=reason
    )


def _ses_message_id(mail: dict[str, object]) -> str | None:
    common = mail.get('commonHeaders')
    if isinstance(common, dict) and isinstance(common.get('messageId'), str):
        return message_id_in(common['messageId'])
    headers = mail.get('headers')
    if isinstance(headers, list):
        for header in headers:
            if isinstance(header, dict) and str(header.get('name', '')).lower() == 'message-id':
                return message_id_in(str(header.get('value', '')))
    ses_id, arn = mail.get('messageId'), mail.get('sourceArn')
    if isinstance(ses_id, str) and ses_id:
        # SES stamps what it sends with <ses-id@REGION.amazonses.com>.
        parts = arn.split(':') if isinstance(arn, str) else []
        region = parts[3] if len(parts) > 3 and parts[3] else 'email'
        return f'<{ses_id}@{region}.amazonses.com>'
    return None
