"""Writers of one sqlite file take turns: a second process waits for the turn instead of polling."""

from __future__ import annotations

import multiprocessing
import time

from peewee import SqliteDatabase

from infoshare.service.store.writeturn import write_turn


def _take_turn(path: str, took: multiprocessing.Queue) -> None:
    with write_turn(SqliteDatabase(path)):
        took.put(time.monotonic())


def test_another_process_waits_for_the_turn_and_gets_it_when_released(tmp_path):
    database = SqliteDatabase(str(tmp_path / "log.sqlite3"))
    context = multiprocessing.get_context("fork")
    took = context.Queue()
    with write_turn(database):
        other = context.Process(target=_take_turn, args=(database.database, took))
        other.start()
        time.sleep(0.3)
        assert took.empty(), "the other process wrote while this one held the turn"
        released = time.monotonic()
    other.join(timeout=10)
    assert other.exitcode == 0
    assert took.get(timeout=1) >= released
