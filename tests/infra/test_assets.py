"""What ships to Lambda is what runs on AWS: the code asset and the layers hold no dev runtime, CLI or tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.infra.conftest import REPO, Synthesized
from tests.infra.helpers import of_type, props

DEV_FOLDERS = {'local', 'commands', 'inboxdesk_cli', 'tests', 'bench', 'infra'}
DEV_FILES = {'cli.py', 'conftest.py'}
DEV_IMPORT = re.compile(r'^\s*(from|import)\s+(inboxdesk_cli|inboxdesk\.local|inboxdesk\.commands|tests)\b', re.M)


def _staged_assets(synthesized: Synthesized) -> dict[str, Path]:
    """Each function's code and each layer's content, as staged in the cloud assembly (by logical id)."""
    t = synthesized.template
    found = {}
    for resource_type, code in (('AWS::Lambda::Function', 'Code'), ('AWS::Lambda::LayerVersion', 'Content')):
        for logical_id, resource in of_type(t, resource_type).items():
            key: str = props(resource)[code]['S3Key']
            folder = synthesized.template_file.parent / f'asset.{key.removesuffix(".zip")}'
            if folder.is_dir():  # the dependencies layer is bundled by pip, which these tests skip
                found[logical_id] = folder
    return found


def _dev_code(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob('*'):
        relative = path.relative_to(folder)
        if DEV_FOLDERS & set(relative.parts[:-1]) or (path.is_dir() and path.name in DEV_FOLDERS):
            found.append(f'{relative}/' if path.is_dir() else str(relative))
        elif path.name in DEV_FILES or path.name.startswith('test_'):
            found.append(str(relative))
        elif path.suffix == '.py' and DEV_IMPORT.search(path.read_text(encoding='utf-8', errors='replace')):
            found.append(f'{relative} (imports dev code)')
    return sorted(found)


def test_the_function_code_and_domain_layer_assets_hold_no_dev_runtime_cli_or_tests(synthesized: Synthesized) -> None:
    # Given the assets `cdk synth` staged for the functions and the layers
    t = synthesized.template
    assets = _staged_assets(synthesized)
    functions = of_type(t, 'AWS::Lambda::Function')
    # Then every function runs from one shared asset that holds each handler's package ...
    [functions_asset] = {folder for logical_id, folder in assets.items() if logical_id in functions}
    packages = {props(f)['Handler'].split('.')[0] for f in functions.values()}
    assert packages <= {p.name for p in functions_asset.iterdir()}
    # ... and the domain layer's asset holds the inboxdesk package
    [domain_layer] = [folder for logical_id, folder in assets.items() if logical_id.startswith('LayersDomain')]
    assert (domain_layer / 'python' / 'inboxdesk' / 'resources.py').is_file()
    # And neither holds the dev runtime, the command line, tests, or a module importing them
    problems: dict[str, Any] = {name: _dev_code(folder) for name, folder in assets.items()}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_dependencies_layer_never_installs_this_project() -> None:
    # Given the requirements the dependencies layer is built from
    text = (REPO / 'layers' / 'deps' / 'requirements.txt').read_text()
    lines = [line.split('#')[0].strip() for line in text.splitlines() if line.split('#')[0].strip()]
    # Then each names a third-party distribution from the index: not our own package, not a local path
    assert lines
    for line in lines:
        assert re.match(r'[A-Za-z0-9]', line), line  # no -e, ./, /, -r
        assert not re.match(r'inboxdesk', line, re.I), line
        assert '/' not in line and not line.startswith('file:'), line
