"""Rate limits shared by every worker process of one server: per client, and per address
for requests without a valid key.

Each key has a token bucket holding up to a minute's allowance
(``INFOSHARE_RATE_LIMIT`` requests a minute, refilled continuously), so a
burst is allowed and a runaway client is slowed to the limit. The buckets
live in shared memory made before gunicorn forks its workers, guarded by
one process-shared lock held for a few arithmetic operations: no database
write and no network call on the hot path. Buckets are slots indexed by the
key's row id; two keys share a slot only when a store has more keys than
slots. Servers that share one database each keep their own buckets, so the
limit is per server.

Requests that carry no valid key (a missing, wrong or revoked key, and the
calls that need none: health, readiness, the OpenAPI document) are limited
by the caller's address instead, in a limiter of their own (slot: the
crc32 of the address), so guessing keys or flooding the open endpoints is
slowed without touching a client's budget. Behind a proxy every caller
shares the proxy's address.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
import zlib

log = logging.getLogger("infoshare.ratelimit")
SLOTS = 4096
LOCK_WAIT_SECONDS = 0.5


def address_slot(address: str) -> int:
    """A bucket number for a client address, the same in every worker process."""
    return zlib.crc32(address.encode("utf-8", "replace"))


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        """``per_minute`` of 0 turns the limit off."""
        self.per_minute = per_minute
        self.per_second = per_minute / 60
        self._buckets = multiprocessing.RawArray("d", 2 * SLOTS)  # tokens, last refill; per slot
        self._lock = multiprocessing.Lock()

    def wait_for(self, key_id: int) -> int:
        """Take one request from the key's bucket: 0 if allowed, else whole seconds to wait."""
        if not self.per_minute:
            return 0
        slot = 2 * (key_id % SLOTS)
        now = time.monotonic()  # one clock for every process on the machine
        if not self._lock.acquire(timeout=LOCK_WAIT_SECONDS):
            # Only a worker killed inside the lock leaves it held; limiting is not worth an outage.
            log.error("rate limit lock unavailable; request allowed")
            return 0
        try:
            buckets = self._buckets
            last = buckets[slot + 1]
            tokens = (
                self.per_minute if last == 0 else min(self.per_minute, buckets[slot] + (now - last) * self.per_second)
            )
            allowed = tokens >= 1
            buckets[slot] = tokens - 1 if allowed else tokens
            buckets[slot + 1] = now
        finally:
            self._lock.release()
        return 0 if allowed else max(1, math.ceil((1 - tokens) / self.per_second))
