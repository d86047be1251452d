"""Exactly once through a network that loses, delays, cuts and repeats requests.

A terminal with recorded operations syncs through tests/support/netfault.py's proxy until nothing is
pending; the server then holds every operation once, each account moved on by one version per
operation, and the cache equals the server, field by field.
"""

import itertools
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient.store.models import OutboxRow
from hallclient.sync.api import ServerUnreachable
from hallserver.models import OperationRow
from tests.support.counter import (
    HALL,
    Counter,
    active_accounts,
    cached_accounts,
    holder,
    server_accounts,
)
from tests.support.netfault import FaultyProxy, random_faults

CLIENT_TIMEOUT = 1.0  # seconds; a held answer (slow_response) comes after twice that


def recorded_terminal(tmp_path, server, accounts, rounds):
    """A terminal that recorded `rounds` operations on each of `accounts` accounts (suspend,
    resume, ...: each builds on the last) and has pushed none of them; returns it and the
    accounts as they were."""
    direct = Counter(tmp_path / "boot", server.url, HALL, "T01", "gz-th-01-c1")
    direct.login()
    direct.engine.sync_once()
    before = active_accounts(direct, accounts)
    for round_no in range(rounds):
        kind = "suspend" if round_no % 2 == 0 else "resume"
        for a in before:
            direct.record(kind, a.number, holder(a))
    direct.close()
    return direct, before


def through(proxy, direct, tmp_path, push_batch):
    """The same terminal (cache, keyring, installation) reaching the server through `proxy`."""
    counter = Counter(tmp_path / "boot", proxy.url, HALL, "T01", "gz-th-01-c1",
                      keyring=direct.keyring, timeout=CLIENT_TIMEOUT)
    counter.settings = direct.settings
    counter.engine.push_batch = push_batch  # many round trips, so that faults meet pushes
    return counter


def sync_until_done(counter):
    """Sync rounds until nothing is pending; returns how many failed."""
    failures = 0
    for _ in range(300):
        try:
            if counter.engine.sync_once().pending == 0:
                return failures
        except ServerUnreachable:
            failures += 1
    raise AssertionError(f"still pending after 300 rounds ({failures} failed)")


def assert_applied_once(server, counter, before, rounds):
    with counter.cache.read() as s:
        states = dict(s.execute(select(OutboxRow.state, func.count())
                                .group_by(OutboxRow.state)).all())
    operations = len(before) * rounds
    assert states == {"applied": operations}
    with Session(server.engine) as s:
        assert s.scalar(select(func.count()).select_from(OperationRow)) == operations
    on_server = server_accounts(server.engine, "GZ-TH")
    for a in before:
        # Every operation applied once: `rounds` versions on, suspended after an odd number.
        assert on_server[a.number]["version"] == a.version + rounds
        assert on_server[a.number]["status"].value == ("suspended" if rounds % 2 else "active")
    assert cached_accounts(counter.cache) == on_server


@pytest.mark.parametrize("fault", [
    "drop", "lose_response", "slow_response", "cut_response", "replay", "double_response"])
def test_every_other_request_meeting_a_fault_still_applies_each_operation_once(
        fault, tmp_path, server):
    direct, before = recorded_terminal(tmp_path, server, accounts=10, rounds=2)
    faults = itertools.cycle([fault, "pass"])
    proxy = FaultyProxy(server.port, lambda: next(faults), hold=2 * CLIENT_TIMEOUT)
    proxy.start()
    counter = through(proxy, direct, tmp_path, push_batch=10)
    try:
        failures = sync_until_done(counter)
        assert_applied_once(server, counter, before, rounds=2)
    finally:
        counter.close()
        proxy.stop()
    assert proxy.count(fault, "/push") > 0
    if fault == "replay":
        # Nothing failed for the terminal, yet every push reached the server twice: the
        # second copy applied nothing and was answered with the first copy's outcomes.
        assert failures == 0
        pushes = [(first, second) for target, first, second in proxy.replayed
                  if target.endswith("/push")]
        assert pushes
        for first, second in pushes:
            first_results = json.loads(first[1])["results"]
            second_results = json.loads(second[1])["results"]
            assert {r["outcome"] for r in first_results} == {"applied"}
            assert [(r["outcome"], r["first_outcome"]) for r in second_results] == [
                ("duplicate", "applied")] * len(first_results)
    elif fault != "double_response":  # whether a stale copy is ever read is up to httpx
        assert failures > 0


def test_operations_land_exactly_once_through_a_network_with_every_fault(tmp_path, server):
    rounds = 4
    direct, before = recorded_terminal(tmp_path, server, accounts=30, rounds=rounds)
    weights = {"pass": 0.3, "drop": 0.1, "delay": 0.1, "lose_response": 0.1,
               "slow_response": 0.1, "cut_response": 0.1, "replay": 0.1, "double_response": 0.1}
    proxy = FaultyProxy(server.port, random_faults(9, weights), hold=2 * CLIENT_TIMEOUT)
    proxy.start()
    counter = through(proxy, direct, tmp_path, push_batch=7)
    try:
        failures = sync_until_done(counter)
        assert_applied_once(server, counter, before, rounds)
    finally:
        counter.close()
        proxy.stop()
    met = {fault: proxy.count(fault, "/push") for fault in weights}
    print(f"pushes that met each fault {met}, sync rounds failed {failures}")
    assert all(met.values()) and failures > 0
