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


def test_settling_again_frees_the_garbage_of_what_was_frozen_before():
    """After a reload the old version's objects are garbage, some of them in cycles, which
    reference counting cannot free: settling collects them before it freezes anew."""
    out = _python(
        """
        import gc, weakref
        from infoshare.service import heap

        class Version:
            pass

        heap.enable()
        old = Version()
        old.cycle = old
        gone = weakref.ref(old)
        heap.settle()
        del old
        gc.collect()
        print(gone() is None)  # frozen: a plain collection leaves it
        heap.settle()
        print(gone() is None)
        """
    )
    assert out.splitlines() == ["False", "True"]


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
