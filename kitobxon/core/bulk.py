"""Fast inserts and updates of many rows, for imports: one prepared statement, many rows.

The ORM's bulk_create and bulk_update build one large SQL text per batch and prepare every
value through the field machinery; for a million records that dominates the import. These
helpers send one parameterised statement with ``executemany`` instead. They skip model
``save()`` and signals on purpose: callers are services that own the transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.constants import OnConflict

_PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BinaryField",  # both drivers take bytes as they are
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
}


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps builds one per call


def _json_text(value: Any) -> Any:
    """``json.dumps(value, ensure_ascii=False)``, without a new encoder per value."""
    if not value and isinstance(value, list):
        return "[]"
    return _ENCODE(value)


def _preparers(model: type[models.Model], columns: Sequence[str]) -> list[Callable[[Any], Any]]:
    """One function per column turning a Python value into what the driver takes."""
    preparers: list[Callable[[Any], Any]] = []
    json_preparer: Callable[[Any], Any] = _json_text
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        json_preparer = Jsonb
    for name in columns:
        field = model._meta.get_field(name)
        kind = field.get_internal_type()
        if kind in _PLAIN:
            preparers.append(_same)
        elif kind == "JSONField":
            preparers.append(json_preparer)
        else:
            # Dates, binaries, decimals: the field knows; equal values are prepared once.
            cache: dict[Any, Any] = {}

            def prepare(value: Any, field: Any = field, cache: dict[Any, Any] = cache) -> Any:
                try:
                    return cache[value]
                except KeyError:
                    prepared = field.get_db_prep_save(value, connection)
                    if len(cache) < 16:
                        cache[value] = prepared
                    return prepared
                except TypeError:  # unhashable
                    return field.get_db_prep_save(value, connection)

            preparers.append(prepare)
    return preparers


def _same(value: Any) -> Any:
    return value


def _prepared_rows(
    preparers: list[Callable[[Any], Any]], rows: Iterable[Sequence[Any]]
) -> list[Sequence[Any]]:
    """Every row as the driver takes it; only the columns that need preparing are touched,
    so rows of plain values (most link and event rows) pass as they are."""
    width = len(preparers)
    special = [(at, prepare) for at, prepare in enumerate(preparers) if prepare is not _same]
    prepared: list[Sequence[Any]] = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row has {len(row)} values for {width} columns")
        if special:
            row = list(row)
            for at, prepare in special:
                value = row[at]
                if value is not None:
                    row[at] = prepare(value)
        prepared.append(row)
    return prepared


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return connection.ops.quote_name(str(getattr(field, "column", name)))


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """INSERT every row (values in ``columns`` order); returns how many were sent.

    ``ignore_conflicts`` skips rows a unique constraint refuses, as bulk_create's does.
    """
    preparers = _preparers(model, columns)
    prepared = _prepared_rows(preparers, rows)
    if not prepared:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(_column(model, c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    insert, suffix = "INSERT INTO", ""
    if ignore_conflicts:
        insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
        suffix = " " + connection.ops.on_conflict_suffix_sql([], OnConflict.IGNORE, None, None)
    sql = f"{insert} {table} ({names}) VALUES ({marks}){suffix}".rstrip()
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
    return len(prepared)


def update_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple[Any, Sequence[Any]]]
) -> int:
    """UPDATE ``columns`` of the row with each primary key: rows are (pk, values)."""
    preparers = _preparers(model, columns)
    prepared = [[*values, pk] for pk, values in _prepared_pairs(preparers, rows)]
    if not prepared:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{_column(model, c)} = %s" for c in columns)
    pk = connection.ops.quote_name(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", prepared)  # noqa: S608
    return len(prepared)


def _prepared_pairs(
    preparers: list[Callable[[Any], Any]], rows: Iterable[tuple[Any, Sequence[Any]]]
) -> list[tuple[Any, Sequence[Any]]]:
    pairs = list(rows)
    values = _prepared_rows(preparers, [v for _pk, v in pairs])
    return [(pk, v) for (pk, _v), v in zip(pairs, values, strict=True)]


def insert_returning_ids(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    chunk: int = 500,
) -> list[int]:
    """INSERT rows with multi-row VALUES ... RETURNING the primary keys, in row order.

    Relies on the database returning keys in VALUES order, as Django's own bulk_create does
    on PostgreSQL and on SQLite 3.35+.
    """
    preparers = _preparers(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(_column(model, c) for c in columns)
    pk = connection.ops.quote_name(str(model._meta.pk.column))
    ids: list[int] = []
    if connection.vendor == "postgresql":
        return _insert_returning_ids_postgres(table, names, pk, preparers, rows)
    # sqlite3's own placeholders: Django's cursor would rewrite every "%s" of a statement of
    # thousands of them with a regular expression on each call (a tenth of an import's time).
    row_marks = "(" + ", ".join(["?"] * len(columns)) + ")"
    prepared = _prepared_rows(preparers, rows)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for start in range(0, len(prepared), chunk):
            part = prepared[start : start + chunk]
            params = [value for row in part for value in row]
            values = ", ".join([row_marks] * len(part))
            sql = f"INSERT INTO {table} ({names}) VALUES {values} RETURNING {pk}"  # noqa: S608
            ids.extend(row[0] for row in sqlite3.Cursor.execute(raw, sql, params).fetchall())
    return ids


def _insert_returning_ids_postgres(
    table: str, names: str, pk: str, preparers: list[Callable[[Any], Any]], rows: Sequence[Any]
) -> list[int]:
    """psycopg pipelines one short prepared INSERT per row and returns each row's key.

    A long multi-row VALUES statement is re-parsed client-side on every call (psycopg caches
    only short statements), which made PostgreSQL imports three times slower than SQLite's.
    """
    marks = ", ".join(["%s"] * len(preparers))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    ids: list[int] = []
    if not rows:
        return ids
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor: Django's wrapper has no `returning`
        raw.executemany(sql, _prepared_rows(preparers, rows), returning=True)
        while True:
            ids.append(raw.fetchone()[0])
            if not raw.nextset():
                break
    return ids


def refresh_statistics(models_: Iterable[type[models.Model]]) -> None:
    """Let the query planner see tables a bulk load just grew.

    Autovacuum analyses a grown PostgreSQL table only a while later; until then the planner
    guesses from an empty table and may sort a whole table for a page a keyset index would
    serve. SQLite samples a bounded number of rows per index (``analysis_limit``).
    """
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models_]
    if not tables:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 1000")
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
