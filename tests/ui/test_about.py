"""The About box: versions, the data directory, and the licence of everything HallClient ships."""

import platform
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from PySide6.QtCore import QCoreApplication, QEvent, QTranslator, qVersion
from PySide6.QtWidgets import QDialogButtonBox

from hallclient import __version__
from hallclient.licenses import bundled_components
from hallclient.ui.about import AboutDialog


@pytest.fixture
def about(qtbot, english, tmp_path, monkeypatch):
    monkeypatch.setenv("HALLCLIENT_DATA_DIR", str(tmp_path / "data"))
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def listed(dialog):
    return [dialog.licences.item(row).text() for row in range(dialog.licences.count())]


def test_it_shows_hallclients_pythons_and_qts_versions_and_the_data_directory(about, tmp_path):
    assert about.windowTitle() == "About HallClient"
    assert about.version.text() == f"HallClient version {__version__}"
    assert f"Python {platform.python_version()}" in about.runtime.text()
    assert f"Qt {qVersion()}" in about.runtime.text()
    assert about.data_dir.text() == f"Data directory: {tmp_path / 'data'}"


def test_it_lists_the_font_and_the_libraries_with_their_licences(about):
    names = listed(about)
    for expected in ("WenQuanYi Micro Hei (font) — Apache-2.0 OR GPL-3.0-or-later WITH "
                     "Font-exception-2.0", "Qt 6 and Qt for Python (PySide6) — LGPL-3.0-only",
                     "reportlab — BSD-3-Clause", "SQLAlchemy — MIT", "Python — PSF-2.0"):
        assert expected in names
    assert "文泉驿" in about.licence_text.toPlainText()  # the first, the font, is shown
    about.licences.setCurrentRow(names.index("Qt 6 and Qt for Python (PySide6) — "
                                             "LGPL-3.0-only"))
    text = about.licence_text.toPlainText()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in text and "GNU GENERAL PUBLIC LICENSE" in text


def test_close_closes_it(qtbot, about):
    buttons = about.findChild(QDialogButtonBox)
    with qtbot.waitSignal(about.rejected):
        buttons.button(QDialogButtonBox.StandardButton.Close).click()
    assert not about.isVisible()


class Marking(QTranslator):
    """Marks every string of the About box, so that a relabelled one shows."""

    def translate(self, context, source, disambiguation=None, n=-1):
        return f"«{source}»" if context == "AboutDialog" else None

    def isEmpty(self):
        return False


def test_every_label_follows_a_change_of_language(qapp, about):
    marking = Marking()
    qapp.installTranslator(marking)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
    try:
        assert about.windowTitle() == "«About HallClient»"
        for label in (about.version, about.data_dir, about.licences_label):
            assert label.text().startswith("«"), label.text()
    finally:
        qapp.removeTranslator(marking)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
    assert about.windowTitle() == "About HallClient"


# What the packaged app ships: the client, and the demo's embedded server.
SHIPPED_EXTRAS = ("client", "server", "camera")


def _installed_with_hallclient() -> set[str]:
    """The distributions HallClient's shipped extras install here, and so the packaged app
    ships."""
    found, todo = set(), [("hallclient", SHIPPED_EXTRAS)]
    while todo:
        name, extras = todo.pop()
        name = canonicalize_name(name)
        if name in found:
            continue
        found.add(name)
        try:
            requirements = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requirements:
            requirement = Requirement(text)
            if requirement.marker is None or any(
                    requirement.marker.evaluate({"extra": extra}) for extra in ("", *extras)):
                todo.append((requirement.name, ()))
    return found - {"hallclient"}


def test_every_library_hallclient_installs_is_listed_with_its_licence_text():
    components = bundled_components()
    covered = {d for c in components for d in c.distributions}
    missing = _installed_with_hallclient() - covered
    assert not missing, (f"add {sorted(missing)} to hallclient/resources/licenses/"
                         "components.json, with the licence files of their *.dist-info folders")
    for component in components:
        assert len(component.text()) > 200, component.name
