"""The search panel says when names and addresses may be missing from its results: while the
search index is being built after a bootstrap."""

from sqlalchemy import select

from hallclient.store.models import AccountRow
from hallclient.store.search import build_search_index_slice, suspend_search_index
from hallclient.ui.search_panel import SearchPanel
from tests.support.counter import district_cache

NOTE = "search index being built: names and addresses may be incomplete"


def test_the_results_say_the_index_is_being_built_until_it_is(qtbot, tmp_path):
    cache = district_cache(tmp_path / "cache.sqlite3")
    panel = SearchPanel(cache)
    qtbot.addWidget(panel)
    with cache.read() as s:
        name = s.scalars(select(AccountRow.holder_name).limit(1)).one()

    def search() -> str:
        panel.box.setText(name)
        panel.search()
        qtbot.waitUntil(lambda: panel.count.text().startswith("1 result")
                        or "results" in panel.count.text())
        return panel.count.text()

    with cache.write() as s:
        suspend_search_index(s.connection())
    assert NOTE in search()
    with cache.write() as s:
        while build_search_index_slice(s.connection()):
            pass
    panel.count.clear()
    assert NOTE not in search()
    cache.close()
