from hallcore.domain.text import Text


def test_text_values_are_filled_in_their_own_language():
    business = Text("过户", "Transfer")
    filled = Text("{b}已受理，受理号{n}", "{b} accepted, receipt {n}").format(b=business, n=7)
    assert filled == Text("过户已受理，受理号7", "Transfer accepted, receipt 7")


def test_text_picks_a_language():
    t = Text("暂停", "suspend")
    assert (t["zh"], t["en"]) == ("暂停", "suspend")
