"""``python -m bench --sizes S M [--cases B1 ...]``: run the benchmarks, print one table, write JSON."""

from __future__ import annotations

import argparse
import sys

from bench.harness import REGISTRY, SIZES, print_table, run, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", nargs="+", choices=SIZES, default=["S", "M"], help="sizes to run (default: S M)")
    parser.add_argument("--cases", nargs="+", choices=list(REGISTRY), default=list(REGISTRY), help="cases to run")
    parser.add_argument("--repeats", type=int, default=None, help="warm rounds per case (default: by size)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold (fresh process) runs")
    parser.add_argument(
        "--strict", action="store_true", help="exit non-zero when a ratio misses its goal (not only on errors)"
    )
    args = parser.parse_args(argv)

    def echo(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    rows = run(args.cases, args.sizes, repeats=args.repeats, cold=not args.no_cold, echo=echo)
    print_table(rows)
    path = write_json(rows, args.sizes)
    print(f"results: {path}")
    failed = [r for r in rows if r.status in ("FAILED", "ERROR")]
    missed = [r for r in rows if r.meets_goal is False]
    for r in failed:
        print(f"{r.case} {r.size} {r.label}: {r.status}: {r.message}", file=sys.stderr)
    if failed:
        return 1
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
