"""The dependencies layer is bundled on this machine (no Docker) and leaves the AWS SDK to the runtime."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_local_bundling_stages_the_prebuilt_dependencies_without_docker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a prebuilt dependencies folder (as `make build` leaves it), newer than requirements.txt
    from aws_cdk import App, Stack

    import infra.constructs.runtime as runtime

    prebuilt = tmp_path / 'deps'
    (prebuilt / 'python' / 'fakepkg').mkdir(parents=True)
    (prebuilt / 'python' / 'fakepkg' / '__init__.py').write_text('VALUE = 1\n')
    monkeypatch.setattr(runtime, 'PREBUILT_DEPS_DIR', prebuilt)
    # When an app with bundling enabled (the default) synthesizes the layers
    outdir = tmp_path / 'cdk.out'
    app = App(outdir=str(outdir))
    runtime.Layers(Stack(app, 'LayersOnly'), 'Layers')
    app.synth()
    # Then the dependencies layer asset holds the prebuilt packages under python/, as Lambda expects
    staged = list(outdir.glob('asset.*/python/fakepkg/__init__.py'))
    assert len(staged) == 1
    assert staged[0].read_text() == 'VALUE = 1\n'
    # And the domain layer asset holds our package under python/inboxdesk, without caches
    [domain] = list(outdir.glob('asset.*/python/inboxdesk/resources.py'))
    assert not list(domain.parent.rglob('__pycache__'))


def test_build_prunes_the_aws_sdk_that_the_lambda_runtime_provides(tmp_path: Path) -> None:
    # Given an installed layer folder with the AWS SDK next to other packages
    from infra.build_layer import prune

    for name in ('boto3', 'botocore', 's3transfer', 'pynamodb', 'bin', '__pycache__'):
        (tmp_path / name).mkdir()
    for name in ('botocore-1.44.8.dist-info', 'pynamodb-6.1.0.dist-info'):
        (tmp_path / name).mkdir()
    (tmp_path / 'six.py').write_text('')
    # When it is pruned
    prune(tmp_path)
    # Then boto3, botocore, s3transfer (and their metadata), scripts and caches are gone; the rest stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ['pynamodb', 'pynamodb-6.1.0.dist-info', 'six.py']


def test_build_compiles_the_layer_for_the_lambda_python(tmp_path: Path) -> None:
    # Given an installed layer folder and a CPython 3.12 on this machine (Lambda's /opt is read-only:
    # without shipped bytecode every cold start compiles the layer)
    from infra.build_layer import compile_bytecode, runtime_python

    if runtime_python() is None:
        pytest.skip('no CPython 3.12 here (set LAYER_PYTHON)')
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / '__init__.py').write_text('VALUE = 1\n')
    # When it is compiled
    assert compile_bytecode(tmp_path)
    # Then the package has 3.12 bytecode that does not depend on file times
    [pyc] = list((tmp_path / 'pkg' / '__pycache__').glob('*.pyc'))
    assert pyc.name == '__init__.cpython-312.pyc'
    flags = int.from_bytes(pyc.read_bytes()[4:8], 'little')
    assert flags == 0b01  # hash-based, unchecked (PEP 552)
