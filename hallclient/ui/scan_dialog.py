"""Document scans at the form: the dialog that takes one (from the document camera, or a file),
lets the clerk drag the rectangle to keep and choose what the document is, and the strip under
the form with the scans attached to the request (kind, size, a thumbnail, remove) and what the
business still asks for. A scan still missing never blocks the request: the hall may take a
paper copy instead, and the strip says so."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hallclient.devices.camera import CameraUnavailable, DocumentCamera, open_camera
from hallclient.devices.scans import (
    KIND_NAMES,
    Box,
    attachable,
    open_image,
    read_image_file,
    room_for_another,
    trim_border,
)
from hallclient.failures import said
from hallclient.store.operations import DocumentScan
from hallclient.ui import palette
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import current_language, follow_language
from hallclient.ui.message_bar import MessageBar, Severity
from hallcore.domain.text import Text
from hallcore.wire import ScanKind

PREVIEW_SIDE = 1200  # the long side of the image as the dialog shows it
THUMBNAIL_SIDE = 56


def to_qimage(image: Image.Image) -> QImage:
    """An RGB Pillow image as a QImage of its own (the bytes copied)."""
    data = image.tobytes("raw", "RGB")
    return QImage(data, image.width, image.height, 3 * image.width,
                  QImage.Format.Format_RGB888).copy()


class CropView(QWidget):
    """The image, fitted to the widget, and the rectangle the clerk drags on it; the
    rectangle is kept in the image's own pixels."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(480, 320)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._pixmap: QPixmap | None = None
        self._scale = 1.0  # image pixels per preview pixel
        self._selection: QRect | None = None  # in preview pixels
        self._from: QPoint | None = None

    def show_image(self, image: Image.Image) -> None:
        preview = image.copy()
        preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        self._scale = image.width / preview.width
        self._pixmap = QPixmap.fromImage(to_qimage(preview))
        self._selection = None
        self.changed.emit()
        self.update()

    def selection(self) -> Box | None:
        """The rectangle chosen, in the image's pixels; None for the whole image."""
        if self._selection is None:
            return None
        r, s = self._selection, self._scale
        return (round(r.left() * s), round(r.top() * s), round((r.right() + 1) * s),
                round((r.bottom() + 1) * s))

    def set_selection(self, box: Box | None) -> None:
        if box is None:
            self._selection = None
        else:
            s = self._scale
            self._selection = QRect(QPoint(round(box[0] / s), round(box[1] / s)),
                                    QPoint(round(box[2] / s) - 1, round(box[3] / s) - 1))
        self.changed.emit()
        self.update()

    def _placement(self) -> tuple[QRect, float]:
        """Where the preview is drawn, and preview pixels per screen pixel."""
        assert self._pixmap is not None
        size = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(QPoint(0, 0), size)
        target.moveCenter(self.rect().center())
        return target, self._pixmap.width() / max(1, size.width())

    def _at(self, point: QPoint) -> QPoint:
        target, ratio = self._placement()
        assert self._pixmap is not None
        x = min(max(0, round((point.x() - target.left()) * ratio)), self._pixmap.width() - 1)
        y = min(max(0, round((point.y() - target.top()) * ratio)), self._pixmap.height() - 1)
        return QPoint(x, y)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._pixmap is not None and event.button() == Qt.MouseButton.LeftButton:
            self._from = self._at(event.position().toPoint())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._from is not None:
            self._selection = QRect(self._from, self._at(event.position().toPoint())
                                    ).normalized()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._from is not None:
            self.mouseMoveEvent(event)
            self._from = None
            self.changed.emit()

    def paintEvent(self, _event: QPaintEvent) -> None:
        if self._pixmap is None:
            return
        painter = QPainter(self)
        target, ratio = self._placement()
        painter.drawPixmap(target, self._pixmap)
        if self._selection is not None:
            r = self._selection
            shown = QRect(target.left() + round(r.left() / ratio),
                          target.top() + round(r.top() / ratio),
                          max(1, round(r.width() / ratio)), max(1, round(r.height() / ratio)))
            painter.setPen(QPen(QColor(palette.FOCUS), 2, Qt.PenStyle.DashLine))
            painter.drawRect(shown)
        painter.end()


class ScanDialog(QDialog):
    """Takes one scan: `scan` is set when the clerk attaches it (the dialog accepted)."""

    def __init__(self, kinds: Sequence[ScanKind], parent: QWidget | None = None, *,
                 camera: Callable[[], DocumentCamera] = open_camera) -> None:
        """`kinds`: what the business still asks for, the first chosen; `camera` opens the
        document camera (CameraUnavailable: files only, and the message says why)."""
        super().__init__(parent)
        self.setModal(True)
        self.scan: DocumentScan | None = None
        self._image: Image.Image | None = None
        self._name = ""
        self.message = MessageBar(self)
        self.view = CropView(self)
        self.view.changed.connect(self._enable)
        self.kind = QComboBox(self)
        for kind in ScanKind:
            self.kind.addItem("", kind)
        wanted = list(kinds)
        self.kind.setCurrentIndex(list(ScanKind).index(wanted[0]) if wanted else 0)
        self.capture_button = QPushButton(self)
        self.import_button = QPushButton(self)
        self.trim_button = QPushButton(self)
        self.whole_button = QPushButton(self)
        self.attach_button = QPushButton(self)
        self.cancel_button = QPushButton(self)
        self.kind_label = QLabel(self)
        self.hint = QLabel(self)
        self.capture_button.clicked.connect(self.capture)
        self.import_button.clicked.connect(self._choose_file)
        self.trim_button.clicked.connect(self.trim)
        self.whole_button.clicked.connect(lambda: self.view.set_selection(None))
        self.attach_button.clicked.connect(self.attach)
        self.cancel_button.clicked.connect(self.reject)
        self.attach_button.setDefault(True)
        self.camera: DocumentCamera | None = None
        unavailable: CameraUnavailable | None = None
        try:
            self.camera = camera()
        except CameraUnavailable as exc:
            unavailable = exc
        if self.camera is not None:
            self.camera.setParent(self)
            self.camera.captured.connect(lambda data: self._open(
                lambda: open_image(data, self.tr("camera picture")), self.tr("camera picture")))
            self.camera.failed.connect(self._failed)
        top = QHBoxLayout()
        top.addWidget(self.capture_button)
        top.addWidget(self.import_button)
        top.addStretch(1)
        top.addWidget(self.kind_label)
        top.addWidget(self.kind)
        crop = QHBoxLayout()
        crop.addWidget(self.hint, 1)
        crop.addWidget(self.trim_button)
        crop.addWidget(self.whole_button)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.attach_button)
        bottom.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addLayout(crop)
        layout.addLayout(bottom)
        self.capture_button.setEnabled(self.camera is not None)
        if unavailable is not None:
            self.message.say(unavailable.reason, Severity.WARNING)
        self.finished.connect(self._stop_camera)
        follow_language(self, self.retranslate)
        self._enable()

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Scan document"))
        self.capture_button.setText(self.tr("Take picture"))
        self.import_button.setText(self.tr("Import from file…"))
        self.trim_button.setText(self.tr("Trim border"))
        self.whole_button.setText(self.tr("Whole image"))
        self.attach_button.setText(self.tr("Attach"))
        self.cancel_button.setText(self.tr("Cancel"))
        self.kind_label.setText(self.tr("Document:"))
        self.hint.setText(self.tr("Drag a rectangle over the document to keep only it."))
        lang = current_language()
        for index in range(self.kind.count()):
            self.kind.setItemText(index, KIND_NAMES[ScanKind(self.kind.itemData(index))][lang])

    def _enable(self) -> None:
        have = self._image is not None
        for button in (self.trim_button, self.whole_button, self.attach_button):
            button.setEnabled(have)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Import scan"), "",
            self.tr("Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)"))
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> None:
        """The image in `path`, read off the UI thread, then shown to crop."""
        self._open(lambda: read_image_file(path), path.name)

    def capture(self) -> None:
        if self.camera is not None:
            self.message.clear()
            self.camera.capture()

    def _open(self, read: Callable[[], Image.Image], name: str) -> None:
        self.setEnabled(False)
        run_in_background(self, read, on_done=lambda image: self._show(image, name),
                          on_error=self._refused)

    def _show(self, image: Image.Image, name: str) -> None:
        self._image, self._name = image, name
        self.message.clear()
        self.view.show_image(image)
        self._answer(self.attach_button)  # Enter attaches it

    def _refused(self, exc: Exception) -> None:
        """A ScanRefused says why; anything else is a fault, logged, said in a sentence."""
        self._answer(self.import_button)
        self.message.say(said(exc, "document scan"), Severity.REFUSED)

    def _failed(self, reason: Text) -> None:
        self._answer(self.import_button)
        self.message.say(reason, Severity.REFUSED)

    def _answer(self, focus: QWidget) -> None:
        """The dialog answers again, the keyboard on `focus`: held still while a picture was
        read, the dialog had lost the keyboard's place."""
        self.setEnabled(True)
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def chosen_kind(self) -> ScanKind:
        return ScanKind(self.kind.currentData())  # Qt keeps the enum as its text

    def trim(self) -> None:
        if self._image is not None:
            self.view.set_selection(trim_border(self._image))

    def attach(self) -> None:
        """The image, cropped as chosen, made into the scan (off the UI thread); accepted."""
        if self._image is None:
            return
        image, name, crop = self._image, self._name, self.view.selection()
        kind = self.chosen_kind()
        self.setEnabled(False)
        run_in_background(self, lambda: attachable(image, kind, name, crop),
                          on_done=self._attached, on_error=self._refused)

    def _attached(self, scan: DocumentScan) -> None:
        self.setEnabled(True)
        self.scan = scan
        self.accept()

    def _stop_camera(self) -> None:
        if self.camera is not None:
            self.camera.stop()


class AttachedScans(QWidget):
    """Under the form: the "Scan document (F10)" button, what the business still asks to be
    scanned, and a row per scan attached (thumbnail, kind, size, remove)."""

    def __init__(self, parent: QWidget | None = None, *,
                 camera: Callable[[], DocumentCamera] = open_camera) -> None:
        super().__init__(parent)
        self.scans: list[DocumentScan] = []
        self.wanted: tuple[ScanKind, ...] = ()
        self.dialog: ScanDialog | None = None
        self._camera = camera
        self.button = QPushButton(self)
        self.button.clicked.connect(self.open_dialog)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.message = MessageBar(self)
        self.rows = QVBoxLayout()
        self.rows.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.button)
        head.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.message)
        layout.addLayout(self.rows)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.button.setText(self.tr("Scan document (F10)"))
        self._show_rows()

    def ask_for(self, wanted: Sequence[ScanKind]) -> None:
        """What the business on screen asks to be scanned."""
        self.wanted = tuple(wanted)
        self._show_rows()

    def still_to_scan(self) -> tuple[ScanKind, ...]:
        have = {scan.kind for scan in self.scans}
        return tuple(kind for kind in self.wanted if kind not in have)

    def open_dialog(self) -> None:
        full = room_for_another(len(self.scans))
        if full is not None:
            self.message.say(full, Severity.REFUSED)
            return
        self.message.clear()
        self.dialog = ScanDialog(self.still_to_scan(), self, camera=self._camera)
        self.dialog.accepted.connect(self._taken)
        self.dialog.finished.connect(self.dialog.deleteLater)  # its image with it
        self.dialog.open()

    def _taken(self) -> None:
        if self.dialog is not None and self.dialog.scan is not None:
            self.scans.append(self.dialog.scan)
            self._show_rows()

    def remove(self, index: int) -> None:
        del self.scans[index]
        self.message.clear()
        self._show_rows()

    def clear(self) -> None:
        self.scans.clear()
        self.message.clear()
        self._show_rows()

    def _show_rows(self) -> None:
        lang = current_language()
        missing = self.still_to_scan()
        self.note.setText(self.tr(
            "Still to scan: {kinds}. Not required: the hall may take a paper copy instead."
        ).format(kinds=self.tr(", ").join(KIND_NAMES[kind][lang] for kind in missing))
            if missing else "")
        while (item := self.rows.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        for index, scan in enumerate(self.scans):
            self.rows.addWidget(self._row(index, scan))

    def _row(self, index: int, scan: DocumentScan) -> QWidget:
        row = QWidget(self)
        row.setObjectName(f"scan{index}")
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        thumbnail = QLabel(row)
        image = QImage.fromData(scan.content)
        thumbnail.setPixmap(QPixmap.fromImage(image).scaled(
            QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))
        line.addWidget(thumbnail)
        line.addWidget(QLabel(KIND_NAMES[scan.kind][current_language()], row))
        line.addWidget(QLabel(self.tr("{kb} KB").format(kb=max(1, len(scan.content) // 1024)),
                              row))
        line.addStretch(1)
        remove = QPushButton(self.tr("Remove"), row)
        remove.clicked.connect(lambda _c=False, i=index: self.remove(i))
        line.addWidget(remove)
        return row
