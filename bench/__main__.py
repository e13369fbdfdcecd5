"""Run every benchmark: the `main()` of each `bench/bench_*.py` module, in name order, each in a process
of its own (benchmarks set up their own embedded AWS and clients; a fresh process also keeps peak-memory
readings apart). `python -m bench bench_api` runs only the ones named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    wanted = set(sys.argv[1:])
    failed = []
    for path in sorted(here.glob('bench_*.py')):
        if wanted and path.stem not in wanted:
            continue
        print(f'## {path.stem}', flush=True)
        code = f'import bench.{path.stem} as bench; bench.main()'
        if subprocess.run([sys.executable, '-c', code], cwd=here.parent, check=False).returncode != 0:  # noqa: S603
            failed.append(path.stem)
    if failed:
        print(f'failed: {", ".join(failed)}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
