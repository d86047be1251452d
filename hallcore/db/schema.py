"""Alembic, driven in-process: the client cache and the server database each have a folder of
revisions, and both are upgraded the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text


@dataclass(frozen=True)
class SchemaHistory:
    """The revisions in one migrations folder."""

    migrations_dir: Path

    def config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.migrations_dir))
        return config

    def head(self) -> str:
        head = ScriptDirectory.from_config(self.config()).get_current_head()
        assert head is not None, f"no revisions in {self.migrations_dir}"
        return head

    def known(self) -> set[str]:
        return {rev.revision for rev in ScriptDirectory.from_config(self.config()).walk_revisions()}

    def upgrade(self, engine: Engine, revision: str = "head") -> None:
        config = self.config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in a database, or None where no migration has run."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
