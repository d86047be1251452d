"""JSON written by the database itself, for answers of many rows (a bootstrap page).

Reading 10,000 accounts into Python objects and writing them out again as JSON took about
three times the CPU of the database writing the same JSON in its own code (SQLite's
json_array, PostgreSQL's json_build_array): a terminal's bootstrap asks for hundreds of such
pages, and thousands of terminals may ask at once. Both databases write JSON's own values: a
text as a string (escaped as JSON escapes it), a whole number as a number, NULL as null, a date
as its ISO text; SQLite keeps a yes/no as 0 or 1, written here as true or false.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, LargeBinary
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class JsonRow(FunctionElement[str]):
    """The arguments as one JSON array, in their order."""

    name = "json_row"
    inherit_cache = True


class JsonRows(FunctionElement[bytes]):
    """Aggregate: `JsonRows(row, order)` is the group's JSON arrays (each a JsonRow) in one
    JSON array, in the order of `order`, as UTF-8 bytes; `[]` for no row."""

    name = "json_rows"
    type = LargeBinary()
    inherit_cache = True


def _arguments(element: FunctionElement[Any]) -> list[ColumnElement[Any]]:
    return list(element.clauses)


@compiles(JsonRow, "sqlite")
def _json_row_sqlite(element: JsonRow, compiler: SQLCompiler, **kw: Any) -> str:
    values = []
    for argument in _arguments(element):
        value = compiler.process(argument, **kw)
        if isinstance(argument.type, Boolean):
            # json('true'): a JSON value, taken as it is by json_array, not as a string.
            value = f"CASE {value} WHEN 1 THEN json('true') WHEN 0 THEN json('false') END"
        values.append(value)
    return f"json_array({', '.join(values)})"


@compiles(JsonRow, "postgresql")
def _json_row_postgresql(element: JsonRow, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


@compiles(JsonRows, "sqlite")
def _json_rows_sqlite(element: JsonRows, compiler: SQLCompiler, **kw: Any) -> str:
    row, _order = (compiler.process(argument, **kw) for argument in _arguments(element))
    # SQLite 3.40 has no ORDER BY within an aggregate: the rows are joined in the order they
    # come, which is the order of the subquery they are read from (tests hold it to that).
    return f"CAST('[' || coalesce(group_concat({row}, ','), '') || ']' AS BLOB)"


@compiles(JsonRows, "postgresql")
def _json_rows_postgresql(element: JsonRows, compiler: SQLCompiler, **kw: Any) -> str:
    row, order = (compiler.process(argument, **kw) for argument in _arguments(element))
    return (f"convert_to('[' || coalesce(string_agg(({row})::text, ',' ORDER BY {order}), '')"
            " || ']', 'UTF8')")
