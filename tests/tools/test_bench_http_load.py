"""The HTTP load benchmark's own logic (bench/http_load.py): reading wrk's and pgbench's
output, which request lines a run sent, and whose CPU counts; and its wrk scripts against a
small local HTTP server."""

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.http_load import (
    WRK_MARK,
    Cpu,
    Measured,
    PgbenchRun,
    Proc,
    WrkRun,
    cpu_seconds,
    descendants,
    figures,
    parse_pgbench,
    parse_stat,
    parse_wrk,
    postgres_pids,
    sent_lines,
    write_requests,
    wrk,
)


def _done_line(made: list[int], lines: list[int], status: int = 0) -> str:
    return WRK_MARK + json.dumps({
        "duration_us": 2_000_000, "requests": 500, "bytes": 1,
        "errors": {"connect": 1, "read": 0, "write": 0, "status": status, "timeout": 2},
        "latency_us": {"p50": 1500, "p90": 3000, "p99": 12000, "max": 20000, "mean": 1800.5},
        "threads": [{"made": m, "lines": n} for m, n in zip(made, lines, strict=True)],
        "outcomes": {"applied": 40, "conflict": 2}})


def test_a_run_is_read_from_the_line_the_script_prints_among_wrk_s_own():
    output = f"Running 2s test @ http://127.0.0.1:1\n{_done_line([3, 2], [5, 5], 7)}\n"
    run = parse_wrk(output, 50)
    assert (run.requests, run.per_s, run.p50_ms, run.p99_ms) == (500, 250.0, 1.5, 12.0)
    assert (run.non_2xx, run.socket_errors) == (7, 3)
    assert run.outcomes == {"applied": 40, "conflict": 2}
    assert not run.wrapped
    with pytest.raises(RuntimeError, match="HALL_WRK_JSON"):
        parse_wrk("Running 2s test\n", 50)


def test_the_lines_a_run_sent_are_each_thread_s_share_and_a_thread_may_run_out():
    # Thread 0 of 2 has lines 0, 2, 4 and sent two; thread 1 has 1, 3, 5 and sent all.
    assert sent_lines(parse_wrk(_done_line([2, 3], [3, 3]), 2)) == {0, 2, 1, 3, 5}
    wrapped = parse_wrk(_done_line([4, 1], [3, 3]), 2)
    assert wrapped.wrapped
    assert sent_lines(wrapped) == {0, 2, 4, 1}


def test_pgbench_s_rate_and_the_percentiles_of_its_transaction_log():
    output = ("number of failed transactions: 0 (0.000%)\nlatency average = 0.244 ms\n"
              "tps = 8194.244082 (without initial connection time)\n")
    run = parse_pgbench(output, [float(n) for n in range(100, 10_100, 100)], 30)
    assert (run.clients, run.tps, run.failed) == (30, 8194.244082, 0)
    assert (run.p50_ms, run.p99_ms) == (5.0, 9.9)
    with pytest.raises(RuntimeError):
        parse_pgbench("pgbench: error: connection failed\n", [], 1)


def test_a_stat_line_gives_user_and_system_time_even_with_a_parenthesis_in_its_name():
    fields = ["S", "41", *["0"] * 9, "250", "150", "7", "9"]  # utime 250, stime 150 ticks
    ppid, comm, seconds = parse_stat(f"4242 (uvicorn (w) 1) {' '.join(fields)}")
    assert (ppid, comm) == (41, "uvicorn (w) 1")
    assert seconds == pytest.approx(400 / os.sysconf("SC_CLK_TCK"))


def _proc(ppid: int, seconds: float, comm: str = "python", cmdline: str = "") -> Proc:
    return Proc(ppid, comm, seconds, cmdline)


def test_the_server_s_cpu_is_its_process_tree_and_postgres_only_for_the_database():
    before = {10: _proc(1, 1.0), 11: _proc(10, 5.0), 12: _proc(10, 6.0), 99: _proc(1, 50.0),
              20: _proc(1, 3.0, "postgres", "/usr/lib/postgresql/15/bin/postgres -D /x"),
              21: _proc(20, 2.0, "postgres", "postgres: 15/main: walwriter"),
              22: _proc(20, 4.0, "postgres",
                        "postgres: 15/main: postgres hall_a_http 127.0.0.1(5000) idle"),
              23: _proc(20, 9.0, "postgres",
                        "postgres: 15/main: postgres hall_h1 127.0.0.1(5001) SELECT")}
    after = {**before, 11: _proc(10, 5.5), 12: _proc(10, 7.0), 99: _proc(1, 80.0),
             22: _proc(20, 4.25, "postgres",
                       "postgres: 15/main: postgres hall_a_http 127.0.0.1(5000) idle"),
             23: _proc(20, 19.0, "postgres", before[23].cmdline),
             # started in the window: counted from 0
             24: _proc(20, 0.5, "postgres",
                       "postgres: 15/main: postgres hall_a_http [local] idle"),
             25: _proc(20, 1.0, "postgres", "postgres: 15/main: autovacuum worker hall_h1")}
    server = descendants(after, 10)
    assert server == {10, 11, 12}
    assert cpu_seconds(before, after, server) == pytest.approx(1.5)
    ours = postgres_pids(after, "hall_a_http")
    assert ours == {20, 21, 22, 24}
    assert cpu_seconds(before, after, ours) == pytest.approx(0.75)


def test_a_request_file_has_a_line_for_every_wrk_thread(tmp_path: Path) -> None:
    path = write_requests(tmp_path / "r.tsv", [("GET", "/api/v1/changes?after=3", "tok", "")])
    assert path.read_text() == "GET\t/api/v1/changes?after=3\ttok\t\n" * 2
    with pytest.raises(RuntimeError):
        write_requests(tmp_path / "none.tsv", [])


class _PushAnswers(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.headers["Authorization"] in ("Bearer t1", "Bearer t2")
        operations = json.loads(body)["operations"]
        answer = json.dumps({"results": [{"outcome": "applied" if op["ok"] else "conflict"}
                                         for op in operations]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_the_push_script_sends_each_thread_s_lines_and_counts_every_outcome(tmp_path: Path
                                                                          ) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PushAnswers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    bodies = [json.dumps({"operations": [{"ok": True}, {"ok": i % 2 == 0}]}) for i in range(6)]
    requests = write_requests(tmp_path / "pushes.tsv", [
        ("POST", "/api/v1/push", f"t{1 + i % 2}", body) for i, body in enumerate(bodies)])
    try:
        run = wrk(str(shutil.which("wrk")), f"http://127.0.0.1:{server.server_port}",
                  requests, 2, 1, "push.lua")
    finally:
        server.shutdown()
    assert run.lines == [3, 3]
    assert run.requests > 0 and run.non_2xx == 0
    # Thread 0 has the even lines (both operations applied), thread 1 the odd ones (one each).
    answered = sum(run.outcomes.values())
    assert answered >= 2 * run.requests
    assert run.outcomes["applied"] > run.outcomes["conflict"] > 0


def _measured(scenario: str, connections: int, requests: int, server_cpu: float) -> Measured:
    run = WrkRun(connections, 2.0, requests, 0, 0, 1.0, 250.0, [requests], [4], {})
    return Measured(scenario, run, Cpu(2.0, server_cpu, 0.5, 0.1, 3.0, 1.2))


def test_each_figure_stands_beside_its_raw_limit_with_the_issue_s_goals():
    result = {
        "served": [_measured("empty pull", 50, 2000, 1.5),
                   _measured("push of 10", 50, 100, 4.0),
                   _measured("push of 10", 1000, 0, 4.0)],
        "bare": [_measured("bare endpoint", 50, 4000, 1.0),
                 _measured("bare endpoint", 1000, 3000, 1.0)],
        "pgbench": {("empty_pull.sql", 50): PgbenchRun(30, 5000.0, 1.0, 3.0, 0)}}
    by_name = {f.name: f for f in figures(result)}
    rate = by_name["empty pull, 50 conn: requests/s"]
    assert (rate.value, rate.raw, rate.goal, rate.met) == (1000.0, 5000.0, "≥ 1,000 req/s", True)
    assert rate.raw_label == "pgbench, same statements, 30 clients"
    cpu = by_name["empty pull, 50 conn: server CPU/request"]
    assert (cpu.value, cpu.raw, cpu.met) == (0.75, 0.25, True)
    push = by_name["push of 10, 50 conn: p99"]
    assert (push.value, push.goal, push.met) == (250.0, "< 300 ms", True)
    assert by_name["push of 10, 50 conn: requests/s"].raw_label == (
        "bare endpoint, same stack, 50 conn")
    # Nothing answered at 1,000 connections: its rate (0), and no latency or CPU per request.
    assert [name for name in by_name if name.startswith("push of 10, 1000")] == [
        "push of 10, 1000 conn: requests/s"]
