"""JSON written by SQLite itself, for answers of many rows (a bootstrap page).

Reading 10,000 accounts into Python objects and writing them out again as JSON took about three
times the CPU of SQLite writing the same JSON in its own code (json_array): a terminal's
bootstrap asks for hundreds of such pages. SQLite writes JSON's own values: a text as a string
(escaped as JSON escapes it), a whole number as a number, NULL as null, a date as the ISO text
it is kept as; a yes/no, kept as 0 or 1, is written here as true or false.

Not for PostgreSQL: version 15's json_build_array looks up each value's type at every row, and
cost more CPU than the Python it would replace (bench/RESULTS.md, the bootstrap section).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, LargeBinary, case, cast, false, func, true


def json_row(*columns: ColumnElement[Any]) -> ColumnElement[str]:
    """The columns' values as one JSON array, in their order."""
    return func.json_array(*(
        # json('true'): a JSON value, taken by json_array as it is, not as a string.
        case((column == true(), func.json("true")), (column == false(), func.json("false")))
        if isinstance(column.type, Boolean) else column for column in columns))


def json_rows(row: ColumnElement[str]) -> ColumnElement[bytes]:
    """Aggregate: the group's rows (each a json_row) in one JSON array, as UTF-8 bytes; `[]`
    for none. In the order the rows come, which for a subquery is its ORDER BY (SQLite 3.40
    has no ORDER BY within an aggregate; tests hold a page to its order)."""
    return cast("[" + func.coalesce(func.group_concat(row, ","), "") + "]", LargeBinary)
