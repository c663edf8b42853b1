"""Open the decision log's database from a URL and make sure its tables exist.

``DATABASE_URL`` picks the backend through ``playhouse.db_url``:
``sqlite:///relative/path``, ``sqlite:////absolute/path``, or
``postgresql://user@host:port/db``, which is a pool of connections in each
process (``service.store.connections``; ``postgresql+pool://`` means the
same). Query-string parameters are passed to the driver or the pool, so
``?timeout=1``, ``?max_connections=4`` or ``?options=-csearch_path%3Dname``
work as peewee documents.

sqlite settings, chosen for a log that several worker processes append to:

- ``journal_mode=wal``: readers never block the writer and the writer never
  blocks readers, so the case file can be read while decisions are recorded.
- busy timeout of 5 s (peewee's ``timeout``): a writer that finds another
  process's write in progress waits for it instead of failing at once. Each
  write is a single short INSERT, so the wait is milliseconds in practice.
- ``synchronous=FULL``: a 201 means the decision is on disk. NORMAL would be
  faster but in WAL mode may lose the last acknowledged decisions on a power
  cut, and the protocol requires every decision to be in the case file.
- ``foreign_keys=1``: a review can only point at a recorded decision.
- writers take turns through a lock file beside the database
  (``service.writeturn``) rather than sqlite's sleep-and-retry.

At every start the log's append-only triggers are (re)installed (each one
put back is logged: it had been dropped or altered), columns
added since a store was made are added to it (every such column may be
null), each key made before clients becomes a client of its name, the records of each kind
the chain did not cover yet (all, in a store made before the chain) are
chained once, oldest first, and
records left pending by a stopped writer are linked (``service.logchain``).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from peewee import Database, PostgresqlDatabase, SqliteDatabase
from playhouse import db_url
from playhouse.migrate import SchemaMigrator

from infoshare.service.store import appendonly, logchain, private
from infoshare.service.store.connections import POOL_DEFAULTS, PostgresqlPool, release
from infoshare.service.store.models import MODELS, ApiKey, Client, Decision, LogLink

log = logging.getLogger("infoshare.store")
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "full", "foreign_keys": 1}
SQLITE_BUSY_TIMEOUT_SECONDS = 5
POSTGRESQL_SCHEMES = ("postgresql", "postgres", "postgresql+pool", "postgres+pool")


def open_store(url: str, set_up: bool = True) -> Database:
    """Connect the models to the database at ``url`` and, with ``set_up``, prepare it.

    Setting up is safe on every start: every step is ``IF NOT EXISTS`` or done once, and
    each append-only trigger that had to be put back is logged. ``set_up=False`` installs,
    adds and links nothing (``infoshare log verify`` reads the store as it finds it). The
    connection is closed again (not kept in the pool) so that a process that
    forks workers after this call hands none of them a shared connection.
    """
    settings = db_url.parse(url)
    if urlparse(url).scheme in POSTGRESQL_SCHEMES:
        database: Database = PostgresqlPool(**{**POOL_DEFAULTS, **settings})
    else:
        defaults: dict = {}
        if url.startswith("sqlite"):
            defaults = {"pragmas": SQLITE_PRAGMAS, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
            if settings["database"] != ":memory:":
                _make_private(Path(settings["database"]))
        database = db_url.connect(url, **{k: v for k, v in defaults.items() if k not in settings})
    database.bind(MODELS)
    if set_up:
        with database.connection_context(), _one_setup_at_a_time(database):
            _set_up(database)
    release(database)
    return database


def _set_up(database: Database) -> None:
    chain_is_new = not database.table_exists(LogLink._meta.table_name)
    covered = set() if chain_is_new else logchain.covered_kinds()
    database.create_tables([m for m in MODELS if not database.table_exists(m._meta.table_name)])
    _add_missing_columns(database)
    logchain.install(database)
    _give_every_key_a_client()
    reinstalled = appendonly.install(database)
    if reinstalled and not chain_is_new:
        log.warning("append-only guards were not in place and are installed again: %s", "; ".join(reinstalled))
    altered = [] if chain_is_new else logchain.altered_scope()
    if altered:
        log.error(
            "the chain's scope records %s do not match their links: no records are adopted into the chain; "
            "run `infoshare log verify`",
            ", ".join(map(str, altered)),
        )
    else:
        logchain.adopt_unchained(database, [kind for kind in logchain.MODEL_OF if kind not in covered])
    logchain.link_pending(database)  # left by a writer that stopped between commit and link


def _make_private(store: Path) -> None:
    """The store, its -wal and -shm and its writers' lock file only for this user (0600), in
    a folder made 0700 if the service makes it. sqlite gives -wal and -shm the mode of the
    store itself, so a store made 0600 keeps them so; older stores are put right here."""
    private.private_file(store)
    for companion in ("-wal", "-shm", "-writer.lock"):
        if (path := store.with_name(store.name + companion)).exists():
            private.private_file(path)


@contextmanager
def _one_setup_at_a_time(database: Database) -> Iterator[None]:
    """Servers starting together on a new PostgreSQL store take turns to set it up.

    PostgreSQL runs concurrent ``CREATE ... IF NOT EXISTS`` side by side and
    fails all but one on its catalogue's unique index, so without this the
    second of two servers started at once would refuse to start. sqlite
    already runs schema changes one at a time under its write lock.
    """
    if not isinstance(database, PostgresqlDatabase):
        yield
        return
    database.execute_sql("SELECT pg_advisory_lock(hashtext('infoshare setup ' || current_schema()))")
    try:
        yield
    finally:
        database.execute_sql("SELECT pg_advisory_unlock(hashtext('infoshare setup ' || current_schema()))")


def _add_missing_columns(database: Database) -> None:
    """Add the columns a model has and its table lacks (only nullable ones are ever added),
    and the indexes the models declare."""
    migrator = SchemaMigrator.from_database(database)
    with database.atomic():
        for model in MODELS:
            table = model._meta.table_name
            present = {column.name for column in database.get_columns(table)}
            for field in model._meta.sorted_fields:
                if field.column_name not in present:
                    assert field.null, f"{table}.{field.column_name}: a column added later must allow null"
                    migrator.add_column(table, field.column_name, field).run()
        database.create_tables(MODELS, safe=True)  # the indexes of columns just added


def _give_every_key_a_client() -> None:
    """A key made before clients becomes the only key of a client of its own name and role.

    A client of that name with another role (made by a newer server sharing
    the store) is not merged with it: the key stays without a client, and a
    key without a client is refused, so nothing is read under a wrong role.
    A client made here is chained once the chain covers clients (before that,
    adoption chains it).
    """
    database = ApiKey._meta.database
    with logchain.chained_writes(database):
        for key in ApiKey.select().where(ApiKey.client.is_null()):
            client = Client.get_or_none(Client.name == key.name)
            if client is None:
                client = Client.create(name=key.name, role=key.role, created_at=key.created_at)
                if "client" in logchain.covered_kinds():
                    logchain.chain("client", client)
            if client.role == key.role:
                ApiKey.update(client=client).where(ApiKey.id == key.id).execute()


MIN_ROOM_BYTES = 1024 * 1024
"""Readiness needs room for this much more: about a hundred decisions with their chain links."""


class StoreFull(RuntimeError):
    """The sqlite store has, or its file system has, less room left than MIN_ROOM_BYTES."""


def check_room(database: Database) -> None:
    """Raise StoreFull when an sqlite store is about to run out of room.

    The write that ``check_writable`` tries fits in pages the file already
    has, so on its own it would call a full disk ready; this looks at the
    room itself: sqlite's page limit and free pages, and the file system.
    """
    if not isinstance(database, SqliteDatabase) or database.database == ":memory:":
        return
    page_size, pages, limit, free_pages = (
        database.execute_sql(f"PRAGMA {name}").fetchone()[0]
        for name in ("page_size", "page_count", "max_page_count", "freelist_count")
    )
    in_file = (limit - pages + free_pages) * page_size
    on_disk = shutil.disk_usage(Path(database.database).resolve().parent).free
    if min(in_file, on_disk) < MIN_ROOM_BYTES:
        raise StoreFull(f"less than {MIN_ROOM_BYTES // 1024} KiB of room is left for the decision log")


def check_writable(database: Database) -> None:
    """Raise a peewee error unless a decision could be written right now.

    It runs a write that matches no row inside a transaction that is rolled
    back: the database must take the write lock (sqlite) or accept a write
    (PostgreSQL, not a read-only standby), and the table must exist, yet
    nothing is changed.
    """
    with database.atomic() as transaction:
        Decision.update(decision=Decision.decision).where(Decision.id == 0).execute()
        transaction.rollback()
