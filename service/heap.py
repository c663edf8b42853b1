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
  still frees them as usual. What was frozen before is never thawed: a full
  pass over it would write to every one of its pages, which the master
  shares with its workers, making each worker's copy its own (~15 to 18 MB
  a worker, measured, for each settle that thawed). The price is that an
  object frozen and later garbage in a cycle is not freed; a server keeps
  every policy version it has built for its life anyway
  (``ServiceState.built``), and the rest of what is frozen is long-lived or
  freed by reference counting.
- it makes full passes rarer (``THRESHOLDS``): what remains for them to walk
  is mostly the memo's verdicts, ~23 objects each (30 to 55 ms for a full
  memo), so there were two passes in 15 s instead of eight. Young
  collections stay as they were, a few ms at most.

Only a server settles (``serve`` calls ``enable`` in the master before its
workers fork): a process that builds and drops one app after another, as
the tests do, would pin every dropped app and its database sessions.
"""

from __future__ import annotations

import gc

# Python's defaults are (700, 10, 10): a full pass is considered every 100 young ones.
THRESHOLDS = (2_000, 10, 100)
_enabled = False


def enable() -> None:
    """Let ``settle`` act in this process and the workers it forks (see the module docstring)."""
    global _enabled
    _enabled = True


def settle() -> None:
    """Collect what is garbage now, freeze the rest as long-lived, and space out full passes;
    nothing unless ``enable`` was called. What was frozen before stays frozen, and is not
    walked again (see the module docstring)."""
    if not _enabled:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
