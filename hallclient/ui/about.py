"""The About box: HallClient's version, Python's and Qt's, the data directory, and the licences
of the fonts and libraries it ships."""

from __future__ import annotations

import platform

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from hallclient import __version__
from hallclient.config import data_dir
from hallclient.licenses import bundled_components
from hallclient.ui.i18n import follow_language


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.components = bundled_components()
        self.version = QLabel(self)
        self.version.setStyleSheet("font-weight: bold")
        self.runtime = QLabel(f"Python {platform.python_version()}, Qt {qVersion()}, "
                              f"PySide6 {PySide6.__version__}", self)
        self.data_dir = QLabel(self)
        self.data_dir.setWordWrap(True)
        self.data_dir.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.licences_label = QLabel(self)
        self.licences = QListWidget(self)
        self.licences.addItems([f"{c.name} — {c.licence}" for c in self.components])
        self.licence_text = QPlainTextEdit(self)
        self.licence_text.setReadOnly(True)
        self.licence_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.licences.currentRowChanged.connect(self.show_licence)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.version, self.runtime, self.data_dir, self.licences_label):
            layout.addWidget(widget)
        layout.addWidget(self.licences, 1)
        layout.addWidget(self.licence_text, 2)
        layout.addWidget(buttons)
        self.resize(640, 640)
        self.licences.setCurrentRow(0)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("About HallClient"))
        self.version.setText(self.tr("HallClient version {version}").format(version=__version__))
        self.data_dir.setText(self.tr("Data directory: {path}").format(path=data_dir()))
        self.licences_label.setText(self.tr("Fonts and libraries included, and their licences:"))

    def show_licence(self, row: int) -> None:
        self.licence_text.setPlainText(self.components[row].text() if row >= 0 else "")
