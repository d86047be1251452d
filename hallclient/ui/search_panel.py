"""Finding the customer's account: the search box (Ctrl+F) and what it found, searched off the
UI thread as the clerk types.

The results only ever change under the cursor, never take it: the clerk types on in the box
whatever arrives, and an account is opened only when the clerk chooses it (Enter, a click).
Down moves from the box into the results and Up from their first row back; Enter in the box
opens the highlighted account, which a search highlights only when the customer's own whole
number, phone or ID number was typed.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient.counter.results import is_exact_match, result_row
from hallclient.failures import said
from hallclient.store.cache import Cache
from hallclient.store.search import search_accounts, search_index_is_current
from hallclient.ui.background import run_in_background
from hallclient.ui.i18n import current_language, follow_language
from hallcore.domain.accounts import Account
from hallcore.domain.text import Lang

TYPING_PAUSE_MS = 150  # a search starts once the clerk stops typing this long
_COLUMNS = 5  # account number, holder, status, ID tail, address
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SearchPanel(QWidget):
    chosen = Signal(object)  # the Account the clerk opened from the results
    typed = Signal()  # the clerk typed in the box: a customer is being served
    failed = Signal(object)  # what went wrong, in words (a Text)

    def __init__(self, cache: Cache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache = cache
        self._found: list[Account] = []
        self._shown_query: str | None = None  # what the results are for; None: no search yet
        # The name and address index was still being built (after a bootstrap) at the search.
        self._index_building = False
        self._open_when_found: str | None = None  # Enter came before this query's results
        self.box = QLineEdit(self)
        self.count = QLabel(self)
        self.results = QTableWidget(0, _COLUMNS, self)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setTabKeyNavigation(False)  # Tab leaves the results, as from a list
        self.results.setWordWrap(False)
        self.results.verticalHeader().hide()
        header = self.results.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The address takes what is left, cut short with "…" (whole in its tooltip): no
        # sideways scrolling to see a row.
        header.setSectionResizeMode(_COLUMNS - 1, QHeaderView.ResizeMode.Stretch)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.clicked.connect(lambda index: self.open_row(index.row()))
        self._typing = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self._typing.timeout.connect(self.search)
        self.box.textChanged.connect(lambda _text: self._typing.start())
        self.box.textEdited.connect(lambda _text: self.typed.emit())
        self.box.installEventFilter(self)
        self.results.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.count)
        layout.addWidget(self.results, 1)
        follow_language(self, self.retranslate)

    def retranslate(self) -> None:
        self.box.setPlaceholderText(
            self.tr("account, ID number, phone, name or address (Ctrl+F)"))
        self.results.setHorizontalHeaderLabels([
            self.tr("Account"), self.tr("Holder"), self.tr("Status"), self.tr("ID (last 4)"),
            self.tr("Address")])
        highlighted = self.highlighted()
        self._render()
        if highlighted is not None:
            self.results.selectRow(highlighted)

    # --- searching -------------------------------------------------------------------------

    def search(self) -> None:
        self._typing.stop()
        query, cache = self.box.text(), self._cache

        def find() -> tuple[list[Account], bool]:
            with cache.read() as session:
                return (search_accounts(session, query),
                        not search_index_is_current(session.connection()))

        run_in_background(self, find, on_done=lambda answer: self._show(query, *answer),
                          on_error=lambda exc: self.failed.emit(said(exc, "a search")))

    def _show(self, query: str, found: list[Account], index_building: bool) -> None:
        if query != self.box.text():
            return  # the clerk typed on; a newer search is on its way
        self._shown_query, self._found = query, found
        self._index_building = index_building
        self._render()
        exact = len(found) == 1 and is_exact_match(query, found[0])
        if exact:
            self.results.selectRow(0)  # highlighted for Enter, not opened
        if self._open_when_found == query:
            self._open_when_found = None
            if exact:
                self.open_row(0)

    def _render(self) -> None:
        lang = current_language()
        self.results.setRowCount(0)  # also drops the highlight: it was another search's
        self.results.setRowCount(len(self._found))
        for row, account in enumerate(self._found):
            self._render_row(row, account, lang)
        n = len(self._found)
        if not self._shown_query or not self._shown_query.strip():
            self.count.clear()
        elif n == 0:
            self.count.setText(self.tr("No account matches"))
        elif n == 1:
            self.count.setText(self.tr("1 result"))
        else:
            self.count.setText(self.tr("{n} results").format(n=n))
        if self._index_building and self._shown_query and self._shown_query.strip():
            self.count.setText(self.count.text() + " · " + self.tr(
                "search index being built: names and addresses may be incomplete"))

    def _render_row(self, row: int, account: Account, lang: Lang) -> None:
        for column, text in enumerate(result_row(account, lang).cells()):
            item = QTableWidgetItem(text)
            item.setToolTip(text)  # a long address is cut short in its column
            self.results.setItem(row, column, item)

    def show_changed(self, account: Account) -> None:
        """The result of a changed account shows it as it is now."""
        for row, shown in enumerate(self._found):
            if shown.number == account.number:
                self._found[row] = account
                self._render_row(row, account, current_language())

    def reset(self) -> None:
        """Empty, for the next customer."""
        self._open_when_found = None
        self.box.clear()
        self._typing.stop()
        self._shown_query, self._found = None, []
        self._render()

    # --- choosing --------------------------------------------------------------------------

    def highlighted(self) -> int | None:
        """The row Enter in the box would open."""
        rows = self.results.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def open_row(self, row: int) -> None:
        """The clerk opens the account of this row of the results."""
        if 0 <= row < len(self._found):
            self.results.selectRow(row)
            self.chosen.emit(self._found[row])

    def _into_results(self) -> bool:
        if not self._found:
            return False
        row = self.highlighted()
        self.results.setCurrentIndex(self.results.model().index(row or 0, 0, QModelIndex()))
        self.results.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def _enter_in_box(self) -> None:
        if self._typing.isActive() or self._shown_query != self.box.text():
            self._open_when_found = self.box.text()  # a reader types fast, then Enter
            self.search()
        elif (row := self.highlighted()) is not None:
            self.open_row(row)
        else:
            self._into_results()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent) or (
                event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            return super().eventFilter(watched, event)
        key = event.key()
        if watched is self.box:
            if key == Qt.Key.Key_Down:
                return self._into_results()
            if key in _ENTER:
                self._enter_in_box()
                return True
        elif watched is self.results:
            if key in _ENTER:
                self.open_row(self.results.currentRow())
                return True
            if key == Qt.Key.Key_Up and self.results.currentRow() <= 0:
                self.box.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
        return super().eventFilter(watched, event)
