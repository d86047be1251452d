"""`hallserver accounts import`: the customer system's file into the central database, on SQLite
and PostgreSQL. New and changed accounts reach a terminal by its normal pull; a re-import
changes nothing; bad rows are rejected with their reason and the rest is imported; nothing is
half-imported."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from hallcore.demodata import DISTRICTS, communities
from hallcore.demodata import accounts as demo_accounts
from hallcore.domain.accounts import STATUS_LABELS, Account
from hallcore.domain.ids import DOC_TYPE_LABELS, make_resident_id
from hallserver import account_import
from hallserver.__main__ import main
from hallserver.account_import import COLUMNS, ImportRefused, import_accounts
from hallserver.accounts import to_domain
from hallserver.models import AccountRow, AuditEntryRow, DistrictRow
from tests.support.server import holder_of, logged_in, seeded_client

TH = "GZ-TH"
HEADER = [column.header for column in COLUMNS]


def row_of(account: Account, *, chinese=False) -> list[str]:
    """The account as the customer system exports it; ID type and status by their codes, or
    by their Chinese names."""
    fen = account.arrears_fen
    id_type = account.id_type and (DOC_TYPE_LABELS[account.id_type].zh if chinese
                                   else account.id_type.value)
    status = STATUS_LABELS[account.status].zh if chinese else account.status.value
    return [account.number, account.holder_name, id_type or "", account.id_number or "",
            account.id_valid_until.isoformat() if account.id_valid_until else "",
            account.phone or "", account.supply_address, account.mailing_address or "",
            status, account.district,
            account.community.code if account.community else "", f"{fen // 100}.{fen % 100:02d}",
            "是" if account.sms_consent else "否", account.sms_language]


def write(path, rows, *, header=HEADER, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def stored(engine, district=TH) -> dict[str, Account]:
    with Session(engine) as session:
        return {row.number: to_domain(session, row) for row in session.scalars(
            select(AccountRow).where(AccountRow.district == district))}


def seqs(engine, district=TH) -> dict[str, tuple[int, int]]:
    """{number: (seq, version)} of the district's accounts."""
    with engine.connect() as conn:
        return {n: (s, v) for n, s, v in conn.execute(
            select(AccountRow.number, AccountRow.seq, AccountRow.version)
            .where(AccountRow.district == district))}


def district_row(engine, code=TH):
    with engine.connect() as conn:
        return conn.execute(select(DistrictRow.last_seq, DistrictRow.last_account_serial)
                            .where(DistrictRow.code == code)).one()


def new_accounts(count, first_serial=5_000):
    """Accounts of GZ-TH the server does not hold yet, in its seeded community."""
    return list(demo_accounts(DISTRICTS[0], count, list(communities(DISTRICTS[0], 1)),
                              seed=3, first_serial=first_serial))


def cursor_of(terminal) -> int:
    return terminal.get("/bootstrap", limit=1).json()["cursor"]


def pulled(terminal, after):
    """Every account the terminal's pull since `after` brings."""
    got = []
    while True:
        page = terminal.get("/changes", after=after).json()
        got += page["accounts"]
        after = page["next_cursor"]
        if not page["more"]:
            return got


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def run_cli(engine, path, *extra, exported_at="2020-01-01T08:00"):
    return main(["accounts", "import", str(path), "--db", url_of(engine),
                 "--exported-at", exported_at, *extra])


NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def client(server_engine):
    """Every test's server: 100 accounts in each of GZ-TH and GZ-YX, one community each."""
    yield from seeded_client(server_engine, accounts=200, halls=2)


@pytest.fixture
def th(client):
    return logged_in(client, "GZ-TH-01", "T01", "gz-th-01-c1")


def test_new_accounts_are_pulled_by_a_terminal_of_their_district(server_engine, th, tmp_path):
    cursor = cursor_of(th)
    last_seq, _ = district_row(server_engine)
    made = new_accounts(5)
    path = write(tmp_path / "accounts.csv", [row_of(a) for a in made])
    summary = import_accounts(server_engine, path, exported_at=NOW)
    assert (summary.rows, summary.new, summary.changed, summary.unchanged,
            summary.rejected) == (5, 5, 0, 0, 0)
    assert summary.rejects_path is None and not (tmp_path / "accounts.rejects.csv").exists()
    got = pulled(th, cursor)
    assert sorted(a["number"] for a in got) == [a.number for a in made]
    # Each with a number of the district's sequence after the terminal's cursor, at version 1.
    assert sorted(a["seq"] for a in got) == list(range(last_seq + 1, last_seq + 6))
    assert district_row(server_engine) == (last_seq + 5, 5_004)  # new connections start after
    held = stored(server_engine)
    for account in made:
        assert held[account.number] == dataclasses.replace(account, version=1)


def test_a_changed_account_gets_a_new_seq_and_version_and_only_it_is_pulled(
        server_engine, th, tmp_path):
    accounts = stored(server_engine)
    before = seqs(server_engine)
    last_seq, serial = district_row(server_engine)
    changed = dataclasses.replace(next(iter(accounts.values())), phone="13912345678",
                                  holder_name="欧阳明", arrears_fen=1250)
    rows = [row_of(changed if a.number == changed.number else a) for a in accounts.values()]
    cursor = cursor_of(th)
    summary = import_accounts(server_engine, write(tmp_path / "a.csv", rows), exported_at=NOW)
    assert (summary.new, summary.changed, summary.unchanged) == (0, 1, len(accounts) - 1)
    [got] = pulled(th, cursor)
    assert (got["number"], got["phone"], got["holder_name"], got["arrears_fen"]) == (
        changed.number, "13912345678", "欧阳明", 1250)
    assert (got["seq"], got["version"]) == (last_seq + 1, changed.version + 1)
    after = seqs(server_engine)
    assert after.pop(changed.number) == (last_seq + 1, changed.version + 1)
    before.pop(changed.number)
    assert after == before  # the unchanged keep their seq and version
    assert district_row(server_engine) == (last_seq + 1, serial)


def test_the_same_file_again_changes_nothing(server_engine, tmp_path, capsys):
    rows = [row_of(a) for a in [*stored(server_engine).values(), *new_accounts(3)]]
    path = write(tmp_path / "accounts.csv", rows)
    assert run_cli(server_engine, path) == 0
    assert "3 new, 0 changed" in capsys.readouterr().out
    with Session(server_engine) as session:
        snapshot = [tuple(r) for r in session.execute(select(AccountRow.__table__))]
    district = district_row(server_engine)
    assert run_cli(server_engine, path) == 0
    out = capsys.readouterr().out
    assert f"{len(rows)} rows: 0 new, 0 changed, {len(rows)} unchanged, 0 rejected" in out
    with Session(server_engine) as session:
        assert [tuple(r) for r in session.execute(select(AccountRow.__table__))] == snapshot
    assert district_row(server_engine) == district


def _bad_rows(good: Account, other: Account) -> dict[str, list[str]]:
    """One row per way of being wrong, each named for what the rejects file must say."""
    def variant(**changes):
        return row_of(dataclasses.replace(good, **changes))

    wrong_check = make_resident_id("440106", datetime(1980, 5, 17).date(), 321)
    wrong_check = wrong_check[:17] + ("0" if wrong_check[17] != "0" else "1")
    short = row_of(good)[:-1]
    return {
        "id_number": variant(id_number=wrong_check),
        "unknown community": [*row_of(good)[:10], "GZ-TH-C9999", *row_of(good)[11:]],
        "other district's community": [*row_of(good)[:10], "GZ-YX-C0000", *row_of(good)[11:]],
        "number prefix": variant(number="9900000001"),
        "birth date": variant(id_number="440106199013450012"),
        "columns": short,
        "duplicate": row_of(other),
        "duplicate again": row_of(dataclasses.replace(other, phone="13700000000")),
        "status": [*row_of(good)[:8], "冻结", *row_of(good)[9:]],
    }


def test_bad_rows_go_to_the_rejects_file_with_their_reason_and_the_rest_is_imported(
        server_engine, th, tmp_path):
    made = new_accounts(6)
    bad = _bad_rows(made[0], made[1])
    good = made[2:]
    rows = [row_of(good[0]), *bad.values(), *(row_of(a) for a in good[1:])]
    path = write(tmp_path / "accounts.csv", rows)
    with path.open("ab") as out:  # a row with a byte that is no UTF-8 in its name
        out.write(row_of(made[5])[0].encode() + b",\xff\xfe\xe5\xbc\xa0," + ",".join(
            row_of(made[5])[2:]).encode() + b"\r\n")
    cursor = cursor_of(th)
    summary = import_accounts(server_engine, path, exported_at=NOW, workers=0)
    assert (summary.rows, summary.new, summary.rejected) == (len(rows) + 1, len(good),
                                                              len(bad) + 1)
    assert sorted(a["number"] for a in pulled(th, cursor)) == sorted(a.number for a in good)
    rejects = summary.rejects_path
    assert rejects == tmp_path / "accounts.rejects.csv"
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    with rejects.open(encoding="utf-8-sig", newline="") as source:
        header, *found = list(csv.reader(source))
    assert header == ["行号 line", "原因", "reason", "原始行 original row"]
    by_line = {int(line): (zh, en, original) for line, zh, en, original in found}
    lines = {name: 3 + index for index, name in enumerate(bad)}  # header, the first good row
    assert set(by_line) == {*lines.values(), len(rows) + 2}
    expected = {
        "id_number": ("证件号码：号码未通过校验", "id_number: the number fails its check"),
        "unknown community": ("小区编号：没有编号为“GZ-TH-C9999”的小区",
                              "community_code: there is no community “GZ-TH-C9999”"),
        "other district's community": ("属于供电区域 GZ-YX", "is of district GZ-YX"),
        "number prefix": ("户号：前两位 99", "number: its first two digits 99"),
        "birth date": ("出生日期 19901345 不是有效日期", "birth date 19901345 is not a date"),
        "columns": ("应有 14 列", "14 columns expected"),
        "duplicate": (f"第 {lines['duplicate']}、{lines['duplicate again']} 行",
                      f"lines {lines['duplicate']}, {lines['duplicate again']}"),
        "duplicate again": ("重复", "more than one row"),
        "status": ("用电状态：未知的用电状态“冻结”", "status: unknown status “冻结”"),
    }
    for name, (zh, en) in expected.items():
        got_zh, got_en, original = by_line[lines[name]]
        assert zh in got_zh and en in got_en, (name, got_zh, got_en)
        assert original == ",".join(bad[name]) or name == "columns"
    zh, en, original = by_line[len(rows) + 2]
    assert "无法按 utf-8 解码" in zh and "bytes that are not utf-8" in en
    assert "\\xFF\\xFE张" in original
    # A reason names the wrong character or part, never the whole ID number.
    for zh, en, _ in by_line.values():
        assert made[0].id_number not in zh + en
    assert summary.reasons["duplicate number"] == 2
    assert all(a.number not in stored(server_engine) for a in made[:2])


def test_checking_in_worker_processes_gives_the_same_result(server_engine, tmp_path):
    made = new_accounts(40)
    rows = [row_of(a) for a in made[2:]] + list(_bad_rows(made[0], made[1]).values())
    one = tmp_path / "one"
    one.mkdir()
    inline = import_accounts(server_engine, write(one / "a.csv", rows), exported_at=NOW,
                             workers=0)
    rows_after = stored(server_engine)
    two = tmp_path / "two"
    two.mkdir()
    pooled = import_accounts(server_engine, write(two / "a.csv", rows), exported_at=NOW,
                             workers=2)
    assert (pooled.new, pooled.unchanged, pooled.rejected, pooled.reasons) == (
        0, inline.new, inline.rejected, inline.reasons)
    assert (one / "a.rejects.csv").read_bytes() == (two / "a.rejects.csv").read_bytes()
    assert stored(server_engine) == rows_after


@pytest.mark.parametrize("chosen", ["auto", "gb18030", "utf-8"])
def test_a_utf16_file_is_refused_saying_what_to_save_it_as(server_engine, tmp_path, chosen):
    """A spreadsheet's "Unicode text" export: UTF-16, which neither encoding reads."""
    path = write(tmp_path / "accounts.csv", [row_of(new_accounts(1)[0])], encoding="utf-16")
    with pytest.raises(ImportRefused, match=r"is UTF-16 text .*: save it as CSV, UTF-8 or "
                                            r"GB18030"):
        import_accounts(server_engine, path, exported_at=NOW, encoding=chosen)


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_a_gb18030_or_bom_file_is_recognised_and_imported(server_engine, tmp_path, encoding):
    made = new_accounts(4)
    path = write(tmp_path / "accounts.csv", [row_of(a, chinese=True) for a in made],
                 encoding=encoding)
    summary = import_accounts(server_engine, path, exported_at=NOW)
    assert (summary.encoding, summary.new, summary.rejected) == (encoding, 4, 0)
    held = stored(server_engine)
    assert [held[a.number] for a in made] == [dataclasses.replace(a, version=1) for a in made]


def test_a_gb18030_file_read_as_utf8_is_refused_whole(server_engine, tmp_path, capsys):
    path = write(tmp_path / "accounts.csv", [row_of(a) for a in new_accounts(2)],
                 encoding="gb18030")
    assert run_cli(server_engine, path, "--encoding", "utf-8") == 2
    assert ("is not UTF-8 text: give the file's encoding with --encoding"
            in capsys.readouterr().err)
    assert len(stored(server_engine)) == 100


def test_a_rejects_path_that_names_another_file_is_refused_and_the_file_kept(
        server_engine, tmp_path):
    """--rejects pointing at the export itself, or at any file that is not a rejects file,
    would have it replaced (or, were the import interrupted, deleted)."""
    made = new_accounts(3)
    rows = [row_of(made[0]), row_of(made[0]), row_of(made[1])]  # a duplicate: one rejected
    path = write(tmp_path / "accounts.csv", rows)
    exported = path.read_bytes()
    other = tmp_path / "notes.csv"
    other.write_bytes(b"kept")
    for target in (path, other):
        with pytest.raises(ImportRefused, match="is not a rejects file"):
            import_accounts(server_engine, path, exported_at=NOW, rejects_path=target)
    assert (path.read_bytes(), other.read_bytes()) == (exported, b"kept")
    assert not any(number in stored(server_engine) for number in (made[0].number,
                                                                   made[1].number))
    # An earlier import's rejects file is replaced, as before.
    earlier = tmp_path / "by-hand.rejects.csv"
    earlier.write_bytes(b"an earlier import's")
    summary = import_accounts(server_engine, path, exported_at=NOW, rejects_path=earlier)
    assert summary.rejects_path == earlier and summary.rejected == 2
    assert b"an earlier import's" not in earlier.read_bytes()


def test_english_headers_optional_columns_and_the_fields_a_file_does_not_carry(
        server_engine, tmp_path):
    account = next(iter(stored(server_engine).values()))
    header = ["number", "holder_name", "supply_address", "status", "电表号"]
    rows = [[account.number, "欧阳明", account.supply_address, "暂停用电", "M-1"],
            [new_accounts(1)[0].number, "Maria Garcia", "广州市天河区天河路1号锦绣花园1栋101房",
             "active", "M-2"]]
    with pytest.raises(ImportRefused, match="电表号"):
        import_accounts(server_engine, write(tmp_path / "a.csv", rows, header=header),
                        exported_at=NOW)
    summary = import_accounts(server_engine, write(tmp_path / "a.csv", rows, header=header),
                              exported_at=NOW, ignored=["电表号"])
    assert (summary.new, summary.changed) == (1, 1)
    held = stored(server_engine)
    # What the file carries is changed; what it does not carry is kept as it was.
    assert held[account.number] == dataclasses.replace(
        account, holder_name="欧阳明", status=held[account.number].status,
        version=account.version + 1)
    assert held[account.number].status.value == "suspended"
    new = held[rows[1][0]]
    assert (new.holder_name, new.phone, new.id_number, new.community, new.arrears_fen,
            new.sms_consent, new.sms_language, new.version) == (
        "Maria Garcia", None, None, None, 0, False, "zh", 1)


def test_a_counters_change_after_the_export_is_kept(server_engine, th, tmp_path):
    accounts = stored(server_engine)
    account = next(a for a in accounts.values() if a.status.value == "active" and a.id_number)
    wire = next(a for a in th.all_accounts() if a["number"] == account.number)
    exported = datetime.now(UTC) - timedelta(seconds=1)
    [result] = th.push(th.operation("contact_change", {**holder_of(wire),
                                                       "phone": "13811112222"}, account=wire))
    assert result["outcome"] == "applied"
    rows = [row_of(dataclasses.replace(a, phone="13733334444")) if a.number == account.number
            else row_of(a) for a in accounts.values()]
    path = write(tmp_path / "a.csv", rows)
    summary = import_accounts(server_engine, path, exported_at=exported)
    assert (summary.changed, summary.rejected, summary.kept) == (0, 1, 1)
    assert stored(server_engine)[account.number].phone == "13811112222"
    with summary.rejects_path.open(encoding="utf-8-sig") as source:
        [_, row] = list(csv.reader(source))
    assert "after the export time" in row[2] and row[3] == ",".join(
        rows[list(accounts).index(account.number)])
    # Exported after the counter's change, the file is the truth again.
    summary = import_accounts(server_engine, path, exported_at=datetime.now(UTC))
    assert (summary.changed, summary.rejected) == (1, 0)
    assert stored(server_engine)[account.number].phone == "13733334444"


# Row locks are PostgreSQL's: SQLite's writers wait for each other whole.
@pytest.mark.parametrize("server_engine", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_an_account_a_push_holds_is_skipped_not_waited_for(server_engine, tmp_path):
    accounts = list(stored(server_engine).values())
    rows = [row_of(dataclasses.replace(a, phone="13700000000")) for a in accounts[:3]]
    path = write(tmp_path / "a.csv", rows)
    done = []
    with server_engine.connect() as push, push.begin():
        # As a push does: the account locked first, the district's sequence taken last.
        push.execute(text("SELECT 1 FROM accounts WHERE number = :n FOR UPDATE"),
                     {"n": accounts[0].number})
        importing = threading.Thread(target=lambda: done.append(
            import_accounts(server_engine, path, exported_at=NOW)))
        importing.start()
        importing.join(timeout=30)
        finished_while_held = bool(done)
    importing.join()
    assert finished_while_held, "the import waited for the push's lock"
    [summary] = done
    assert (summary.changed, summary.rejected, summary.kept, summary.reasons) == (
        2, 1, 1, {"busy": 1})
    assert stored(server_engine)[accounts[0].number].phone == accounts[0].phone


def test_a_failure_before_the_commit_leaves_nothing_written(
        server_engine, tmp_path, monkeypatch):
    accounts = list(stored(server_engine).values())
    rows = [row_of(dataclasses.replace(accounts[0], phone="13700000000")),
            *(row_of(a) for a in new_accounts(3)), [accounts[1].number, "坏"]]
    path = write(tmp_path / "a.csv", rows)
    district = district_row(server_engine)
    with Session(server_engine) as session:
        snapshot = [tuple(r) for r in session.execute(select(AccountRow.__table__))]

    def crash(*args, **kwargs):
        raise RuntimeError("the disk is full")

    # After every account was written, before the commit.
    monkeypatch.setattr(account_import, "append_audit", crash)
    with pytest.raises(RuntimeError, match="disk is full"):
        import_accounts(server_engine, path, exported_at=NOW)
    with Session(server_engine) as session:
        assert [tuple(r) for r in session.execute(select(AccountRow.__table__))] == snapshot
    assert district_row(server_engine) == district
    assert not (tmp_path / "a.rejects.csv").exists()  # the rejects of an import not made
    monkeypatch.undo()
    summary = import_accounts(server_engine, path, exported_at=NOW)
    assert (summary.new, summary.changed, summary.rejected) == (3, 1, 1)


def test_ctrl_c_mid_import_exits_130_and_nothing_is_written(server_engine, tmp_path,
                                                            monkeypatch, capsys):
    path = write(tmp_path / "a.csv", [row_of(a) for a in new_accounts(3)])

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(account_import, "_take_out_duplicates", interrupted)
    assert run_cli(server_engine, path) == 130
    assert "nothing was imported" in capsys.readouterr().err
    assert len(stored(server_engine)) == 100


def test_the_command_line_says_what_it_did_and_audits_it_without_personal_data(
        server_engine, tmp_path, capsys):
    made = new_accounts(4)
    rows = [row_of(a) for a in made[:3]] + [row_of(dataclasses.replace(
        made[3], id_number=made[3].id_number[:-1] + "X"))]
    path = write(tmp_path / "a.csv", rows)
    assert run_cli(server_engine, path) == 1
    out = capsys.readouterr().out
    assert "4 rows: 3 new, 0 changed, 0 unchanged, 1 rejected" in out
    assert "GZ-TH 3" in out and "id_number 1" in out and "a.rejects.csv" in out
    personal = [value for a in made for value in (a.holder_name, a.id_number, a.phone) if value]
    assert not any(value in out for value in personal)
    with Session(server_engine) as session:
        [entry] = session.scalars(select(AuditEntryRow).where(
            AuditEntryRow.action == "accounts_import")).all()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.subject == digest and entry.actor.startswith("operator")
    assert entry.hall_id is None
    assert {k: entry.detail[k] for k in ("sha256", "rows", "new", "changed", "unchanged",
                                         "rejected", "districts")} == {
        "sha256": digest, "rows": 4, "new": 3, "changed": 0, "unchanged": 0, "rejected": 1,
        "districts": {TH: 3}}
    recorded = json.dumps(entry.detail, ensure_ascii=False)
    assert not any(value in recorded for value in personal)
    assert main(["audit", "verify", "--db", url_of(server_engine)]) == 0


def test_the_command_line_refuses_what_it_cannot_import(server_engine, tmp_path, capsys):
    path = write(tmp_path / "a.csv", [row_of(a) for a in new_accounts(2)])
    assert run_cli(server_engine, tmp_path / "missing.csv") == 2
    assert "cannot read" in capsys.readouterr().err
    assert run_cli(server_engine, path, "--district", "XX-NO") == 2
    assert "there is no district XX-NO" in capsys.readouterr().err
    assert run_cli(server_engine, path, "--rejects", str(tmp_path / "no" / "r.csv")) == 2
    assert "the rejects file cannot be written" in capsys.readouterr().err
    wrong = write(tmp_path / "b.csv", [["1000005000", "张三"]], header=["户号", "姓名"])
    assert run_cli(server_engine, wrong) == 2
    err = capsys.readouterr().err
    assert "unknown column(s) '姓名'" in err and "nothing was imported" in err
    lacking = write(tmp_path / "c.csv", [["1000005000", "张三"]], header=["户号", "户名"])
    assert run_cli(server_engine, lacking) == 2
    assert "lacks the required column(s) 用电地址" in capsys.readouterr().err
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert run_cli(server_engine, path, exported_at=future) == 2
    assert "past moment" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        run_cli(server_engine, path, exported_at="yesterday")
    assert exited.value.code == 2
    unmigrated = f"sqlite+pysqlite:///{tmp_path / 'empty.sqlite3'}"
    assert main(["accounts", "import", str(path), "--db", unmigrated,
                 "--exported-at", "2026-01-01T08:00"]) == 2
    assert "hallserver migrate" in capsys.readouterr().err
    assert len(stored(server_engine)) == 100


def test_district_option_imports_that_district_only(server_engine, tmp_path):
    yx = list(demo_accounts(DISTRICTS[1], 2, list(communities(DISTRICTS[1], 1)), seed=3,
                            first_serial=5_000))
    rows = [row_of(a) for a in [*new_accounts(2), *yx]]
    summary = import_accounts(server_engine, write(tmp_path / "a.csv", rows),
                              exported_at=NOW, district="GZ-YX")
    assert (summary.new, summary.rejected, summary.districts) == (2, 2, {"GZ-YX": 2})
    with summary.rejects_path.open(encoding="utf-8-sig") as source:
        reasons = [row[2] for row in list(csv.reader(source))[1:]]
    assert reasons == ["the account is of district GZ-TH; this import is for GZ-YX only "
                       "(--district)"] * 2
    with Session(server_engine) as session:
        assert session.scalar(select(func.count()).select_from(AccountRow).where(
            AccountRow.number.in_([a.number for a in yx]))) == 2
