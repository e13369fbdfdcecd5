"""The dev API's tokens: standard HS256 JWTs with Cognito's claims, and `inboxdesk token`, which signs
with the running dev runtime's key and never makes one."""

import base64
import json
import time
from pathlib import Path

import jwt
import pytest

from inboxdesk.auth import Role
from inboxdesk_cli.data_dir import record_running, signing_key
from inboxdesk_cli.errors import InvalidTokenError
from inboxdesk_cli.main import main
from inboxdesk_cli.tokens import DEV_AUDIENCE, DEV_ISSUER, issue_token, verify_token

KEY = b'k' * 32


def test_dev_token_is_a_standard_hs256_jwt_with_cognito_claims():
    # Given an admin token from the dev signer
    token = issue_token(Role.ADMIN, 'ada@example.com', key=KEY)
    # When an independent JWT library verifies it with the same key, issuer and audience
    claims = jwt.decode(token, KEY, algorithms=['HS256'], audience=DEV_AUDIENCE, issuer=DEV_ISSUER)
    # Then it carries the Cognito claims the API reads
    assert claims['email'] == 'ada@example.com'
    assert claims['cognito:groups'] == ['admins', 'agents']
    assert claims['exp'] > time.time()


def test_verify_accepts_own_token_and_rejects_tampering_expiry_other_key_and_alg_none():
    # Given a valid agent token
    token = issue_token(Role.AGENT, 'bob@example.com', key=KEY)
    assert verify_token(token, key=KEY)['cognito:groups'] == ['agents']
    header, payload, sig = token.split('.')
    claims = json.loads(base64.urlsafe_b64decode(payload + '=='))
    claims['cognito:groups'] = ['admins']
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b'=').decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b'=').decode()
    cases = {
        'tampered payload': f'{header}.{forged}.{sig}',
        'alg none': f'{none_header}.{payload}.',
        'garbage': 'not-a-token',
        'other key': issue_token(Role.AGENT, 'bob@example.com', key=b'x' * 32),
        'expired': issue_token(Role.AGENT, 'bob@example.com', key=KEY, lifetime=60, now=time.time() - 3600),
        'other audience': jwt.encode({**claims, 'aud': 'elsewhere'}, KEY, algorithm='HS256'),
        'other issuer': jwt.encode({**claims, 'iss': 'https://evil.example'}, KEY, algorithm='HS256'),
    }
    # When each is verified, Then each is refused
    for name, bad in cases.items():
        with pytest.raises(InvalidTokenError):
            verify_token(bad, key=KEY)
            pytest.fail(name)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder without `.dev`, and no dev runtime recorded as running on this machine."""
    monkeypatch.setenv('XDG_STATE_HOME', str(tmp_path / 'state'))
    monkeypatch.delenv('INBOXDESK_DEV_DATA_DIR', raising=False)
    folder = tmp_path / 'elsewhere'
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_token_without_a_data_folder_says_where_it_looked_and_creates_nothing(elsewhere, capsys):
    # Given no dev runtime running and no `.dev` here
    # When a token is asked for, with and without --dev-dir
    missing = elsewhere / 'no-such' / 'dev'
    assert main(['token', '--role', 'agent', '--email', 'cy@example.com']) == 1
    default_error = capsys.readouterr()
    assert main(['token', '--role', 'agent', '--email', 'cy@example.com', '--dev-dir', str(missing)]) == 1
    explicit_error = capsys.readouterr()
    # Then no token is printed, each error names the key file it looked for, and nothing was created
    assert default_error.out == explicit_error.out == ''
    assert '.dev/jwt.key' in default_error.err and 'No dev runtime is running' in default_error.err
    assert f'{missing}/jwt.key' in explicit_error.err
    assert list(elsewhere.iterdir()) == []


def test_token_signs_with_the_key_of_the_running_runtime_from_any_folder(elsewhere, tmp_path, capsys):
    # Given a dev runtime running on this machine with its data folder somewhere else
    data_dir = tmp_path / 'checkout' / '.dev'
    key = signing_key(data_dir)
    record_running(data_dir, 'http://127.0.0.1:8000')
    # When a token is asked for here, without --dev-dir
    assert main(['token', '--role', 'admin', '--email', 'ops@example.com']) == 0
    token = capsys.readouterr().out.strip()
    # Then the running runtime's key verifies it, and no folder was made here
    assert verify_token(token, key=key)['cognito:groups'] == ['admins', 'agents']
    assert list(elsewhere.iterdir()) == []


def test_token_with_dev_dir_uses_that_folders_key(elsewhere, tmp_path, capsys):
    # Given the data folder of a runtime (its private key file made on its first start)
    data_dir = tmp_path / 'dev'
    key = signing_key(data_dir)
    assert (data_dir / 'jwt.key').stat().st_mode & 0o077 == 0
    # When the CLI prints an agent token with --dev-dir
    assert main(['token', '--role', 'agent', '--email', 'cy@example.com', '--dev-dir', str(data_dir)]) == 0
    # Then that key verifies it
    assert verify_token(capsys.readouterr().out.strip(), key=key)['email'] == 'cy@example.com'
    # And a bad address is refused
    assert main(['token', '--role', 'agent', '--email', 'nobody', '--dev-dir', str(data_dir)]) == 2


def test_help_says_the_data_folder_holds_the_signing_key(capsys):
    # When a user asks the token and dev commands for help
    for command in ('token', 'dev'):
        with pytest.raises(SystemExit):
            main([command, '--help'])
        # Then the help names the signing key in the data folder
        assert 'signing key' in ' '.join(capsys.readouterr().out.split())
