"""Writers of one sqlite file take turns: a second process waits for the turn instead of polling."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from peewee import SqliteDatabase

from infoshare.service.store.writeturn import write_turn


def _take_turn(path: str, took: multiprocessing.Queue) -> None:
    with write_turn(SqliteDatabase(path)):
        took.put(time.monotonic())


def blocked_on_a_lock(pid: int) -> bool:
    """Whether `pid` is waiting for an flock (the kernel lists waiters in /proc/locks with `->`)."""
    return any(
        line.split()[1:3] == ["->", "FLOCK"] and line.split()[5] == str(pid)
        for line in Path("/proc/locks").read_text().splitlines()
    )


def test_another_process_waits_for_the_turn_and_gets_it_when_released(tmp_path):
    database = SqliteDatabase(str(tmp_path / "log.sqlite3"))
    context = multiprocessing.get_context("fork")
    took = context.Queue()
    with write_turn(database):
        other = context.Process(target=_take_turn, args=(database.database, took))
        other.start()
        deadline = time.monotonic() + 30
        while not blocked_on_a_lock(other.pid):  # the other process has asked for the turn and waits
            assert other.is_alive() and took.empty(), "the other process wrote while this one held the turn"
            assert time.monotonic() < deadline, "the other process never came to wait for the turn"
            time.sleep(0.01)
        assert took.empty()
        released = time.monotonic()
    other.join(timeout=10)
    assert other.exitcode == 0
    assert took.get(timeout=1) >= released
