"""The ledger's hot statements, compiled once per database and run on the driver's cursor.

A spend is six short statements. For each of them SQLAlchemy's `Connection.execute` spent
more CPU than SQLite spent running it (events, parameter processing, result objects), so
the statements every write runs (lock, take, post, allocate, record usage) are built with
SQLAlchemy as usual, compiled once per dialect, and then run straight on the DBAPI cursor
of the connection the transaction already holds: same transaction, same locks, same SQL.

What `Connection.execute` would do for them is kept: parameters go through the bind
processors of their types (an aware datetime becomes SQLite's naive UTC text), result
values through the result processors (that text becomes an aware datetime again), and a
driver error is raised as SQLAlchemy's own (`IntegrityError`, `OperationalError`, ...), so
callers catch what they always caught. Engine events (`before_cursor_execute`) do not see
these statements.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    """One statement compiled for one dialect, with its parameter and result processing."""

    sql: str
    names: tuple[str, ...]  # bind names in placeholder order (repeats included)
    positional: bool
    defaults: dict[str, Any]
    binds: dict[str, Processor]
    results: tuple[Processor, ...]
    row: type | None

    @classmethod
    def build(cls, statement: ClauseElement, dialect: Dialect, keys: Sequence[str] | None):
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        sql = compiled.string
        if "POSTCOMPILE" in sql:
            raise ValueError("a statement with expanding parameters cannot be prepared")
        # `binds` holds anonymous parameters under two keys; `bind_names` has the rendered one.
        named = {compiled.bind_names[bind]: bind for bind in compiled.binds.values()}
        binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in named.items()
        }
        defaults = {
            name: bind.value
            for name, bind in named.items()
            if not bind.required and bind.callable is None
        }
        columns = list(getattr(statement, "exported_columns", ()))
        results = tuple(
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        )
        row = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None
        positional = bool(dialect.positional)
        names = tuple(compiled.positiontup or ()) if positional else tuple(binds)
        return cls(sql, names, positional, defaults, binds, results, row)

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for `values` (after the defaults), processed by type."""
        merged = {**self.defaults, **values} if self.defaults else values
        processed = {}
        for name in self.binds:
            value = merged[name]
            processor = self.binds[name]
            processed[name] = processor(value) if processor is not None else value
        return [processed[n] for n in self.names] if self.positional else processed

    def make_row(self, raw: Sequence[Any]) -> Any:
        """A named row from a driver tuple, each value processed by its column's type."""
        values = [p(v) if p is not None else v for p, v in zip(self.results, raw, strict=True)]
        return self.row(*values)


class Prepared:
    """A Core statement run on the DBAPI cursor of a SQLAlchemy connection.

    `keys` are the columns an INSERT or UPDATE sets (all of them must be given each time);
    other statements take exactly their bind parameters.
    """

    def __init__(self, statement: ClauseElement, *, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = _Compiled.build(self.statement, dialect, self.keys)
            self._by_dialect[dialect.name] = found
        return found

    def _run(self, connection: Connection, values: dict[str, Any], fetch: bool):
        compiled = self._compiled(connection.dialect)
        parameters = compiled.parameters(values)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            if fetch:
                return compiled, cursor.fetchall()
            return compiled, cursor.rowcount
        except connection.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(compiled.sql, parameters, exc, connection.dialect) from exc
        finally:
            cursor.close()

    def rows(self, connection: Connection, values: dict[str, Any]) -> list[Any]:
        """Run it and return every row (SELECT, or a write with RETURNING)."""
        compiled, raw = self._run(connection, values, fetch=True)
        return [compiled.make_row(r) for r in raw]

    def one_or_none(self, connection: Connection, values: dict[str, Any]) -> Any | None:
        """Run it and return its one row, or None."""
        found = self.rows(connection, values)
        if len(found) > 1:
            raise ValueError("more than one row")
        return found[0] if found else None

    def scalar(self, connection: Connection, values: dict[str, Any]) -> Any:
        """Run it and return the first column of its one row."""
        row = self.one_or_none(connection, values)
        if row is None:
            raise ValueError("no row")
        return row[0]

    def run(self, connection: Connection, values: dict[str, Any]) -> int:
        """Run a write without RETURNING; return how many rows it changed."""
        return self._run(connection, values, fetch=False)[1]

    def run_many(self, connection: Connection, rows: list[dict[str, Any]]) -> None:
        """Run a write once per set of values (executemany)."""
        compiled = self._compiled(connection.dialect)
        parameters = [compiled.parameters(values) for values in rows]
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.executemany(compiled.sql, parameters)
        except connection.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(compiled.sql, parameters, exc, connection.dialect) from exc
        finally:
            cursor.close()


def _wrapped(sql: str, parameters: Any, exc: Exception, dialect: Dialect) -> Exception:
    """The driver's error as SQLAlchemy raises it from `Connection.execute`."""
    return DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error, dialect=dialect)
