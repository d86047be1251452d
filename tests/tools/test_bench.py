"""The benchmark harness (`python -m bench`): its arithmetic and its table, without running
a benchmark (bench/RESULTS.md holds the figures)."""

import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from bench.__main__ import load, main, markdown_table, rows, selected_areas
from bench.common import Figure, peak_rss_mb, percentile


def test_percentile_is_the_nearest_rank():
    samples = [float(n) for n in range(100, 0, -1)]  # 100 .. 1, unordered for the function
    assert percentile(samples, 50) == 50
    assert percentile(samples, 99) == 99
    assert percentile(samples, 100) == 100
    assert percentile([7.0], 99) == 7
    with pytest.raises(ValueError):
        percentile([], 50)


def test_an_unknown_area_is_refused_with_the_known_ones():
    assert selected_areas("push, receipts") == ["push", "receipts"]
    with pytest.raises(SystemExit, match="known: search"):
        selected_areas("push,pushes")


def test_each_figure_stands_beside_its_raw_limit_and_goal():
    figures = [Figure("push", "push 10,000", 7.56, "s", raw=0.35, raw_label="executemany",
                      goal="< 10 s", met=True),
               Figure("server", "pulls/s", 27.8, "req/s")]
    table = rows(figures, {"search": "OSError: disk full"})
    assert table == [
        ("push", "push 10,000", "7.56 s", "0.35 s (executemany)", "< 10 s", "✓"),
        ("server", "pulls/s", "27.8 req/s", "", "", ""),
        ("search", "FAILED", "OSError: disk full", "", "", "✗"),
    ]
    assert markdown_table(table).splitlines()[2] == (
        "| push | push 10,000 | 7.56 s | 0.35 s (executemany) | < 10 s | ✓ |")


def test_a_saved_run_prints_again_and_a_failed_area_fails_the_command(tmp_path, capsys):
    run = {"date": "2026-12-02T15:22:25+00:00", "quick": False, "seconds": {},
           "machine": {"cpu": "AMD EPYC", "cores": 2, "memory_gb": 24, "python": "3.11.7",
                       "commit": "d6bdf14"},
           "figures": [Figure("receipts", "80 mm", 9.06, "ms", goal="< 30 ms",
                              met=True).as_json()],
           "errors": {}}
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(run))
    assert load(saved)[0][0].value == 9.06
    assert main(["--from-json", str(saved), "--markdown"]) == 0
    assert "| receipts | 80 mm | 9.06 ms |  | < 30 ms | ✓ |" in capsys.readouterr().out
    saved.write_text(json.dumps({**run, "errors": {"push": "no PostgreSQL"}}))
    assert main(["--from-json", str(saved)]) == 1


def test_a_spawned_child_s_peak_memory_is_its_own_not_its_parent_s():
    # Linux carries ru_maxrss across exec: a child spawned by a big benchmark process
    # reported the parent's size as its own peak.
    ballast = bytearray(300 * 2**20)
    for at in range(0, len(ballast), 4096):
        ballast[at] = 1
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as child:
        peak = child.submit(peak_rss_mb).result()
    assert peak < 150
    assert peak_rss_mb() >= 300
