"""Fast inserts and updates of many rows, for imports: one prepared statement, many rows.

The ORM's bulk_create and bulk_update build one large SQL text per batch and prepare every
value through the field machinery; for a million records that dominates the import. These
helpers send one parameterised statement with ``executemany`` instead. They skip model
``save()`` and signals on purpose: callers are services that own the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models

_PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
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


def _json_text(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False)


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


def _prepare(preparers: list[Callable[[Any], Any]], row: Sequence[Any]) -> list[Any]:
    return [
        None if value is None else prepare(value)
        for prepare, value in zip(preparers, row, strict=True)
    ]


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    return connection.ops.quote_name(str(getattr(field, "column", name)))


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """INSERT every row (values in ``columns`` order); returns how many."""
    preparers = _preparers(model, columns)
    prepared = [_prepare(preparers, row) for row in rows]
    if not prepared:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(_column(model, c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", prepared)  # noqa: S608
    return len(prepared)


def update_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple[Any, Sequence[Any]]]
) -> int:
    """UPDATE ``columns`` of the row with each primary key: rows are (pk, values)."""
    preparers = _preparers(model, columns)
    prepared = [[*_prepare(preparers, values), pk] for pk, values in rows]
    if not prepared:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{_column(model, c)} = %s" for c in columns)
    pk = connection.ops.quote_name(str(model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", prepared)  # noqa: S608
    return len(prepared)


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
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    ids: list[int] = []
    if connection.vendor == "postgresql":
        return _insert_returning_ids_postgres(table, names, pk, preparers, rows)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            params = [value for row in part for value in _prepare(preparers, row)]
            values = ", ".join([row_marks] * len(part))
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {values} RETURNING {pk}",  # noqa: S608
                params,
            )
            ids.extend(row[0] for row in cursor.fetchall())
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
        raw.executemany(sql, [_prepare(preparers, row) for row in rows], returning=True)
        while True:
            ids.append(raw.fetchone()[0])
            if not raw.nextset():
                break
    return ids
