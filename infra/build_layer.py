"""Build the dependencies layer without Docker: `python -m infra.build_layer TARGET` (used by `make build`
and by the CDK app's local bundling). Installs layers/deps/requirements.txt from manylinux2014_aarch64
wheels for CPython 3.12 into TARGET, then removes the AWS SDK (boto3, botocore, s3transfer): the Lambda
runtime ships a matching set, and a layer botocore would shadow it and break boto3's version pairing.
No aws_cdk import here, so `make build` stays fast.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / 'layers' / 'deps' / 'requirements.txt'
PYTHON_VERSION = '3.12'
PIP_ARGS = [
    '--platform',
    'manylinux2014_aarch64',
    '--implementation',
    'cp',
    '--python-version',
    PYTHON_VERSION,
    '--only-binary=:all:',
    '--quiet',
]
PROVIDED_BY_RUNTIME = ('boto3', 'botocore', 's3transfer')


def build(target: Path, requirements: Path = REQUIREMENTS) -> None:
    """pip-install the requirements for arm64 Lambda into `target` (a fresh folder), then prune it."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    command = [sys.executable, '-m', 'pip', 'install', *PIP_ARGS, '--target', str(target), '-r', str(requirements)]
    subprocess.run(command, check=True)  # noqa: S603 - fixed arguments, no shell
    prune(target)


def prune(target: Path) -> None:
    for path in list(target.iterdir()):
        name = path.name.split('-')[0].lower()
        if name in PROVIDED_BY_RUNTIME or path.name in ('bin', '__pycache__'):
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for cache in list(target.rglob('__pycache__')):
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: python -m infra.build_layer TARGET')
    build(Path(sys.argv[1]))
