"""SQL for the per-request queries, built once per kind of database rather than per request.

peewee builds a query's SQL from its expression tree on every execution. On
the hot path (the API key lookup and the decision's INSERT, on every
request) that cost more than the rules engine. The SQL depends only on the
backend's dialect (parameter style and quoting), never on the values, so it
is built once per backend class and then only parameters are bound.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from peewee import Database, Model

M = TypeVar("M", bound=Model)

_built: dict[tuple[type[Database], Hashable], str] = {}


def sql(database: Database, name: Hashable, build: Callable[[], str]) -> str:
    """The SQL that ``build`` makes for ``database``'s dialect, built on first use."""
    key = (type(database), name)
    text = _built.get(key)
    if text is None:
        text = _built[key] = build()
    return text


def first(model: type[M], name: str, build: Callable[[], str], *params: Any) -> M | None:
    """The first row of a prepared SELECT on ``model``, as a model instance, or None."""
    text = sql(model._meta.database, (model, name), build)
    return next(iter(model.raw(text, *params)), None)


def insert(model: type[Model], row: Model) -> int:
    """INSERT ``row`` (its fields as set, defaults filled) and return its new id."""
    text, values = insert_statement(model, row)
    return model._meta.database.execute_sql(text, values).lastrowid


def insert_statement(model: type[Model], row: Model) -> tuple[str, list[Any]]:
    """The INSERT of ``row`` (its fields as set, defaults filled) and the values to bind to it."""
    database = model._meta.database
    names = tuple(row.__data__)

    def build() -> str:
        fields = [model._meta.fields[name] for name in names]
        opening, closing = database.quote  # the dialect's identifier quotes, e.g. '""'
        columns = ", ".join(f"{opening}{field.column_name}{closing}" for field in fields)
        marks = ", ".join([database.param] * len(fields))
        return f"INSERT INTO {opening}{model._meta.table_name}{closing} ({columns}) VALUES ({marks})"

    text = sql(database, (model, "insert", names), build)
    return text, [model._meta.fields[name].db_value(row.__data__[name]) for name in names]
