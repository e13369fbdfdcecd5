"""The dev runtime's data folder: the handlers' logs and the key that signs the dev API's tokens.

`inboxdesk dev` makes the folder and the key (`.dev/jwt.key`, random, mode 0600) and records, while it
runs, where its folder is (`$XDG_STATE_HOME/inboxdesk/dev-runtime.json`), so that `inboxdesk token`
run from another folder signs with the key the running API checks. Commands only read: a new key
would sign tokens that the running API refuses.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from pathlib import Path
from typing import Final

from inboxdesk_cli.errors import InvalidTokenError, SigningKeyNotFoundError

ENV_DATA_DIR: Final = 'INBOXDESK_DEV_DATA_DIR'
DEFAULT_DATA_DIR: Final = Path('.dev')
KEY_FILE: Final = 'jwt.key'


def default_data_dir() -> Path:
    return Path(os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR)


def _decode_key(path: Path) -> bytes:
    try:
        return base64.b64decode(path.read_text(encoding='ascii').strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidTokenError(f'the dev signing key in {path} is not base64') from exc


def signing_key(data_dir: Path) -> bytes:
    """The key in `<data_dir>/jwt.key`, made (with the folder) on first use: for the runtime itself."""
    path = data_dir / KEY_FILE
    if path.is_file():
        return _decode_key(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w', encoding='ascii') as f:
        f.write(base64.b64encode(key).decode('ascii') + '\n')
    return key


def _state_file() -> Path:
    state_home = os.environ.get('XDG_STATE_HOME') or Path.home() / '.local' / 'state'
    return Path(state_home) / 'inboxdesk' / 'dev-runtime.json'


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def record_running(data_dir: Path, api_url: str) -> None:
    """Note, for commands run elsewhere, that this process serves the dev API with the key in `data_dir`."""
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {'pid': os.getpid(), 'data_dir': str(data_dir.resolve()), 'api': api_url}
    path.write_text(json.dumps(record) + '\n', encoding='utf-8')


def forget_running() -> None:
    """Remove this process's record (another runtime's record stays)."""
    if (running := _running_record()) is not None and running.get('pid') == os.getpid():
        _state_file().unlink(missing_ok=True)


def _running_record() -> dict[str, object] | None:
    try:
        record = json.loads(_state_file().read_text(encoding='utf-8'))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get('pid'), int) or not _alive(record['pid']):
        return None
    return record


def running_data_dir() -> Path | None:
    """The data folder of the dev runtime running on this machine, if one is."""
    record = _running_record()
    return Path(str(record['data_dir'])) if record and record.get('data_dir') else None


def find_signing_key(data_dir: Path | None = None) -> bytes:
    """The key of `data_dir` when given; else the running runtime's, else the one in `.dev` here.
    Never makes a key or a folder; SigningKeyNotFoundError names every place it looked."""
    if data_dir is not None:
        candidates = [data_dir]
    else:
        candidates = [d for d in (running_data_dir(), default_data_dir()) if d is not None]
    for candidate in candidates:
        if (candidate / KEY_FILE).is_file():
            return _decode_key(candidate / KEY_FILE)
    looked = ', '.join(str(c / KEY_FILE) for c in dict.fromkeys(candidates))
    running = '' if data_dir is not None or running_data_dir() else ' No dev runtime is running on this machine.'
    raise SigningKeyNotFoundError(
        f'no dev signing key found (looked in {looked}).{running} Start it with `make dev`, or pass'
        ' --dev-dir with the data folder of a running `inboxdesk dev` (its --data-dir).'
    )
