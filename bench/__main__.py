"""Run every benchmark: the `main()` of each `bench/bench_*.py` module, in name order."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    wanted = set(sys.argv[1:])
    for path in sorted(here.glob('bench_*.py')):
        if wanted and path.stem not in wanted:
            continue
        print(f'## {path.stem}', flush=True)
        importlib.import_module(f'bench.{path.stem}').main()
    return 0


if __name__ == '__main__':
    sys.exit(main())
