"""Keystroke walk: how many keys a clerk presses, and how long the machine takes, for one
customer of each business type at the counter window.

The counter window runs with a demo cache of one district (no server), in a process of its
own (QT_QPA_PLATFORM=offscreen), and is driven as a clerk types: every key a real key event
(QTest) to whichever widget has the keyboard focus, never a widget's setter. For each
business type (hallclient.forms.FORMS, with its F-key), one customer:

    F12 (next customer) → the account number typed into the search box → Enter opens it
    → the business key → each field typed, Enter to the next → Ctrl+Enter submits
    → [closing an account: the supervisor's id, Tab, password, Enter in the sign-off dialog]
    → [a business the customer signs: their screen shows it, they sign and confirm at once]
    → the request and its receipt recorded.

A new connection has no account to search: F12, F9, then its form. A character is one key (a
Chinese one too: an input method's pinyin keys are not counted), a choice in a list its Down
keys, a chord (Ctrl+Enter) one key; a Tab that stops on a button is pressed again, and counted,
as the clerk would, to reach the next field. The walk waits only where a clerk waits to see
something: the account opened, the sign-off dialog up; the machine time runs from the first key
to the request recorded, with no delay between keys.

Raw limits, same run: keystrokes, the characters typed plus one key per field (the search
box, the form's fields, the dialog's); time, the same request recorded and its receipt drawn
by `make_request` alone, on another account of the same cache, no window and no keys (the
customer's signature made from the same strokes where the business needs it).

    python -m bench.walk [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import BenchContext, Figure

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from hallclient.store.cache import Cache
    from hallclient.ui.counter_window import CounterWindow
    from hallcore.domain.accounts import Account
    from hallcore.domain.business import BusinessKind

AREA = "walk"
ACCOUNTS = 600  # demo accounts of one district: enough customers in each state
CHILD_TIMEOUT_S = 600
WAIT_S = 30.0  # for what a clerk waits to see (the account, the dialog, the receipt)
MAX_EXTRA_TABS = 10
HALL = "GZ-TH-01"
# What the clerk types for the new holder, the new name, the new phone, the new customer.
NEW_HOLDER = ("林晓燕", "440106199203154429", "13922334455")
NEW_NAMES = ("陈伟明", "林晓燕")
NEW_PHONES = ("13911112222", "13922223333")
APPLICANT = ("陈志明", "440106198506123019", "13800138000",
             "广州市天河区天河路385号太古汇公寓12栋1803房")


class WalkFailed(RuntimeError):
    """The walk did not get through as a clerk would: what the window showed says why."""


# --- what the clerk keys -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stroke:
    """One key the clerk presses: a character typed, or a named key with its modifiers as
    QKeySequence spells it ("F12", "Return", "Ctrl+Return", "Tab")."""

    char: str = ""
    key: str = ""


def typed(text: str) -> list[Stroke]:
    return [Stroke(char=c) for c in text]


NEXT = Stroke(key="F12")
ENTER = Stroke(key="Return")
SUBMIT = Stroke(key="Ctrl+Return")
# Tab in a dialog, again while it stops on a widget that takes no typing (a button): what the
# clerk does, looking at the screen, to get to the next field; each Tab is counted.
TAB = Stroke(key="Tab")
DOWN = Stroke(key="Down")


@dataclass(frozen=True, slots=True)
class FormField:
    """A field the clerk passes on the way to Submit: `text` typed into it, or in a choice
    `down` presses of Down to the item wanted (neither: passed by, keeping what it shows);
    `value` what it then holds (for the same request made without the window)."""

    name: str
    text: str
    value: object
    down: int = 0

    @property
    def keys(self) -> list[Stroke]:
        return [*typed(self.text), *[DOWN] * self.down]


@dataclass(frozen=True, slots=True)
class Visit:
    """One customer and their business, as the clerk keys it."""

    kind: BusinessKind
    account: str | None  # the account number typed into the search box; None: none searched
    fields: tuple[FormField, ...]  # in the order Enter visits them
    sign_off: tuple[str, str] | None = None  # the supervisor's id and password
    # Filled in when the form opens, before the field the cursor starts in.
    prefilled: tuple[tuple[str, object], ...] = ()

    def payload(self) -> dict[str, object]:
        return {**dict(self.prefilled), **{f.name: f.value for f in self.fields}}


def strokes(visit: Visit) -> list[Stroke]:
    """Every key of the visit, in order."""
    from hallclient.forms import FORMS

    keys = [NEXT]
    if visit.account is not None:
        keys += [*typed(visit.account), ENTER]
    keys.append(Stroke(key=FORMS[visit.kind].shortcut))
    for n, field in enumerate(visit.fields):
        keys += [*field.keys, SUBMIT if n == len(visit.fields) - 1 else ENTER]
    if visit.sign_off is not None:
        supervisor, password = visit.sign_off
        keys += [*typed(supervisor), TAB, *typed(password), ENTER]
    return keys


def minimum_keys(visit: Visit) -> int:
    """The raw limit: the characters typed (a choice's Down presses among them), and one key
    to leave each field."""
    entered = [len(f.keys) for f in visit.fields]
    if visit.account is not None:
        entered.append(len(visit.account))
    if visit.sign_off is not None:
        entered += [len(t) for t in visit.sign_off]
    return sum(entered) + len(entered)


# --- the customers -----------------------------------------------------------------------------


def demo_cache(path: Path, count: int = ACCOUNTS) -> Cache:
    """A bootstrapped terminal's cache, without a server: `count` demo accounts."""
    from hallclient.samples import district_cache

    return district_cache(path, count, date.today())


def customers(cache: Cache) -> list[Account]:
    """The accounts of holders who show their resident ID card and owe nothing (a transfer
    or a closing with arrears needs a supervisor's sign-off or a settlement first)."""
    from sqlalchemy import select

    from hallclient.store.accounts import account_from_row
    from hallclient.store.models import AccountRow

    with cache.read() as session:
        return [account_from_row(row) for row in session.scalars(select(AccountRow).where(
            AccountRow.id_number.is_not(None), AccountRow.id_type == "resident_id",
            AccountRow.arrears_fen == 0).order_by(AccountRow.number))]


def _demo_supervisor() -> tuple[str, str]:
    """The demo hall's supervisor and password, as the demo server seeds them."""
    from hallclient.demo import DEMO_SUPERVISOR
    from hallserver.seed import DEMO_SUPERVISOR_PASSWORD

    return DEMO_SUPERVISOR, DEMO_SUPERVISOR_PASSWORD


def visit_for(kind: BusinessKind, account: Account | None) -> Visit:
    """What the clerk types for `kind` on `account`: the fields in form order, up to the
    last one the business needs (the optional ones after it are left as they are)."""
    from hallcore.domain.business import BusinessKind

    def holder() -> list[FormField]:
        assert account is not None and account.id_number is not None
        return [FormField("applicant_id_type", "", account.id_type.value),
                FormField("applicant_id_number", account.id_number, account.id_number)]

    def other(options: tuple[str, str], current: object) -> str:
        return options[1] if options[0] == current else options[0]

    number = account.number if account is not None else None
    match kind:
        case BusinessKind.TRANSFER:
            name, id_number, phone = NEW_HOLDER
            fields = [FormField("new_holder_name", name, name),
                      FormField("new_holder_id_type", "", "resident_id"),
                      FormField("new_holder_id_number", id_number, id_number),
                      FormField("new_holder_phone", phone, phone),
                      # Asked, not left out: Down from "not asked" to "yes".
                      FormField("new_holder_sms_consent", "", True, down=1)]
        case BusinessKind.RENAME:
            assert account is not None
            new_name = other(NEW_NAMES, account.holder_name)
            fields = [*holder(), FormField("new_name", new_name, new_name)]
        case BusinessKind.CONTACT_CHANGE:
            assert account is not None
            phone = other(NEW_PHONES, account.phone)
            fields = [*holder(), FormField("phone", phone, phone)]
        case BusinessKind.NEW_CONNECTION:
            name, id_number, phone, address = APPLICANT
            fields = [FormField("applicant_name", name, name),
                      FormField("applicant_id_type", "", "resident_id"),
                      FormField("applicant_id_number", id_number, id_number),
                      FormField("phone", phone, phone),
                      FormField("supply_address", address, address)]
        case _:  # suspend, resume, close: the holder's ID card alone
            fields = holder()
    # The ID type comes from the account: the cursor starts in the first empty text field.
    prefilled = fields[:1] if account is not None and fields[0].name == "applicant_id_type" \
        else []
    sign_off = _demo_supervisor() if kind is BusinessKind.CLOSE else None
    return Visit(kind, number, tuple(fields[len(prefilled):]), sign_off,
                 tuple((f.name, f.value) for f in prefilled))


def visits(cache: Cache, count: int) -> dict[BusinessKind, list[Visit]]:
    """`count` customers of each business type, each on an account of their own."""
    from hallclient.forms import FORMS
    from hallcore.domain.accounts import AccountStatus
    from hallcore.domain.business import BUSINESS_TYPES

    pool = list(customers(cache))
    out: dict[BusinessKind, list[Visit]] = {}
    for kind in FORMS:
        btype = BUSINESS_TYPES[kind]
        if btype.opens_account:
            out[kind] = [visit_for(kind, None) for _ in range(count)]
            continue
        status = AccountStatus.SUSPENDED if kind.value == "resume" else AccountStatus.ACTIVE
        chosen = [a for a in pool if a.status is status][:count]
        if len(chosen) < count:
            raise WalkFailed(f"only {len(chosen)} accounts for {kind.value} in the cache")
        taken = {a.number for a in chosen}
        pool = [a for a in pool if a.number not in taken]
        out[kind] = [visit_for(kind, a) for a in chosen]
    return out


# --- the counter window, and the keys into it -------------------------------------------------


@dataclass
class Counter:
    """The counter window under the walk, and what it handed over."""

    window: CounterWindow
    previews: list[QWidget]
    finished: list[float]  # when each request was answered (recorded, or refused and said)


def counter(cache: Cache, lang: str = "zh") -> Counter:
    """The counter window on `cache`, shown and active, the cursor in the search box. The
    supervisor's sign-off is checked here (the id and password of hallserver.seed's demo)
    and proven by a key of this run: no server, no keyring."""

    from hallclient.receipts.content import HallInfo
    from hallclient.samples import SAMPLE_SIGNATURE
    from hallclient.store.operations import OverrideNeeded, SignOff, TerminalIdentity
    from hallclient.ui.counter_window import CounterServices, CounterWindow
    from hallclient.ui.customer_screen import CustomerScreen
    from hallcore.domain.text import Text
    from hallcore.signing import SigningKey

    approval_key = SigningKey.generate()

    def approve(supervisor: str, password: str, needed: OverrideNeeded) -> SignOff:
        from hallclient.auth.approval import ApprovalRefused

        if (supervisor, password) != _demo_supervisor():
            raise ApprovalRefused(Text("主管工号或密码不对",
                                       "the supervisor's id or password is wrong"))
        return SignOff(supervisor, needed.operation_id, key=approval_key)

    def customer_signs(screen: CustomerScreen) -> None:
        # The customer's part, not the clerk's keys: their screen shows the request, they
        # sign (the sample receipts' strokes) and confirm.
        screen.show_to_customer()
        screen.pad.strokes = [list(stroke) for stroke in SAMPLE_SIGNATURE]
        screen.confirm.click()

    previews: list[QWidget] = []
    finished: list[float] = []
    window = CounterWindow(CounterServices(
        cache, TerminalIdentity(HALL, "T01", SigningKey.generate()), "gz-th-01-c1",
        HallInfo(HALL, Text("天河营业厅", "Tianhe Service Hall")),
        show_preview=previews.append, ask_rating=lambda _window: None, approve=approve,
        ask_signature=customer_signs), lang="en" if lang == "en" else "zh")
    window.request_finished.connect(lambda: finished.append(time.perf_counter()))
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, "the counter window to be active")
    return Counter(window, previews, finished)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Run the event loop until `condition` holds, checking it every millisecond (the loop
    sleeps between: nothing here competes with the window's background work)."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return
    deadline = time.perf_counter() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(lambda: (condition() or time.perf_counter() > deadline)
                          and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
    if not condition():
        raise WalkFailed(f"waited {timeout_s:g} s for {what}")


def press(stroke: Stroke) -> None:
    """The key, to the widget with the keyboard focus, as the keyboard sends it."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QKeySequence
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    widget = QApplication.focusWidget()
    if widget is None:
        raise WalkFailed(f"nothing has the keyboard focus for {stroke.key or stroke.char!r}")
    if stroke.key:
        combination = QKeySequence(stroke.key)[0]
        QTest.keyClick(widget, combination.key(), combination.keyboardModifiers())
    elif stroke.char.isascii() and stroke.char.isprintable():
        QTest.keyClick(widget, stroke.char)
    else:  # what the keyboard sends for a character without a key of its own: its text
        QTest.sendKeyEvent(QTest.KeyAction.Click, widget, Qt.Key.Key_unknown, stroke.char,
                           Qt.KeyboardModifier.NoModifier)
    QCoreApplication.processEvents()  # what the key set off, before the next one comes


@dataclass(frozen=True, slots=True)
class Walked:
    kind: str
    keys: int
    minimum: int
    seconds: float  # from the first key to the request recorded
    opened_s: float | None  # from the first key to the account open (None: none searched)
    keyed_s: float  # from the first key to the last
    receipt_no: str


def receipts(cache: Cache) -> list[str]:
    from sqlalchemy import select

    from hallclient.store.models import ReceiptRow

    with cache.read() as session:
        return list(session.scalars(select(ReceiptRow.receipt_no).order_by(
            ReceiptRow.issued_at, ReceiptRow.receipt_no)))


def walk(at: Counter, visit: Visit) -> Walked:
    """One customer's visit keyed in; raises WalkFailed with what the window said when it
    does not end with the request recorded."""
    try:
        return _keyed(at, visit)
    except WalkFailed as failed:
        raise WalkFailed(f"{visit.kind.value}: {failed}; the window says "
                         f"{at.window.message.text()!r}") from None


def _keyed(at: Counter, visit: Visit) -> Walked:
    from PySide6.QtWidgets import QApplication, QLineEdit

    window, cache = at.window, at.window.services.cache
    before, answers = receipts(cache), len(at.finished)
    plan = strokes(visit)
    if QApplication.activeWindow() is None:
        # A window manager gives the counter window the keyboard back once a dialog closes;
        # the offscreen platform has none.
        window.activateWindow()
        wait_until(window.isActiveWindow, "the counter window to be active")

    opened: list[float] = []

    def account_open() -> None:
        wait_until(lambda: window.account is not None
                   and window.account.number == visit.account, "the account to open")
        opened.append(time.perf_counter())

    def dialog_up() -> None:
        wait_until(lambda: QApplication.activeModalWidget() is not None
                   or len(at.finished) > answers, "the supervisor's sign-off dialog")
        if QApplication.activeModalWidget() is None:
            raise WalkFailed("no sign-off dialog")

    # Where the clerk waits to see something before the next key: the account opened after
    # the search's Enter, the sign-off dialog after Submit.
    waits: dict[int, Callable[[], None]] = {}
    if visit.account is not None:
        waits[1 + len(visit.account) + 1] = account_open
    if visit.sign_off is not None:
        waits[len(plan) - sum(len(t) + 1 for t in visit.sign_off)] = dialog_up
    pressed = 0
    started = time.perf_counter()
    for n, stroke in enumerate(plan):
        if n in waits:
            waits[n]()
        press(stroke)
        pressed += 1
        while stroke is TAB and not isinstance(QApplication.focusWidget(), QLineEdit):
            if pressed > len(plan) + MAX_EXTRA_TABS:
                raise WalkFailed("Tab never reaches the next field")
            press(stroke)
            pressed += 1
    keyed = time.perf_counter()
    wanted = answers + (2 if visit.sign_off else 1)  # a sign-off's request is tried first
    wait_until(lambda: len(at.finished) >= wanted, "the request to be answered")
    seconds = at.finished[wanted - 1] - started
    recorded = [r for r in receipts(cache) if r not in before]
    if len(recorded) != 1:
        raise WalkFailed("no receipt was recorded")
    wait_until(lambda: bool(at.previews), "the receipt preview")
    for preview in at.previews:
        preview.deleteLater()
    at.previews.clear()
    return Walked(visit.kind.value, pressed, minimum_keys(visit), seconds,
                  opened[0] - started if opened else None, keyed - started, recorded[0])


def bare_request(cache: Cache, visit: Visit) -> float:
    """Seconds of the same request made by `make_request` alone (with the supervisor's
    sign-off when it needs one), no window and no keys."""
    from hallclient.counter.requests import CounterDesk, CounterRequest, make_request
    from hallclient.counter.signature import signature_png
    from hallclient.receipts.content import HallInfo
    from hallclient.samples import SAMPLE_SIGNATURE
    from hallclient.store.operations import OverrideNeeded, SignOff, TerminalIdentity
    from hallcore.domain.business import BUSINESS_TYPES
    from hallcore.domain.text import Text
    from hallcore.signing import SigningKey

    desk = CounterDesk(cache, TerminalIdentity(HALL, "T02", SigningKey.generate()),
                       "gz-th-01-c2", HallInfo(HALL, Text("天河营业厅", "Tianhe Service Hall")))
    started = time.perf_counter()
    signature = (signature_png([list(stroke) for stroke in SAMPLE_SIGNATURE])
                 if BUSINESS_TYPES[visit.kind].customer_signs else None)
    request = CounterRequest(visit.kind, visit.account, visit.payload(), online=True,
                             customer_signature=signature)
    try:
        make_request(desk, request, datetime.now(UTC))
    except OverrideNeeded as needed:
        signed = SignOff(_demo_supervisor()[0], needed.operation_id, key=SigningKey.generate())
        make_request(desk, CounterRequest(visit.kind, visit.account, visit.payload(),
                                          online=True, sign_off=signed,
                                          customer_signature=signature), datetime.now(UTC))
    return time.perf_counter() - started


# --- the measuring process ---------------------------------------------------------------------


def child(out: Path, repeat: int) -> int:
    """Every business type walked `repeat` times, then made `repeat` times without the window;
    the figures as JSON into `out`."""
    from PySide6.QtWidgets import QApplication

    from hallclient.receipts.render import load_font

    _app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="hall-walk-") as tmp:
        cache = demo_cache(Path(tmp) / "cache.sqlite3")
        try:
            load_font()  # as the application does when the counter opens
            chosen = visits(cache, 2 * repeat)  # half walked, half made without the window
            at = counter(cache)
            walked = {kind.value: [asdict(walk(at, v)) for v in these[:repeat]]
                      for kind, these in chosen.items()}
            bare = {kind.value: [bare_request(cache, v) for v in these[repeat:]]
                    for kind, these in chosen.items()}
            at.window.close()
        finally:
            cache.close()
    out.write_text(json.dumps({"walked": walked, "bare": bare, "repeat": repeat},
                              ensure_ascii=False))
    return 0


def measure(repeat: int, work: Path) -> dict[str, Any]:
    out = work / "walk.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HALLCLIENT_DATA_DIR=str(work / "data"))
    done = subprocess.run(
        [sys.executable, "-m", "bench.walk", "--child", "--out", str(out),
         "--repeat", str(repeat)],
        env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False,
        cwd=Path(__file__).resolve().parents[1])
    # Written once every walk got through; PySide6 has been seen to crash as the process
    # ends, after that.
    if not out.exists():
        raise RuntimeError(f"the walk ended with {done.returncode}:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def figures(result: dict[str, Any]) -> list[Figure]:
    from hallclient.forms import FORMS
    from hallcore.domain.business import BusinessKind

    out: list[Figure] = []
    keys_total = minimum_total = 0
    for kind_value, walked in result["walked"].items():
        kind = BusinessKind(kind_value)
        label = f"{kind_value.replace('_', ' ')} ({FORMS[kind].shortcut})"
        first = walked[0]
        keys_total += first["keys"]
        minimum_total += first["minimum"]
        more = ["2 keys more: F12 and the business key"]
        if kind is BusinessKind.CLOSE:
            more.append("the supervisor's sign-off keyed into its dialog: id, Tab, "
                        "password, Enter")
        if extra := first["keys"] - first["minimum"] - 2:
            more.append(f"{extra} Tab more: from the supervisor's id, Tab stops on the Sign "
                        "off button before the password field")
        out.append(Figure(AREA, f"keystrokes, {label}", first["keys"], "keys",
                          raw=first["minimum"],
                          raw_label="the characters typed + one key per field",
                          notes="; ".join(more)))
        times = [w["seconds"] * 1000 for w in walked]
        bare = [s * 1000 for s in result["bare"][kind_value]]
        phases = [f"keyed in {_median_ms(walked, 'keyed_s')}"]
        if walked[0]["opened_s"] is not None:
            phases.insert(0, f"account open at {_median_ms(walked, 'opened_s')}")
        out.append(Figure(AREA, f"machine time, {label}", statistics.median(times), "ms",
                          raw=statistics.median(bare),
                          raw_label="make_request alone, no window, no keys",
                          notes=f"median of {len(times)} customers "
                                f"({min(times):.0f}–{max(times):.0f} ms), first key to the "
                                f"request recorded, no delay between keys; {', '.join(phases)}"))
    out.append(Figure(AREA, "keystrokes, one customer of each business type", keys_total,
                      "keys", raw=minimum_total,
                      raw_label="the characters typed + one key per field",
                      notes="a Chinese character counted as one key (an input method's pinyin "
                            "keys not counted), a choice as its Down keys (the new holder's "
                            "SMS consent: one)"))
    return out


def _median_ms(walked: list[dict[str, Any]], phase: str) -> str:
    return f"{statistics.median(w[phase] for w in walked) * 1000:.0f} ms"


def run(ctx: BenchContext) -> list[Figure]:
    return figures(measure(2 if ctx.quick else 5, ctx.scratch(AREA)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--repeat", type=int, default=5, help="customers of each business type")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.out, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.repeat, Path(tmp))
    for figure in figures(result):
        print(f"{figure.name}: {figure.value:.0f} {figure.unit} (raw {figure.raw:.0f})  "
              f"{figure.notes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
