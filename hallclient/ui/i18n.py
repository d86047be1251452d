"""The interface's two languages, switched at once, without a restart.

The windows' own strings are Qt translations: English in the source (`self.tr`), Chinese from
resources/i18n/hallclient_zh_CN.qm, compiled from the .ts beside it (`scripts/translations`);
Qt's own strings (dialog buttons, context menus) come from Qt's qtbase_zh_CN.qm. What the
domain says — business names, field labels, validation messages, account states — is
bilingual `Text` shared with the server and picked by the same language.

`use_language` installs or removes the translators; Qt then sends every window a
LanguageChange event, and each widget registered with `follow_language` relabels itself.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QObject, QTranslator

from hallclient.resources import resource
from hallcore.domain.text import Lang

_LANGUAGE_PROPERTY = "hallclient_language"
QM_FILE = "i18n/hallclient_zh_CN.qm"


class _Translators(QObject):
    """The application's translators, kept as one child of the application."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self.setObjectName("hallclient-translators")
        self.ours = QTranslator(self)
        qm = resource(QM_FILE)
        if not self.ours.load(str(qm)):
            raise FileNotFoundError(f"HallClient's translation {qm} cannot be read; "
                                    "reinstall HallClient.")
        self.qt = QTranslator(self)
        # Qt's own translations; a Qt without them still shows our strings in Chinese.
        self.qt.load("qtbase_zh_CN",
                     QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))

    def install(self, app: QCoreApplication, lang: Lang) -> None:
        for translator in (self.ours, self.qt):
            app.removeTranslator(translator)
            if lang == "zh" and not translator.isEmpty():
                app.installTranslator(translator)


def _application() -> QCoreApplication:
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("no QApplication yet")
    return app


def use_language(lang: Lang) -> None:
    """Switch every open window to `lang`."""
    app = _application()
    translators = app.findChild(_Translators, "hallclient-translators") or _Translators(app)
    app.setProperty(_LANGUAGE_PROPERTY, lang)
    translators.install(app, lang)
    # Qt posts LanguageChange to the top-level windows; deliver it now, so the switch is
    # complete when this returns.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)


def switch_language() -> None:
    """Every open window in the other language (Ctrl+L)."""
    use_language("en" if current_language() == "zh" else "zh")


def current_language() -> Lang:
    app = QCoreApplication.instance()
    value = app.property(_LANGUAGE_PROPERTY) if app is not None else None
    return "en" if value == "en" else "zh"


class _LanguageFollower(QObject):
    def __init__(self, widget: QObject, relabel: Callable[[], None]) -> None:
        super().__init__(widget)
        self._relabel = relabel
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LanguageChange:
            self._relabel()
        return False


def follow_language(widget: QObject, relabel: Callable[[], None]) -> None:
    """Call `relabel` now and whenever the language changes, for as long as `widget` lives."""
    _LanguageFollower(widget, relabel)
    relabel()
