"""What ships to Lambda is what runs there: the layer holds the domain package and nothing of the dev
runtime or the command line, which the project installs as a package of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import setuptools

from infra.constants import DOMAIN_LAYER_DIR
from tests.conftest import REPO

LAYER_PYTHON = DOMAIN_LAYER_DIR / 'python'  # the folder Lambda mounts as /opt/python
DEV_ONLY_IMPORT = re.compile(r'^\s*(?:from|import)\s+(inboxdesk_cli|moto|aiosmtpd)\b', re.MULTILINE)


def _shipped() -> list[Path]:
    return [p for p in LAYER_PYTHON.rglob('*') if '__pycache__' not in p.parts and p.suffix != '.pyc']


def test_the_layer_source_holds_no_dev_runtime_code():
    # Given the layer folder the CDK app ships
    shipped = _shipped()
    # Then it holds the domain package alone
    assert sorted(p.name for p in LAYER_PYTHON.iterdir() if p.name != '__pycache__') == ['inboxdesk']
    # And nothing of the dev runtime, the commands or the command line
    names = {p.relative_to(LAYER_PYTHON).as_posix() for p in shipped}
    assert not [n for n in names if re.search(r'(^|/)(local|commands)(/|$)|(^|/)cli\.py$', n)], names
    # And no module of it imports the dev package or the dev-only servers
    importing = [p.name for p in shipped if p.suffix == '.py' and DEV_ONLY_IMPORT.search(p.read_text('utf-8'))]
    assert importing == []


def test_importing_every_module_of_the_layer_loads_no_dev_code(tmp_path):
    # Given a Python that sees the layer (and the third-party packages), as Lambda does
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import inboxdesk
        for module in pkgutil.walk_packages(inboxdesk.__path__, 'inboxdesk.'):
            importlib.import_module(module.name)
        loaded = sorted({name.split('.')[0] for name in sys.modules})
        print(' '.join(loaded))
        """
    )
    env = {**os.environ, 'PYTHONPATH': str(LAYER_PYTHON)}
    # When every module of the layer is imported
    done = subprocess.run([sys.executable, '-c', script], cwd=tmp_path, env=env, capture_output=True, text=True)
    # Then none of the dev package, the dev-only servers or the handlers came with them
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert 'inboxdesk' in loaded
    assert loaded.isdisjoint({'inboxdesk_cli', 'moto', 'aiosmtpd', 'api', 'inbound', 'outbound'})


def test_the_project_installs_the_layer_the_handlers_and_the_command_line_side_by_side():
    # Given the packaging declared in pyproject.toml
    config = tomllib.loads((REPO / 'pyproject.toml').read_text())
    find = config['tool']['setuptools']['packages']['find']
    # When setuptools finds the packages it installs
    found = {
        package
        for where in find['where']
        for package in setuptools.find_packages(str(REPO / where), include=find['include'])
    }
    # Then the domain package, the handlers and the command line are top-level packages of their own
    assert {p for p in found if '.' not in p} == {'inboxdesk', 'inboxdesk_cli', 'api', 'inbound', 'outbound'}
    assert {'inboxdesk_cli.local', 'inboxdesk_cli.commands'} <= found
    assert not [p for p in found if p.startswith(('inboxdesk.local', 'inboxdesk.commands'))]
    # And the `inboxdesk` command is the command line's entry point
    assert config['project']['scripts'] == {'inboxdesk': 'inboxdesk_cli.main:main'}
