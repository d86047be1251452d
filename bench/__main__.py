"""`python -m bench`: every benchmark area, one table, and the figures as JSON.

    python -m bench                     # every area, full size (tens of minutes)
    python -m bench --quick             # small sizes, a few minutes
    python -m bench --only push,receipts
    python -m bench --markdown          # the table in Markdown, for bench/RESULTS.md
    python -m bench --from-json FILE --markdown   # a saved run's table, without running

Each area is a module `bench.<area>` with `run(ctx) -> list[Figure]`; each figure sits beside
the raw limit measured in the same run. An area that fails (or is not there) is reported and
the others still run; the exit code is then 1. The JSON (machine, date, options, figures,
errors) goes to bench/results/<date>-<quick|full>.json unless --json says where; bench/results
is ignored by git.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import BenchContext, Figure, machine

AREAS = ("search", "bootstrap", "push", "receipts", "startup", "ui_stalls", "walk", "server",
         "account_import", "propagation", "http_load")
# The module of an area whose name is not its own.
MODULES = {"server": "bench.server"}
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_PG_URL = BenchContext(quick=False, work_dir=Path()).pg_url


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"areas: {', '.join(AREAS)}")
    parser.add_argument("--quick", action="store_true", help="small sizes (a few minutes)")
    parser.add_argument("--only", help="comma-separated areas to run (default: all)")
    parser.add_argument("--json", type=Path, help="where to write the figures "
                        "(default: bench/results/<date>-<quick|full>.json)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table in Markdown (for bench/RESULTS.md)")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="print the table of a saved run instead of running")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL,
                        help="PostgreSQL server and database name prefix for the areas that "
                             "use one; each adds a suffix of its own (default %(default)s)")
    parser.add_argument("--work-dir", type=Path,
                        help="scratch directory (default: a temporary one, removed after)")
    return parser


def selected_areas(only: str | None) -> list[str]:
    if not only:
        return list(AREAS)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in AREAS]
    if unknown:
        raise SystemExit(f"unknown area(s): {', '.join(unknown)} (known: {', '.join(AREAS)})")
    return wanted


def run_area(area: str, ctx: BenchContext) -> list[Figure]:
    """The area's figures; raises whatever it raised (an ImportError if it is not written)."""
    module = importlib.import_module(MODULES.get(area, f"bench.{area}"))
    figures: list[Figure] = module.run(ctx)
    return figures


def run_areas(areas: Sequence[str], ctx: BenchContext) -> tuple[list[Figure], dict[str, str],
                                                               dict[str, float]]:
    """(figures, error of each failed area, seconds each area took)."""
    figures: list[Figure] = []
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for area in areas:
        print(f"bench: {area} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            got = run_area(area, ctx)
        except Exception as exc:  # reported; the other areas still run
            errors[area] = f"{type(exc).__name__}: {exc}"
            print(f"bench: {area} failed: {errors[area]}\n{traceback.format_exc()}",
                  file=sys.stderr, flush=True)
        else:
            figures += got
            for figure in got:
                print(f"bench:   {figure.name}: {_value(figure)}", file=sys.stderr, flush=True)
        seconds[area] = round(time.perf_counter() - started, 1)
    return figures, errors, seconds


# --- the table -------------------------------------------------------------------------------


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100 or float(value).is_integer():  # a count: 51 keys
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) >= 0.01 else f"{value:.2g}"


def _value(figure: Figure) -> str:
    return f"{_number(figure.value)} {figure.unit}"


def _raw(figure: Figure) -> str:
    if figure.raw is None:
        return ""
    label = f" ({figure.raw_label})" if figure.raw_label else ""
    return f"{_number(figure.raw)} {figure.unit}{label}"


def _met(figure: Figure) -> str:
    return {True: "✓", False: "✗", None: ""}[figure.met]


COLUMNS = ("area", "figure", "value", "raw limit", "goal", "met")


def rows(figures: Sequence[Figure], errors: dict[str, str]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [(f.area, f.name, _value(f), _raw(f), f.goal, _met(f))
                                  for f in figures]
    out += [(area, "FAILED", error, "", "", "✗") for area, error in errors.items()]
    return out


def text_table(table: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [COLUMNS, *table]) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
             .rstrip() for row in [COLUMNS, *table]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(table: list[tuple[str, ...]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(COLUMNS), line(["---"] * len(COLUMNS)), *map(line, table)])


def notes(figures: Sequence[Figure]) -> str:
    return "\n".join(f"- {f.area} / {f.name}: {f.notes}" for f in figures if f.notes)


# --- the record ------------------------------------------------------------------------------


def record(figures: Sequence[Figure], errors: dict[str, str], seconds: dict[str, float],
           quick: bool, started: datetime) -> dict[str, Any]:
    return {"date": started.isoformat(timespec="seconds"), "quick": quick,
            "machine": machine(), "seconds": seconds,
            "figures": [f.as_json() for f in figures], "errors": errors}


def default_json_path(quick: bool, started: datetime) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    ignore = RESULTS_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Runs of `python -m bench`; recorded figures go in RESULTS.md.\n*\n")
    return RESULTS_DIR / f"{started:%Y-%m-%d-%H%M}-{'quick' if quick else 'full'}.json"


def load(path: Path) -> tuple[list[Figure], dict[str, str], dict[str, Any]]:
    data = json.loads(path.read_text())
    return [Figure(**f) for f in data["figures"]], data.get("errors", {}), data


def print_table(figures: Sequence[Figure], errors: dict[str, str], markdown: bool) -> None:
    table = rows(figures, errors)
    print(markdown_table(table) if markdown else text_table(table))
    if markdown and (text := notes(figures)):
        print(f"\n{text}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.from_json:
        figures, errors, data = load(args.from_json)
        print_table(figures, errors, args.markdown)
        if args.markdown:
            m = data["machine"]
            print(f"\n{data['date']}, {'quick' if data['quick'] else 'full'} run; {m['cpu']}, "
                  f"{m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}; commit "
                  f"{m['commit']}")
        return 1 if errors else 0
    areas = selected_areas(args.only)
    started = datetime.now().astimezone()
    with tempfile.TemporaryDirectory(prefix="hall-bench-") as tmp:
        ctx = BenchContext(quick=args.quick, work_dir=args.work_dir or Path(tmp),
                           pg_url=args.pg_url)
        figures, errors, seconds = run_areas(areas, ctx)
    path = args.json or default_json_path(args.quick, started)
    path.write_text(json.dumps(record(figures, errors, seconds, args.quick, started),
                               indent=2, ensure_ascii=False) + "\n")
    print()
    print_table(figures, errors, args.markdown)
    print(f"\nfigures written to {path}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
