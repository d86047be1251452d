import os

# Qt must not look for a display: set before any Qt module is imported.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.server_support import empty_tables, postgres_engine


@pytest.fixture(scope="session")
def _postgres():
    engine = postgres_engine()
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server_engine(request, tmp_path):
    """A migrated, empty server database: a SQLite file, then the PostgreSQL test database."""
    if request.param == "sqlite":
        from hallserver.db import SERVER_SCHEMA, make_engine

        engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'server.sqlite3'}")
        SERVER_SCHEMA.upgrade(engine)
        yield engine
        engine.dispose()
    else:
        engine = request.getfixturevalue("_postgres")
        empty_tables(engine)
        yield engine
