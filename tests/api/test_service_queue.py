"""The Co-ordinator's review queue: order, filters, pages that hold still while decisions arrive, and case-file pages."""

from __future__ import annotations

from service_cases import BARE_FACTS, SHARE_FACTS

REFER = {**SHARE_FACTS, "recipient_needs_to_know": "unsure"}
WITHOUT_CONSENT = {
    "subject": "child",
    "harm_concern": "yes",
    "consent": "refused",
    "seeking_consent_would": [],
    "purpose": "child_protection_enquiry",
    "recipient": "childrens_social_care",
    "recipient_needs_to_know": "yes",
}
KINDS = {"share": SHARE_FACTS, "undetermined": BARE_FACTS, "refer": REFER, "share_without_consent": WITHOUT_CONSENT}
RANK = {"refer": 0, "share_without_consent": 1}


def queue(http, as_role, **params):
    response = http.get("/v1/review-queue", query_string=params, headers=as_role("coordinator"))
    assert response.status_code == 200, response.json
    return response.json


def test_refer_first_then_without_consent_then_the_rest_oldest_first(client, as_role, recorded):
    made = [
        recorded(KINDS[kind], case_ref=f"Q-{n}")
        for n, kind in enumerate(["share", "refer", "undetermined", "share_without_consent", "refer", "share"])
    ]
    for m in made:
        assert m["decision"] in KINDS
    client.post(
        f"/v1/decisions/{made[4]['id']}/review",
        json={"decision": "do_not_share", "rationale": "Not needed.", "reviewed_by": "A. Khan"},
        headers=as_role("coordinator"),
    )
    entries = queue(client, as_role)["entries"]
    assert [e["id"] for e in entries] == [made[i]["id"] for i in (1, 3, 0, 2, 5)], "a reviewed one leaves the queue"
    first = entries[0]
    assert set(first) == {"id", "case_ref", "client", "decision", "recorded_at", "waited"}
    assert (first["case_ref"], first["client"], first["decision"]) == ("Q-1", "test-case-system", "refer")
    assert first["recorded_at"] == made[1]["recorded_at"] and first["waited"] >= 0


def test_filters_by_decision_client_and_since(client, app, as_role, recorded):
    from infoshare.service.access.keys import create_key

    with app.app_context():
        other = create_key("case-system", "other-system")[1]
    recorded(REFER, case_ref="F-1")
    response = client.post(
        "/v1/decisions",
        json={"case_ref": "F-2", "facts": SHARE_FACTS},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert response.status_code == 201
    assert [e["case_ref"] for e in queue(client, as_role, decision="refer")["entries"]] == ["F-1"]
    assert [e["case_ref"] for e in queue(client, as_role, client="other-system")["entries"]] == ["F-2"]
    later = response.json["recorded_at"]
    assert [e["case_ref"] for e in queue(client, as_role, since=later)["entries"]] == ["F-2"]
    assert queue(client, as_role, since="2999-01-01")["entries"] == []
    assert len(queue(client, as_role, since="2000-01-01T00:00:00+01:00")["entries"]) == 2


def test_pages_hold_still_while_decisions_arrive(client, as_role, recorded):
    kinds = ["share", "refer", "undetermined", "share_without_consent"] * 3
    before = [recorded(KINDS[k], case_ref=f"P-{n}")["id"] for n, k in enumerate(kinds)]
    seen, after, pages = [], None, 0
    while True:
        page = queue(client, as_role, limit=2, **({"after": after} if after else {}))
        seen += [(RANK.get(e["decision"], 2), e["id"]) for e in page["entries"]]
        for k in ("refer", "share", "share_without_consent"):  # arrive between every two pages
            recorded(KINDS[k], case_ref=f"NEW-{pages}-{k}")
        pages += 1
        after = page["next"]
        if after is None:
            break
    ids = [i for _, i in seen]
    assert len(ids) == len(set(ids)), "no entry is shown twice"
    assert set(before) <= set(ids), "none that was there is skipped"
    assert seen == sorted(seen), "each page continues the order of the one before"


def test_queue_needs_the_coordinator_and_refuses_bad_parameters(client, as_role):
    for role in ("case-system", "policy-owner"):
        assert client.get("/v1/review-queue", headers=as_role(role)).status_code == 403
    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"after": "abc"}, "after"),
        ({"decision": "maybe"}, "decision"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-01T00:00:00"}, "since"),
        ({"order": "desc"}, "order"),
    ):
        response = client.get("/v1/review-queue", query_string=params, headers=as_role("coordinator"))
        assert response.status_code == 400, (params, response.json)
        assert list(response.json["messages"]) == [field], response.json


def test_a_case_file_is_read_a_page_at_a_time(client, as_role, recorded):
    ids = [recorded(SHARE_FACTS, case_ref="CF-1")["id"] for _ in range(5)]
    headers = as_role("case-system")
    first = client.get("/v1/cases/CF-1/decisions?limit=2", headers=headers).json
    assert [d["id"] for d in first["decisions"]] == ids[:2] and first["next"]
    recorded(SHARE_FACTS, case_ref="CF-1")  # arrives while paging: it comes last, nothing moves
    second = client.get(f"/v1/cases/CF-1/decisions?limit=2&after={first['next']}", headers=headers).json
    assert [d["id"] for d in second["decisions"]] == ids[2:4]
    rest = client.get(f"/v1/cases/CF-1/decisions?after={second['next']}", headers=headers).json
    assert [d["id"] for d in rest["decisions"]][:1] == ids[4:] and len(rest["decisions"]) == 2
    assert rest["next"] is None
    assert client.get("/v1/cases/CF-1/decisions?after=x", headers=headers).status_code == 400
    # The document gives the cursor a maximum (the largest id): a cursor past it is refused, not clamped.
    beyond = client.get(f"/v1/cases/CF-1/decisions?after={2**63}", headers=headers)
    assert beyond.status_code == 400 and list(beyond.json["messages"]) == ["after"]
    assert client.get(f"/v1/cases/CF-1/decisions?after={2**63 - 1}", headers=headers).json["decisions"] == []


def test_pages_hold_still_while_another_client_records_at_the_same_time(app, client, as_role, tokens, recorded):
    import threading

    before = [recorded(KINDS[k], case_ref=f"T-{n}")["id"] for n, k in enumerate(list(KINDS) * 3)]
    writer_client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['case-system']}"}
    paging_done, first_page_read, first_written = threading.Event(), threading.Event(), threading.Event()
    written: list[int] = []

    def write() -> None:
        first_page_read.wait()
        kinds = list(KINDS)
        while not paging_done.is_set() and len(written) < 60:
            facts = KINDS[kinds[len(written) % len(kinds)]]
            made = writer_client.post("/v1/decisions", json={"case_ref": "T-NEW", "facts": facts}, headers=headers)
            written.append(made.json["id"])
            first_written.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen, after = [], None
    try:
        while True:
            page = queue(client, as_role, limit=2, **({"after": after} if after else {}))
            if not first_page_read.is_set():  # the writer records between this page and the next,
                first_page_read.set()  # whoever the interpreter runs first
                first_written.wait(timeout=30)
            seen += [(RANK.get(e["decision"], 2), e["id"]) for e in page["entries"]]
            after = page["next"]
            if after is None:
                break
    finally:
        paging_done.set()
        writer.join()
    ids = [i for _, i in seen]
    assert written, "nothing was recorded while paging"
    assert len(ids) == len(set(ids)) and set(before) <= set(ids) and seen == sorted(seen)
