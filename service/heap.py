"""Keep a worker's long-lived objects out of Python's full garbage collections.

A worker holds a large, long-lived heap: the policy, its compiled rules, the
interview's analyses, the verdict memo. CPython's full (generation 2)
collection walks every tracked object, and while it runs no thread of the
process answers. Under load with the shipped policy (``bench/store_load.py``,
8 clients on PostgreSQL, the passes timed in the workers) there were about
eight full passes per 15 s, of 40 to 100 ms each: the tail of every
request's latency.

``settle`` does two things where that heap has just been built (in the
gunicorn master before each fork, and in a worker once the interview's
analyses of a policy version are worked out):

- it moves every object alive into the permanent generation
  (``gc.freeze``), which the collector never walks; reference counting
  still frees them as usual. In the master this also keeps the collector
  from writing to the pages the workers share with it. What the process
  froze itself before is thawed and collected first, so a previous policy
  version's garbage is not pinned past the next version's settle.
- it makes full passes rarer (``THRESHOLDS``): what remains for them to walk
  is mostly the memo's verdicts, ~23 objects each (30 to 55 ms for a full
  memo), so there were two passes in 15 s instead of eight. Young
  collections stay as they were, a few ms at most.

Only a server settles (``serve`` calls ``enable`` in the master before its
workers fork). Frozen objects that later become garbage in a cycle stay
until the next settle; a server makes few such (an old policy version,
freed at the next), but a process that builds and drops one app after
another, as the tests do, would pin every dropped app and its database
sessions.
"""

from __future__ import annotations

import gc
import os

# Python's defaults are (700, 10, 10): a full pass is considered every 100 young ones.
THRESHOLDS = (2_000, 10, 100)
_enabled = False
_frozen_by: int | None = None  # the process whose settle made the permanent generation


def enable() -> None:
    """Let ``settle`` act in this process and the workers it forks (see the module docstring)."""
    global _enabled
    _enabled = True


def settle() -> None:
    """Collect what is garbage now, freeze the rest as long-lived, and space out full passes;
    nothing unless ``enable`` was called.

    What this process froze before is thawed and collected first (an old policy version's
    cycles are freed). What a worker inherited frozen from the master is left frozen: a full
    pass over it would write to every one of its pages, each worker's copy of them then its
    own (~18 MB a worker, measured), and would stall the worker as long as the passes this
    module is here to avoid."""
    global _frozen_by
    if not _enabled:
        return
    if _frozen_by == os.getpid():
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _frozen_by = os.getpid()
