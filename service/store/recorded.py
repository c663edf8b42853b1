"""The recorded decisions an impact replay reads: in keyset pages by id, so memory stays flat
and each page is one indexed query (``infoshare impact`` and the policy owner's page)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from peewee import ModelSelect

from infoshare.service.store.models import Decision

BATCH = 20_000
Row = tuple[int, str, dict[str, Any], str, str]  # id, case_ref, facts, decision, policy digest


def replay_query(since: datetime | None = None) -> ModelSelect[Decision]:
    query = Decision.select(Decision.id, Decision.case_ref, Decision.facts, Decision.decision, Decision.policy_digest)
    return query if since is None else query.where(Decision.recorded_at >= since)


def pages(query: ModelSelect[Decision], size: int = BATCH) -> Iterator[list[Row]]:
    last = 0
    while True:
        # .tuples() makes rows tuples; peewee's stubs type the query as still yielding models
        rows = cast(list[Row], list(query.where(Decision.id > last).order_by(Decision.id).limit(size).tuples()))
        if not rows:
            return
        yield rows
        last = rows[-1][0]
