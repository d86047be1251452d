"""Every font of the receipt's chain is listed in the About box with its licence text."""

from hallclient.licenses import bundled_components


def test_the_chains_fonts_are_listed_with_their_licences():
    components = {c.name: c for c in bundled_components()}
    hanazono = components["Hanazono Mincho A and B (fonts)"]
    assert hanazono.licence == "OFL-1.1 OR LicenseRef-Hanazono-Font-License"
    assert "SIL OPEN FONT LICENSE Version 1.1" in hanazono.text()
    assert "Hanazono Font License" in hanazono.text()
    babelstone = components["BabelStone Han (font)"]
    assert babelstone.licence == "Arphic-1999 AND (CC-BY-SA-3.0 OR CC-BY-SA-4.0)"
    assert "ARPHIC PUBLIC LICENSE" in babelstone.text()
