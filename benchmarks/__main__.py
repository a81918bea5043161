"""python -m benchmarks generate|measure [--quick]: what `make bench` (scripts/bench.sh) runs.

`python -m benchmarks clues --count 100000 --seed 7` adds seeded clues to the network already loaded
(benchmarks.clue_map: the review map at scale, issue 9).

`generate` connects as the database's owner (DATABASE_URL set so by scripts/bench.sh) and fills an empty
migrated database; `measure` connects as the application's role, as the site does.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def measure(*, quick: bool, destination: Path, only: list[str] | None = None, log=print) -> list:  # noqa: ANN001
    """Measure every path (or those named in `only`); print the table, write `destination`; return the rows."""
    from . import data, paths, runner

    scale = data.scale_from_env(data.QUICK if quick else data.FULL)
    reps = int(os.environ.get("BENCH_REPS", 3 if quick else 30))
    budget_s = float(os.environ.get("BENCH_PATH_BUDGET_S", 5 if quick else 25))
    ctx = paths.Context(reps=reps, budget_s=budget_s, scale=scale, owner_dsn=os.environ.get("BENCH_OWNER_DSN"),
                        quick=quick)  # fmt: skip
    rows = []
    began = time.perf_counter()
    for measure_path in paths.ROWS:
        if only and measure_path.__name__ not in only:
            continue
        started = time.perf_counter()
        try:
            found = measure_path(ctx)
        except Exception as exc:  # noqa: BLE001 - a path that breaks is reported, not hidden
            if quick:
                raise
            note = f"not measured: {type(exc).__name__}: {exc}"[:500]
            found = [
                runner.Row(name=measure_path.__name__, ours=None, baseline=None, unit="", ratio=None, target="",
                           passed=None, note=note)
            ]  # fmt: skip
        rows += found
        log(f"  {measure_path.__name__}: {time.perf_counter() - started:.1f} s")
    log(runner.table(rows))
    meta = {
        "scale": data.summary(),
        "reps": reps,
        "path_budget_s": budget_s,
        "measure_seconds": round(time.perf_counter() - began, 1),
        "load_average_before": os.environ.get("BENCH_LOADAVG_BEFORE"),
        "load_average_after": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "cpu_count": os.cpu_count(),
        "driver": "Django test client in-process, signed in with an API token (benchmarks/paths.py says why)",
        "generate_seconds": os.environ.get("BENCH_GENERATE_SECONDS"),
    }
    runner.write(rows, destination, meta)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("action", choices=["generate", "measure", "clues"])
    parser.add_argument("--count", type=int, default=100_000, help="clues: how many to add")
    parser.add_argument("--seed", type=int, default=7, help="clues: the seed (another seed adds other clues)")
    parser.add_argument("--quick", action="store_true", help="small data (seconds), as make test runs it")
    parser.add_argument("--only", nargs="*", help="measure only these paths (function names in benchmarks.paths)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from . import data

    if args.action == "clues":
        from .clue_map import clues_generate

        began = time.perf_counter()
        clues_generate(count=args.count, seed=args.seed)
        print(f"==> {args.count} clues added in {time.perf_counter() - began:.1f} s")
        return 0
    if args.action == "generate":
        scale = data.scale_from_env(data.QUICK if args.quick else data.FULL)
        print(f"==> generating {scale}")
        began = time.perf_counter()
        data.generate(scale)
        problems = data.shares_check() + data.agencies_check()
        for problem in problems:
            print(f"  MISMATCH {problem}")
        data.analyze()
        print(f"==> generated in {time.perf_counter() - began:.0f} s: {data.summary()}")
        return 1 if problems else 0
    measure(quick=args.quick, destination=args.out, only=args.only)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
