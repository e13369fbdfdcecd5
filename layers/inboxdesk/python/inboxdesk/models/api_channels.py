"""The API's bodies for outbound channels (pydantic). No response has a field for the password."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, StringConstraints, field_validator

from inboxdesk.models.api import EmailAddress, _Model, _Request
from inboxdesk.models.channel import CREATABLE_CHANNEL_KINDS
from inboxdesk.models.vocabulary import CHANNEL_KINDS, ChannelKind, ChannelStatus, TlsMode

# A value that becomes part of a mail header: no control characters, so no CR/LF.
HeaderText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r'^[^\x00-\x1f\x7f]*$')]
HostName = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=253, pattern=r'^[^\s/@]+$')
]
Username = Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=r'^[^\x00-\x1f\x7f]+$')]
Password = Annotated[SecretStr, Field(min_length=1, max_length=1024)]
SmtpPort = Annotated[int, Field(ge=1, le=65535, description='25, 465, 587 or 2525')]


class SmtpSettingsIn(_Request):
    host: HostName
    port: SmtpPort = 587
    tls_mode: TlsMode = Field('starttls', description='implicit TLS (usually 465) or STARTTLS; never plaintext')
    username: Username
    password: Password = Field(description='write-only: stored in Secrets Manager, never returned')


class SmtpSettingsPatch(_Request):
    host: HostName | None = None
    port: SmtpPort | None = None
    tls_mode: TlsMode | None = None
    username: Username | None = None
    password: Password | None = Field(None, description='write-only: replaces the stored password')


class ChannelCreate(_Request):
    kind: ChannelKind = Field(description='ses (Amazon SES) or smtp (your own server)')
    from_address: EmailAddress
    display_name: HeaderText = ''
    smtp: SmtpSettingsIn | None = None

    @field_validator('kind', mode='before')
    @classmethod
    def _kind_available(cls, value: Any) -> Any:
        if value in CHANNEL_KINDS and value not in CREATABLE_CHANNEL_KINDS:
            raise ValueError(f'{value} channels are created by connecting the mailbox; here: ses or smtp')
        if value not in CREATABLE_CHANNEL_KINDS:
            raise ValueError(f'kind must be one of {", ".join(CREATABLE_CHANNEL_KINDS)}')
        return value


class ChannelPatch(_Request):
    from_address: EmailAddress | None = None
    display_name: HeaderText | None = None
    smtp: SmtpSettingsPatch | None = None


class SmtpSettingsOut(_Model):
    host: str
    port: int
    tls_mode: str
    username: str
    password_set: bool = Field(True, description='a password is stored (it is never shown)')


class Channel(_Model):
    id: str
    kind: str
    from_address: str
    display_name: str
    status: ChannelStatus
    status_reason: str | None = Field(None, description='what needs attention, for admins')
    smtp: SmtpSettingsOut | None = None
    created_at: str
    updated_at: str


class ChannelList(_Model):
    items: list[Channel]


class ChannelTest(_Model):
    ok: bool
    stage: str | None = Field(None, description='the step that failed: dns, address, tcp, tls, auth or identity')
    detail: str = Field(description='what happened, in plain words')
    channel: Channel
