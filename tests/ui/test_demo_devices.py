"""The counter's devices in the demo with a screen, end to end: the network cut, the next
ticket called from the queue system, the holder's card laid on the simulated reader, a
transfer filled from the new holder's card, a document scan attached, the customer signing on
their screen, the receipt with the signature, the rating; then the network back, and all of
it at the server."""

import subprocess
from datetime import datetime, time, timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient.devices.queue_sim import QueueSim
from hallclient.store.models import FeedbackRow, OutboxRow, ScanRow
from hallclient.ui import demo_app
from hallclient.ui.customer_screen import CustomerScreen
from hallclient.ui.demo_app import start_demo_server
from hallclient.ui.rating import RatingWindow
from hallclient.ui.receipt_preview import ReceiptPreview
from hallclient.ui.scan_dialog import ScanDialog
from hallcore.domain.business import BusinessKind
from hallcore.domain.deadlines import HALL_TZ
from hallcore.wire import Rating
from hallserver import models as server
from tests.support.customer_screen import draw
from tests.support.demo import run_demo_driven

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 15_000


def shown(kind: type[QWidget]) -> QWidget | None:
    return next((w for w in QApplication.topLevelWidgets()
                 if isinstance(w, kind) and w.isVisible()), None)


def one_customer_waiting() -> QueueSim:
    """The queue with one customer, whose ticket was taken today at the hall whenever the
    test runs: the server believes a wait only within the request's hall day."""
    queue = QueueSim().start()
    now = datetime.now(HALL_TZ)
    queue.take_ticket(min(timedelta(minutes=5), now - datetime.combine(now.date(), time(0),
                                                                        HALL_TZ)))
    return queue


def id_card_picture(path: Path) -> Path:
    image = Image.new("RGB", (1200, 800), "white")
    ImageDraw.Draw(image).rectangle((150, 120, 1050, 680), outline="black", width=8)
    image.save(path, "JPEG")
    return path


def test_a_transfer_with_every_device_reaches_the_server_after_a_network_cut(
        qapp, qtbot, tmp_path, monkeypatch):
    seen: dict[str, object] = {}
    servers = []

    def demo_server(directory):
        started = start_demo_server(directory)
        servers.append(started[1])  # the server's database, looked into below
        return started

    monkeypatch.setattr(demo_app, "start_demo_server", demo_server)
    monkeypatch.setattr(demo_app, "demo_queue", one_customer_waiting)

    def walk(window):
        qtbot.waitUntil(lambda: "online" in window.sync_status.label.text(), timeout=WAIT_MS)
        cut = next(b for b in window.statusBar().findChildren(
            type(window.language_button)) if "cut the network" in b.text())
        cut.click()
        qtbot.waitUntil(lambda: "offline" in window.sync_status.label.text(), timeout=WAIT_MS)

        window.next_customer()  # F12: the queue system calls the longest-waiting ticket
        qtbot.waitUntil(lambda: window.ticket_bar.ticket() is not None, timeout=WAIT_MS)
        ticket = window.ticket_bar.ticket()
        reader = window.services.card_reader
        holder = reader.cards[0]
        reader.simulator.lay(holder)  # the customer's own card: their account is searched
        qtbot.waitUntil(lambda: window.search_panel.results.rowCount() == 1, timeout=WAIT_MS)
        window.search_panel.open_row(0)
        qtbot.waitUntil(lambda: window.account is not None, timeout=WAIT_MS)
        window.open_form(BusinessKind.TRANSFER)
        view = window.form_views[BusinessKind.TRANSFER]
        new_holder = next(c for c in reader.cards if c.name == "林晓燕")
        reader.simulator.lay(new_holder)
        qtbot.waitUntil(lambda: view.inputs["new_holder_name"].text() == new_holder.name,
                        timeout=WAIT_MS)
        view.fill({"new_holder_phone": "13922334455", "new_holder_sms_consent": True})

        window.form_host.scans.open_dialog()  # F10
        dialog = window.form_host.scans.dialog
        assert isinstance(dialog, ScanDialog)
        dialog.import_file(id_card_picture(tmp_path / "id.jpg"))
        qtbot.waitUntil(dialog.attach_button.isEnabled, timeout=WAIT_MS)
        with qtbot.waitSignal(dialog.accepted):
            QTest.mouseClick(dialog.attach_button, LEFT)

        view.submit()
        qtbot.waitUntil(lambda: shown(CustomerScreen) is not None, timeout=WAIT_MS)
        screen = shown(CustomerScreen)
        seen["summary"] = screen.summary.text()
        draw(screen.pad)
        QTest.mouseClick(screen.confirm, LEFT)
        qtbot.waitUntil(lambda: shown(ReceiptPreview) is not None, timeout=WAIT_MS)
        preview = shown(ReceiptPreview)
        seen["pdf"] = preview.pdf
        preview.reject()
        window.ask_customer_to_rate()  # F11: one screen, turned to the customer
        qtbot.waitUntil(lambda: shown(RatingWindow) is not None, timeout=WAIT_MS)
        QTest.mouseClick(shown(RatingWindow).buttons[Rating.VERY_SATISFIED], LEFT)

        cache = window.services.cache
        with cache.read() as s:
            seen["offline"] = s.scalars(select(OutboxRow.state)).all()
        cut.click()  # the network is back
        def all_at_the_server():
            with cache.read() as s:
                return (s.scalars(select(OutboxRow.state)).all() == ["applied"]
                        and s.scalars(select(ScanRow.state)).all() == ["uploaded"]
                        and s.scalars(select(FeedbackRow.state)).all() == ["stored"])
        window.services.on_recorded()  # the sync worker woken, as after each request
        qtbot.waitUntil(all_at_the_server, timeout=30_000)
        with cache.read() as s:
            op = s.scalars(select(OutboxRow)).one()
            seen["operation"] = (op.business_type, op.ticket_no, op.customer_signature,
                                 op.payload["new_holder_id_number"])
        seen["ticket"] = ticket.number
        seen["new_holder"] = new_holder.id_number
        with Session(servers[0]) as s:
            stored = s.scalars(select(server.OperationRow).where(
                server.OperationRow.operation_id == op.operation_id)).one()
            scan = s.scalars(select(server.ScanRow)).one()
            seen["server"] = (stored.outcome, stored.customer_signature, stored.ticket_no,
                              stored.waiting_seconds, scan.complete_at is not None,
                              scan.content is not None and len(scan.content) == scan.size,
                              s.scalars(select(server.FeedbackRow.rating).where(
                                  server.FeedbackRow.operation_id == op.operation_id)).all())

    assert run_demo_driven(walk) == 0
    assert seen["offline"] == ["pending"]  # recorded while the network was down
    kind, ticket_no, signature, new_holder_id = seen["operation"]
    assert (kind, ticket_no, new_holder_id) == ("transfer", seen["ticket"], seen["new_holder"])
    outcome, stored_signature, stored_ticket, waited, complete, whole, ratings = seen["server"]
    assert (outcome, stored_signature, stored_ticket) == ("applied", signature, seen["ticket"])
    assert waited is not None  # the queue system's times, believed
    assert complete and whole  # the scan, uploaded whole after the network came back
    assert ratings == [Rating.VERY_SATISFIED.value]  # this transaction's
    assert "林晓燕" in seen["summary"]
    pdf = tmp_path / "receipt.pdf"
    pdf.write_bytes(seen["pdf"])
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    assert any(" image " in line for line in images)  # the signature drawn on the receipt
