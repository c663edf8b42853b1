"""The interview's first analyses, worked out in the background before anyone asks.

The first interview of a policy version in a process works out its reduced
space: for each first answer (each value of a required fact, such as the
subject) about a second of CPU, most of it confirming the predicted rules in
durable-rules. Each worker does it in a thread as it starts, and again when
it moves to another version, so the first practitioner does not wait; the
thread never blocks readiness or serving (an interview that needs the same
analysis meanwhile waits for it, nothing else does), then settles the
heap (``service.heap``) so that full collections skip what it made. It
runs in workers only, never in the gunicorn master before a fork: a child
forked while the thread held the analysis's lock would wait on it forever.

``INFOSHARE_WARM_INTERVIEW = False`` turns it off (tests that do not need it).
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from infoshare.engine import Engine, EvaluationError
from infoshare.engine.analysis.interview import interview_valid
from infoshare.service import heap

log = logging.getLogger("infoshare.interview")
THREAD_NAME = "interview-warm-up"
_warmed: set[str] = set()
_lock = threading.Lock()


def warm_interview(app: Flask, engine: Engine) -> threading.Thread | None:
    """Start the analysis of each first answer with `engine`'s policy, once per version and process;
    the thread started (None when there is nothing to start)."""
    if not app.config.get("INFOSHARE_WARM_INTERVIEW", True):
        return None
    with _lock:
        if engine.policy.digest in _warmed:
            return None
        _warmed.add(engine.policy.digest)
    firsts = [{f.name: v} for f in engine.policy.case_facts if f.required and f.type == "choice" for v in f.values]
    thread = threading.Thread(target=_warm, args=(engine, firsts), name=THREAD_NAME, daemon=True)
    thread.start()
    return thread


def _warm(engine: Engine, cases: list[dict]) -> None:
    started = time.perf_counter()
    try:
        for case in cases:
            interview_valid(engine, case)
    except EvaluationError as exc:  # the request that needs it will answer 503 and say so
        log.warning("interview warm-up failed: %s", type(exc).__name__)
        return
    finally:
        heap.settle()  # the analyses just made are long-lived
    log.info(
        "interview: the first answers of policy %s worked out in %.1f s",
        engine.policy.digest[:12],
        time.perf_counter() - started,
    )
