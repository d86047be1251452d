"""The document camera (高拍仪), through Qt Multimedia: a still of the document on the camera's
plate, handed over as image bytes for `hallclient.devices.scans`.

Qt Multimedia comes with PySide6-Addons, the optional extra `camera`: without it, or without a
camera attached, `camera_unavailable` says so in a sentence and the counter imports scans from
files instead (`open_camera` raises CameraUnavailable). A camera failing while it captures is
the `failed` signal with what to do, never the driver's own text."""

from __future__ import annotations

import logging
from importlib import import_module
from types import ModuleType

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Signal
from PySide6.QtGui import QImage

from hallcore.domain.text import Text

log = logging.getLogger(__name__)

NO_MULTIMEDIA = Text(
    "本机未安装 Qt Multimedia，无法使用高拍仪：请从文件导入扫描件；如需使用高拍仪，"
    "请由管理员安装 hallclient[camera]",
    "Qt Multimedia is not installed here, so the document camera cannot be used: import the "
    "scan from a file; to use the camera, have the administrator install hallclient[camera]")
NO_CAMERA = Text(
    "未检测到高拍仪：请连接高拍仪后重新打开本窗口，或从文件导入扫描件",
    "no document camera is attached: connect it and open this window again, or import the "
    "scan from a file")
CAMERA_FAILED = Text(
    "高拍仪拍摄失败，未附加任何图片：请检查高拍仪连接后重试，或从文件导入扫描件",
    "the document camera failed to take the picture and nothing was attached: check its "
    "connection and try again, or import the scan from a file")


def _multimedia() -> ModuleType | None:
    try:
        return import_module("PySide6.QtMultimedia")
    except ImportError:
        return None


class CameraUnavailable(Exception):
    """No document camera can be used here; `reason` says why and what to do instead."""

    def __init__(self, reason: Text) -> None:
        super().__init__(reason.en)
        self.reason = reason


def open_camera() -> DocumentCamera:
    """The document camera, started; CameraUnavailable without Qt Multimedia or a camera."""
    multimedia = _multimedia()
    if multimedia is None:
        raise CameraUnavailable(NO_MULTIMEDIA)
    if not multimedia.QMediaDevices.videoInputs():
        raise CameraUnavailable(NO_CAMERA)
    return DocumentCamera(multimedia)


class DocumentCamera(QObject):
    """The system's default camera, started at once; `capture()` takes a still, delivered as
    PNG bytes by `captured`, or `failed` with what to tell the clerk."""

    captured = Signal(bytes)
    failed = Signal(object)  # a Text

    def __init__(self, multimedia: ModuleType, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._camera = multimedia.QCamera(multimedia.QMediaDevices.defaultVideoInput(), self)
        self._capture = multimedia.QImageCapture(self)
        self._session = multimedia.QMediaCaptureSession(self)
        self._session.setCamera(self._camera)
        self._session.setImageCapture(self._capture)
        self._capture.imageCaptured.connect(self._taken)
        self._capture.errorOccurred.connect(self._capture_failed)
        self._camera.errorOccurred.connect(self._camera_failed)
        self._camera.start()

    def capture(self) -> None:
        if not self._capture.isReadyForCapture():
            self.failed.emit(CAMERA_FAILED)
            return
        self._capture.capture()

    def stop(self) -> None:
        self._camera.stop()

    def _taken(self, _request: int, image: QImage) -> None:
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if image.isNull() or not image.save(buffer, b"PNG"):
            self.failed.emit(CAMERA_FAILED)
            return
        self.captured.emit(bytes(data.data()))

    def _capture_failed(self, _request: int, error: object, _words: str) -> None:
        log.warning("document camera: capture failed (%s)", error)  # the driver's words: no
        self.failed.emit(CAMERA_FAILED)

    def _camera_failed(self, error: object, _words: str) -> None:
        log.warning("document camera failed (%s)", error)
        self.failed.emit(CAMERA_FAILED)
