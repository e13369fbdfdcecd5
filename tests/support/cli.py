"""The `inboxdesk` command line of this tree, run in a subprocess as a user runs it."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from tests.conftest import REPO

# this tree's code first, as an editable install of it would resolve it
PYTHONPATH = os.pathsep.join(str(REPO / part) for part in ('layers/inboxdesk/python', 'functions', '.'))
INBOXDESK = [sys.executable, '-m', 'inboxdesk_cli']


def cli_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (the test's environment by default) with this tree's packages importable."""
    env = dict(os.environ if base is None else base)
    env['PYTHONPATH'] = PYTHONPATH
    return env
