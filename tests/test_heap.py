"""A worker's long-lived heap is frozen out of Python's full collections (``service.heap``).

Each check runs in a fresh interpreter: freezing is process-wide, and this
one's other tests must not inherit it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_after_the_interview_warm_up_the_policy_is_out_of_full_collections():
    """The warm-up builds the analyses that live as long as the version; once it is done,
    neither the engine nor what it holds is walked by a full pass."""
    out = _python(
        """
        import gc
        from flask import Flask
        from infoshare.engine import Engine, load_policy
        from infoshare.engine.policy.loader import SHIPPED_POLICY
        from infoshare.service import heap
        from infoshare.service.warmup import warm_interview

        heap.enable()  # as `infoshare serve` does
        engine = Engine(load_policy(SHIPPED_POLICY))
        warm_interview(Flask("test"), engine).join()
        walked = {id(o) for o in gc.get_objects()}
        print(id(engine) in walked, id(engine.policy) in walked, gc.get_freeze_count() > 10_000)
        print(gc.get_threshold())
        """
    )
    assert out.splitlines() == ["False False True", "(2000, 10, 100)"]


def test_the_master_settles_its_heap_before_each_fork():
    """What a worker inherits from the master (the preloaded app) starts frozen."""
    out = _python(
        """
        import gc
        from peewee import SqliteDatabase
        from infoshare.service import heap
        from infoshare.service.server import _before_fork

        heap.enable()  # as `infoshare serve` does
        long_lived = [{"rule": n} for n in range(1000)]
        _before_fork(SqliteDatabase(":memory:"), None, None)
        walked = {id(o) for o in gc.get_objects()}
        print(any(id(o) in walked for o in long_lived), id(long_lived) in walked)
        """
    )
    assert out == "False False"


def test_the_masters_next_settle_leaves_the_pages_its_first_worker_shares_with_it():
    """The master settles before each fork; thawing and walking what it froze for the first
    worker would write to every page the two share, copying them into that worker."""
    out = _python(
        """
        import os
        from infoshare.service import heap

        def private_kib():
            with open("/proc/self/smaps_rollup") as rollup:
                return sum(int(line.split()[1]) for line in rollup if line.startswith("Private_"))

        heap.enable()
        inherited = [{"n": n} for n in range(400_000)]
        heap.settle()  # before the first worker's fork
        ready, measured, go = os.pipe(), os.pipe(), os.pipe()
        child = os.fork()
        if child == 0:
            before = private_kib()
            os.write(ready[1], b"x")
            os.read(go[0], 1)  # the master has settled again
            os.write(measured[1], str(private_kib() - before).encode())
            os._exit(0)
        os.read(ready[0], 1)
        heap.settle()  # before the second worker's fork
        os.write(go[1], b"x")
        copied = int(os.read(measured[0], 64)) // 1024
        os.waitpid(child, 0)
        print(copied)
        """
    )
    assert int(out) < 10, f"{out} MiB the first worker shared with the master became its own"


def test_a_process_that_is_not_a_server_is_left_as_it_is():
    """The tests build and drop one app after another: frozen, each would stay, with its sessions."""
    out = _python(
        """
        import gc
        from flask import Flask
        from infoshare.engine import Engine, load_policy
        from infoshare.engine.policy.loader import SHIPPED_POLICY
        from infoshare.service.warmup import warm_interview

        warm_interview(Flask("test"), Engine(load_policy(SHIPPED_POLICY))).join()
        print(gc.get_freeze_count(), gc.get_threshold())
        """
    )
    assert out == "0 (700, 10, 10)"


def test_a_worker_leaves_what_it_inherited_frozen_so_its_pages_stay_shared():
    """The master's heap, frozen before the fork, is shared with each worker page by page until
    written. A worker's settle that walked it (thawing it first) would write to every page: a
    private copy of the master's heap per worker."""
    out = _python(
        """
        import os
        from infoshare.service import heap

        def private_kib():
            with open("/proc/self/smaps_rollup") as rollup:
                return sum(int(line.split()[1]) for line in rollup if line.startswith("Private_"))

        heap.enable()
        inherited = [{"n": n} for n in range(400_000)]  # ~90 MB of long-lived objects in the master
        heap.settle()
        reader, writer = os.pipe()
        child = os.fork()
        if child == 0:
            before = private_kib()
            heap.settle()  # the worker's own, after its warm-up
            os.write(writer, str(private_kib() - before).encode())
            os._exit(0)
        os.waitpid(child, 0)
        print(int(os.read(reader, 64)) // 1024)  # MiB the worker's settle made its own
        """
    )
    assert int(out) < 10, f"{out} MiB of the master's heap copied into the worker"
