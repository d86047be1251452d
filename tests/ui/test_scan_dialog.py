"""Document scans at the counter: taken in the dialog (from a file, or the document camera
when there is one), cropped, attached to the form, removed, and recorded with the request."""

import io
import sys

import pytest
from PIL import Image
from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtTest import QTest
from sqlalchemy import select

from hallclient.devices.camera import CAMERA_FAILED, NO_CAMERA, NO_MULTIMEDIA, open_camera
from hallclient.receipts.content import HallInfo
from hallclient.store.models import ScanRow
from hallclient.store.operations import TerminalIdentity
from hallclient.ui.counter_window import CounterServices, CounterWindow
from hallclient.ui.i18n import use_language
from hallclient.ui.message_bar import Severity
from hallclient.ui.scan_dialog import ScanDialog
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text
from hallcore.wire import ScanKind
from tests.support.counter import district_cache
from tests.support.customer_screen import customer_at_screen
from tests.support.factories import TERMINAL_KEY

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


def picture(path, size=(900, 600)):
    """A document on a white plate: a grey card in the middle."""
    image = Image.new("RGB", size, "white")
    image.paste((90, 90, 90), (200, 150, 700, 450))
    image.save(path, "PNG")
    return path


class FailingCamera(QObject):
    """A document camera that is there but fails when it takes the picture."""

    captured = Signal(bytes)
    failed = Signal(object)

    def capture(self):
        self.failed.emit(CAMERA_FAILED)

    def stop(self):
        pass


class WorkingCamera(FailingCamera):
    def capture(self):
        out = io.BytesIO()
        Image.new("RGB", (640, 480), (30, 120, 30)).save(out, "PNG")
        self.captured.emit(out.getvalue())


@pytest.fixture
def dialog(qtbot):
    use_language("zh")  # the messages compared in Chinese

    def make(**options):
        d = ScanDialog([ScanKind.OWNERSHIP], **options)
        qtbot.addWidget(d)
        d.show()
        return d
    return make


def loaded(qtbot, dialog, path):
    dialog.import_file(path)
    qtbot.waitUntil(dialog.attach_button.isEnabled)


def attached(qtbot, dialog):
    with qtbot.waitSignal(dialog.accepted):
        QTest.mouseClick(dialog.attach_button, LEFT)
    return dialog.scan


def test_without_a_camera_it_says_so_and_a_file_is_imported(qtbot, dialog, tmp_path):
    d = dialog()  # this machine has no camera attached
    assert d.message.severity is Severity.WARNING
    assert d.message.text() in (NO_CAMERA.zh, NO_MULTIMEDIA.zh)  # as Qt Multimedia is here
    assert not d.capture_button.isEnabled() and not d.attach_button.isEnabled()
    loaded(qtbot, d, picture(tmp_path / "deed.png"))
    assert d.chosen_kind() is ScanKind.OWNERSHIP  # what the business still asks for
    scan = attached(qtbot, d)
    assert scan.kind is ScanKind.OWNERSHIP and scan.media_type.value == "image/jpeg"
    assert Image.open(io.BytesIO(scan.content)).size == (900, 600)


def test_without_qt_multimedia_it_says_what_to_install_and_imports_files(
        qtbot, dialog, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # import fails
    d = dialog()
    assert "Qt Multimedia" in d.message.text() and "hallclient[camera]" in d.message.text()
    assert not d.capture_button.isEnabled()
    loaded(qtbot, d, picture(tmp_path / "id.png"))
    assert attached(qtbot, d) is not None


def test_no_camera_attached_is_said_when_qt_multimedia_is_there(monkeypatch):
    from hallclient.devices import camera

    class NoInputs:
        class QMediaDevices:
            @staticmethod
            def videoInputs():
                return []

    monkeypatch.setattr(camera, "_multimedia", lambda: NoInputs)
    with pytest.raises(camera.CameraUnavailable) as unavailable:
        open_camera()
    assert unavailable.value.reason is NO_CAMERA


def test_a_camera_failing_while_it_captures_is_said_and_nothing_is_attached(qtbot, dialog):
    d = dialog(camera=FailingCamera)
    assert d.capture_button.isEnabled() and d.message.text() == ""
    QTest.mouseClick(d.capture_button, LEFT)
    assert d.message.severity is Severity.REFUSED
    assert d.message.text() == CAMERA_FAILED.zh
    assert not d.attach_button.isEnabled() and d.scan is None


def test_a_captured_picture_is_shown_and_attached(qtbot, dialog):
    d = dialog(camera=WorkingCamera)
    QTest.mouseClick(d.capture_button, LEFT)
    qtbot.waitUntil(d.attach_button.isEnabled)
    assert Image.open(io.BytesIO(attached(qtbot, d).content)).size == (640, 480)


def test_a_file_that_is_no_image_is_refused_naming_it(qtbot, dialog, tmp_path):
    d = dialog()
    path = tmp_path / "notes.txt"
    path.write_text("not a picture")
    d.import_file(path)
    qtbot.waitUntil(lambda: d.message.severity is Severity.REFUSED)
    assert "notes.txt" in d.message.text()
    assert not d.attach_button.isEnabled()


def test_the_dragged_rectangle_or_the_trimmed_border_is_what_is_kept(qtbot, dialog, tmp_path):
    d = dialog()
    loaded(qtbot, d, picture(tmp_path / "card.png"))
    d.trim_button.click()
    assert d.view.selection() == (200, 150, 700, 450)
    view = d.view
    centre = view.rect().center()
    QTest.mousePress(view, LEFT, NONE, centre - QPoint(100, 60))
    QTest.mouseMove(view, centre)
    QTest.mouseRelease(view, LEFT, NONE, centre)
    left, top, right, bottom = view.selection()
    assert 0 < left < right < 900 and 0 < top < bottom < 600
    size = Image.open(io.BytesIO(attached(qtbot, d).content)).size
    assert abs(size[0] - (right - left)) <= 1 and abs(size[1] - (bottom - top)) <= 1


@pytest.fixture
def window(qtbot, tmp_path):
    cache = district_cache(tmp_path / "cache.sqlite3")
    services = CounterServices(
        cache, TerminalIdentity("GZ-TH-01", "T01", TERMINAL_KEY), "gz-th-01-c1",
        HallInfo("GZ-TH-01", Text("天河营业厅", "Tianhe Service Hall")),
        show_preview=lambda _preview: None, ask_rating=lambda _rating: None,
        ask_signature=customer_at_screen([]))
    w = CounterWindow(services, lang="en")
    qtbot.addWidget(w)
    w.show()
    yield w
    cache.close()


def scan_in_window(qtbot, window, path):
    strip = window.form_host.scans
    before = strip.dialog
    window.activateWindow()  # back from the last dialog
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: strip.dialog is not before and strip.dialog.isVisible())
    loaded(qtbot, strip.dialog, path)
    attached(qtbot, strip.dialog)


def test_scans_are_attached_to_the_form_removed_and_recorded_with_the_request(
        qtbot, window, tmp_path):
    from hallclient.store.accounts import account_from_row
    from hallclient.store.models import AccountRow

    with window.services.cache.read() as s:
        target = account_from_row(s.scalars(select(AccountRow).where(
            AccountRow.status == "active", AccountRow.id_number.is_not(None),
            AccountRow.arrears_fen == 0)).first())
    window.search.setFocus()
    qtbot.keyClicks(window.search, target.number)
    qtbot.keyClick(window.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.account is not None)
    strip = window.form_host.scans
    qtbot.keyClick(window, Qt.Key.Key_F10)
    assert strip.dialog is None  # no form yet: nothing to scan for
    qtbot.keyClick(window, Qt.Key.Key_F5)  # suspend
    assert strip.isVisible() and "Still to scan: ID document" in strip.note.text()
    assert "paper copy" in strip.note.text()
    scan_in_window(qtbot, window, picture(tmp_path / "first.png"))
    scan_in_window(qtbot, window, picture(tmp_path / "second.png", (600, 400)))
    assert len(strip.scans) == 2 and strip.note.text() == ""
    assert strip.findChild(QObject, "scan1") is not None
    strip.findChild(QObject, "scan0").findChildren(type(strip.button))[0].click()  # Remove
    assert [Image.open(io.BytesIO(s.content)).size for s in strip.scans] == [(600, 400)]
    view = window.form_views[BusinessKind.SUSPEND]
    view.inputs["applicant_id_number"].setFocus()
    qtbot.keyClicks(view.inputs["applicant_id_number"], target.id_number)
    qtbot.keyClick(view.inputs["applicant_id_number"], Qt.Key.Key_Return)
    with qtbot.waitSignal(window.request_finished, timeout=20_000):
        qtbot.keyClick(view.inputs["resume_on"], Qt.Key.Key_Return)
    assert "Accepted" in window.message.text()
    with window.services.cache.read() as s:
        [row] = s.scalars(select(ScanRow)).all()
        assert (row.kind, row.state, row.uploaded) == ("id_document", "pending", 0)
        assert row.content == strip_content(row)
    assert strip.scans == []  # the next customer starts with none


def strip_content(row):
    assert Image.open(io.BytesIO(row.content)).size == (600, 400)
    return row.content
