"""The ID card reader at the counter: the backend read off the UI thread, card after card, and
the card's photo beside the account for the face check.

`CardReaderService` opens the reader and asks it for a card again and again, each wait on Qt's
thread pool (hallclient/ui/background.py); a card read is emitted, and so is a failure, in
words: a reader not found or gone once until it comes back (it is opened again every few
seconds), a card that could not be read each time. The window fills the form from the card
(`fill_form`) or searches its number; without a reader the counter works as before, the clerk
typing the number or a keyboard-wedge reader typing it.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from hallclient.devices.idcard import (
    CARD_FORMS,
    CardData,
    CardReader,
    NoCard,
    ReaderNotFound,
    ReaderUnplugged,
    SdkUnavailable,
    card_fields,
)
from hallclient.failures import said
from hallclient.ui.background import run_in_background
from hallclient.ui.form_view import FormView
from hallclient.ui.i18n import follow_language
from hallcore.domain.masking import mask_id_number

WAIT_SECONDS = 0.5  # one wait for a card; between two, the service can stop
RETRY_MS = 3_000  # a reader not found or gone is looked for again this often
# Failures after which the reader is opened again; said once, not at every try.
_REOPEN = (ReaderNotFound, ReaderUnplugged, SdkUnavailable)
PHOTO_SIZE = (102, 126)  # the card's photo, in pixels


class CardReaderService(QObject):
    card_read = Signal(object)  # the CardData of a card laid on the reader
    failed = Signal(object)  # what went wrong, in words (a Text)

    def __init__(self, reader: CardReader, parent: QObject | None = None, *,
                 wait_seconds: float = WAIT_SECONDS, retry_ms: int = RETRY_MS) -> None:
        super().__init__(parent)
        self.reader = reader
        self.wait_seconds = wait_seconds
        self.retry_ms = retry_ms
        self.running = False
        self.busy = False  # a wait for a card is on the thread pool
        self._said: type[Exception] | None = None  # the reader's trouble already said

    def start(self) -> None:
        self.running = True
        self._wait(opening=True)

    def stop(self) -> None:
        """No more waits; the reader is closed once the one under way ends."""
        self.running = False
        if not self.busy:
            self._close()

    def _close(self) -> None:
        run_in_background(self, self.reader.close, on_done=lambda _none: None,
                          on_error=lambda _exc: None)

    def _wait(self, *, opening: bool) -> None:
        if not self.running:
            self._close()
            return
        reader, seconds = self.reader, self.wait_seconds

        def wait() -> CardData:
            if opening:
                reader.open()
            return reader.read_card(seconds)

        self.busy = True
        run_in_background(self, wait, on_done=self._read, on_error=self._not_read)

    def _read(self, card: CardData) -> None:
        self.busy, self._said = False, None
        if self.running:
            self.card_read.emit(card)
        self._wait(opening=False)

    def _not_read(self, exc: Exception) -> None:
        self.busy = False
        if isinstance(exc, NoCard):  # nothing laid yet: wait again
            self._wait(opening=False)
            return
        reopen = isinstance(exc, _REOPEN)
        if self.running and not (reopen and type(exc) is self._said):
            self.failed.emit(said(exc, "reading an ID card"))
        self._said = type(exc) if reopen else None
        if not reopen:
            self._wait(opening=False)
            return
        self.reader.close()  # closing a port that is gone only lets go of it
        QTimer.singleShot(self.retry_ms, self, lambda: self._wait(opening=True))


def fill_form(view: FormView, card: CardData, today: date) -> None:
    """The form's new holder or applicant (and address) filled from the card, the cursor on
    the first field still empty. Raises CardRefused, filling nothing, for a card the form
    would refuse."""
    target = CARD_FORMS[view.spec.kind]
    view.fill(card_fields(card, target.prefix, today=today, address_field=target.address))
    view.focus_first_field()


class CardPhotoPanel(QFrame):
    """The card just read, for the face check: its photo, the name, the number masked and how
    long the card is valid. Hidden until a card is read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.card: CardData | None = None
        self.photo = QLabel(self)
        self.photo.setFixedSize(*PHOTO_SIZE)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setWordWrap(True)
        self.details = QLabel(self)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        text = QVBoxLayout()
        text.addWidget(self.details)
        text.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(self.photo)
        layout.addLayout(text, 1)
        self.hide()
        follow_language(self, self.retranslate)

    def show_card(self, card: CardData) -> None:
        self.card = card
        image = QImage.fromData(card.photo or b"")
        if image.isNull():
            self.photo.clear()
        else:
            self.photo.setPixmap(QPixmap.fromImage(image).scaled(
                *PHOTO_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        self.retranslate()
        self.show()

    def clear(self) -> None:
        self.card = None
        self.photo.clear()
        self.details.clear()
        self.hide()

    @property
    def photo_shown(self) -> bool:
        pixmap = self.photo.pixmap()
        return not pixmap.isNull()

    def retranslate(self) -> None:
        card = self.card
        if card is None:
            return
        if not self.photo_shown:
            # A real card's photo is in the vendor's WLT format: without the vendor's library
            # to decode it, the clerk looks at the card itself.
            self.photo.setText(self.tr("The photo needs the vendor's decoding library: check "
                                       "the card itself"))
        until = (self.tr("long-term") if card.valid_until is None
                 else card.valid_until.isoformat())
        self.details.setText("\n".join((
            self.tr("Card read: compare the photo with the customer"),
            card.name,
            mask_id_number(card.id_number),
            self.tr("Valid until: {d}").format(d=until))))
