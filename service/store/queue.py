"""The Co-ordinator's review queue and the case file, read a page at a time.

Both are read by keyset: a page ends at a cursor naming the last entry's
position, and the next page starts strictly after it. A decision recorded
meanwhile gets a higher id, so it never shifts entries from one page to
another: no entry is shown twice and none of those already there is
skipped, however many arrive while someone pages.

The queue is every decision with no review yet, across clients: ``refer``
first (a practitioner is waiting on the Co-ordinator), then
``share_without_consent`` (information went without consent), then the
rest, oldest first within each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import Case, ModelSelect, prefetch

from infoshare.service.store.models import Decision, Review

QUEUE_FIRST = ("refer", "share_without_consent")  # the rest follow, ranked equal
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class QueuePosition:
    """Where an entry sits in the queue: its rank, then its id."""

    rank: int
    id: int

    def token(self) -> str:
        return f"{self.rank}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> QueuePosition | None:
        rank, dot, ident = token.partition(".")
        if not (dot and rank.isdigit() and ident.isdigit() and len(rank) <= 2 and len(ident) <= 19):
            return None
        return cls(int(rank), min(int(ident), MAX_ID))


def rank_of(decision: str) -> int:
    return QUEUE_FIRST.index(decision) if decision in QUEUE_FIRST else len(QUEUE_FIRST)


RANK = Case(Decision.decision, [(d, n) for n, d in enumerate(QUEUE_FIRST)], len(QUEUE_FIRST))


def review_queue(
    *,
    decision: str | None = None,
    client: str | None = None,
    since: datetime | None = None,
    after: QueuePosition | None = None,
    limit: int = 50,
) -> tuple[list[Decision], QueuePosition | None]:
    """Up to `limit` unreviewed decisions in queue order after `after`, and the position to continue
    from (None when this page is the last). `since` is a naive UTC time (recorded at or after it)."""
    query = Decision.select().where(Decision.id.not_in(Review.select(Review.decision)))
    if decision is not None:
        query = query.where(Decision.decision == decision)
    if client is not None:
        query = query.where(Decision.owner() == client)
    if since is not None:
        query = query.where(Decision.recorded_at >= since)
    if after is not None:
        query = query.where((after.rank < RANK) | ((after.rank == RANK) & (Decision.id > after.id)))
    rows: list[Decision] = list(query.order_by(RANK, Decision.id).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return rows, QueuePosition(rank_of(last.decision), last.id) if last is not None else None


def case_file_page(
    query: ModelSelect[Decision], *, after: int | None = None, limit: int = 100
) -> tuple[list[Decision], int | None]:
    """Up to `limit` decisions of `query` (a case file), oldest first, after the decision id `after`,
    each with its reviews, and the id to continue from (None when this page is the last)."""
    if after is not None:
        query = query.where(Decision.id > after)
    rows: list[Decision] = prefetch(query.order_by(Decision.id).limit(limit + 1), Review.select().order_by(Review.id))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].id if more else None
