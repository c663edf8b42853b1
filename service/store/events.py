"""What happened, in order: decisions recorded, reviews recorded, policy versions activated.

Decisions and reviews follow the log's chain (``LogLink.seq``): a record
gets its link only once it is committed, and links are made one after
another, so a reader who has seen up to link N never later finds a new
record behind it. Activations follow their own ids. A cursor is both
positions, ``"<seq>.<activation id>"``; a page takes the earliest events of
both streams, so each stream's position only moves past what was returned.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infoshare.service.store.models import Decision, LogLink, PolicyActivation, PolicyVersion, Review, as_utc

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class EventCursor:
    seq: int = 0
    activation: int = 0

    def token(self) -> str:
        return f"{self.seq}.{self.activation}"

    @classmethod
    def parse(cls, token: str) -> EventCursor | None:
        seq, dot, activation = token.partition(".")
        if not (dot and seq.isdigit() and activation.isdigit() and len(seq) <= 19 and len(activation) <= 19):
            return None
        return cls(min(int(seq), MAX_ID), min(int(activation), MAX_ID))


@dataclass(frozen=True)
class Event:
    at: datetime
    cursor: EventCursor
    body: dict[str, Any]


def events_after(
    cursor: EventCursor, *, client: str | None, records: bool = True, limit: int = 100
) -> tuple[list[dict[str, Any]], EventCursor]:
    """Up to `limit` events after `cursor`, oldest first, each with the cursor just after it, and the
    cursor after the last of them (`cursor` itself when there are none).

    `client`: only decisions of this client and reviews of them (None: every client's);
    `records`: False for a reader of no case records at all (only activations)."""
    links: list[Event] = []
    if records:  # one stream in link order, so its position moves only past what was returned
        links = list(heapq.merge(_decisions(cursor, client, limit), _reviews(cursor, client, limit), key=_seq))
    # merge takes from the heads of its streams only: each stream's order is kept whatever the times say
    taken = list(heapq.merge(links, _activations(cursor, limit), key=lambda e: e.at))[:limit]
    running = _running(taken, cursor)
    return [{**e.body, "cursor": e.cursor.token()} for e in running], running[-1].cursor if running else cursor


def _seq(event: Event) -> int:
    return event.cursor.seq


def _running(taken: list[Event], start: EventCursor) -> list[Event]:
    """Each event with the cursor just after it (to resume from any of them)."""
    seq, activation, out = start.seq, start.activation, []
    for event in taken:
        seq, activation = max(seq, event.cursor.seq), max(activation, event.cursor.activation)
        out.append(Event(event.at, EventCursor(seq, activation), event.body))
    return out


def _owned(query: Any, client: str | None) -> Any:
    return query if client is None else query.where(Decision.owner() == client)


def _decisions(cursor: EventCursor, client: str | None, limit: int) -> list[Event]:
    link = (LogLink.kind == "decision") & (LogLink.record_id == Decision.id)
    rows = _owned(Decision.select(Decision, LogLink.seq).join(LogLink, on=link), client)
    rows = rows.where(LogLink.seq > cursor.seq).order_by(LogLink.seq).limit(limit).objects()
    return [
        Event(
            row.recorded_at,
            EventCursor(row.seq, 0),
            {
                "type": "decision_recorded",
                "at": as_utc(row.recorded_at).isoformat(),
                "decision_id": row.id,
                "case_ref": row.case_ref,
                "client": row.client or row.key_name,
                "decision": row.decision,
            },
        )
        for row in rows
    ]


def _reviews(cursor: EventCursor, client: str | None, limit: int) -> list[Event]:
    link = (LogLink.kind == "review") & (LogLink.record_id == Review.id)
    rows = (
        Review.select(
            Review, Decision.case_ref, Decision.client.alias("owner"), Decision.key_name.alias("owner_key"), LogLink.seq
        )
        .join(Decision, on=Review.decision == Decision.id)
        .join(LogLink, on=link)
    )
    rows = _owned(rows, client).where(LogLink.seq > cursor.seq).order_by(LogLink.seq).limit(limit).objects()
    return [
        Event(
            row.reviewed_at,
            EventCursor(row.seq, 0),
            {
                "type": "review_recorded",
                "at": as_utc(row.reviewed_at).isoformat(),
                "decision_id": row.decision_id,
                "case_ref": row.case_ref,
                "client": row.owner or row.owner_key,
                "decision": row.final_decision,
                "reviewed_by": row.reviewed_by,
            },
        )
        for row in rows
    ]


def _activations(cursor: EventCursor, limit: int) -> list[Event]:
    rows: Any = (
        PolicyActivation.select(
            PolicyActivation.id,
            PolicyActivation.activated_at,
            PolicyActivation.digest,
            PolicyVersion.policy_id,
            PolicyVersion.version,
        )
        .join(PolicyVersion, on=PolicyVersion.digest == PolicyActivation.digest)
        .where(PolicyActivation.id > cursor.activation)
        .order_by(PolicyActivation.id)
        .limit(limit)
        .dicts()
    )
    return [
        Event(
            row["activated_at"],
            EventCursor(0, row["id"]),
            {
                "type": "policy_activated",
                "at": as_utc(row["activated_at"]).isoformat(),
                "policy": {"id": row["policy_id"], "version": row["version"], "digest": row["digest"]},
            },
        )
        for row in rows
    ]
