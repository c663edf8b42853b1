"""The pages' security, through Flask's test client: headers, cookie, CSRF, lock-out,
sign-out, one-time links, redirects, roles and record ownership."""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta

import pytest
from web_people import PASSWORD, PEOPLE, SHARE_FACTS

from infoshare.engine.analysis.interview import space_for
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access import people
from infoshare.service.access.keys import create_key
from infoshare.service.store.models import InterviewDraft, Person, utcnow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for the module (argon2 hashing is slow on purpose); tests use their own people and cases."""
    folder = tmp_path_factory.mktemp("web")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'store.sqlite3'}",
            "INFOSHARE_POLICY": str(SHIPPED_POLICY),
            "INFOSHARE_WARM_INTERVIEW": False,
        }
    )
    with app.app_context():
        for login, (role, name) in PEOPLE.items():
            people.create_person(role, name, login, PASSWORD)
        people.create_person("practitioner", "Lou Locked", "lou.locked", PASSWORD)
        people.create_person("practitioner", "Sid Signout", "sid.signout", PASSWORD)
    return app


def token(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)


def signed_in(app, login: str):
    client = app.test_client()
    response = client.post(
        "/sign-in", data={"login": login, "password": PASSWORD, "csrf_token": token(client.get("/sign-in"))}
    )
    assert response.status_code == 302, response.text
    return client


def record_through_pages(client, case_ref: str = "CASE-7") -> int:
    """The facts go in as a draft (as the question pages leave them); the answer page records."""
    with client.application.app_context():
        person = Person.get(Person.login == "sam.patel")

        InterviewDraft.insert(person=person.id, facts=SHARE_FACTS).on_conflict_replace().execute()
    page = client.get("/share/answer")
    assert "You may share this information" in page.text
    response = client.post("/share/answer", data={"case_ref": case_ref, "csrf_token": token(page)})
    assert response.status_code == 302, response.text
    return int(re.search(r"/decisions/(\d+)", response.headers["Location"]).group(1))


def test_every_response_carries_the_security_headers(app):
    client = app.test_client()
    for response in (client.get("/sign-in"), client.get("/healthz"), client.get("/v1/policy")):
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
        assert "default-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
    assert (
        client.get("/sign-in", base_url="https://localhost").headers["Strict-Transport-Security"].startswith("max-age=")
    )


def test_the_session_cookie_is_httponly_strict_and_secure_over_tls(app):
    client = app.test_client()
    plain = client.post(
        "/sign-in", data={"login": "sam.patel", "password": PASSWORD, "csrf_token": token(client.get("/sign-in"))}
    )
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    tls = app.test_client()
    page = tls.get("/sign-in", base_url="https://localhost")
    response = tls.post(
        "/sign-in",
        data={"login": "sam.patel", "password": PASSWORD, "csrf_token": token(page)},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/sign-in"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert "sam.patel" not in cookie and "Sam Patel" not in cookie


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app):
    client = signed_in(app, "sam.patel")
    assert client.post("/share/new").status_code == 400
    assert client.post("/share/answer", data={"case_ref": "CASE-1"}).status_code == 400
    coordinator = signed_in(app, "jo.coordinator")
    assert coordinator.post("/decisions/1/review", data={"decision": "share", "rationale": "x"}).status_code == 400
    assert app.test_client().post("/sign-in", data={"login": "sam.patel", "password": PASSWORD}).status_code == 400


def test_repeated_wrong_passwords_lock_the_account(app):
    client = app.test_client()
    csrf = token(client.get("/sign-in"))
    for attempt in range(1, people.MAX_FAILURES + 1):
        wrong = client.post("/sign-in", data={"login": "lou.locked", "password": "not it at all", "csrf_token": csrf})
        assert wrong.status_code == 400
        assert ("locked" if attempt == people.MAX_FAILURES else "not right") in wrong.text
    locked = client.post("/sign-in", data={"login": "lou.locked", "password": PASSWORD, "csrf_token": csrf})
    assert locked.status_code == 400 and "locked" in locked.text
    with app.app_context():  # the lock runs out
        Person.update(locked_until=utcnow() - timedelta(seconds=1)).where(Person.login == "lou.locked").execute()
    assert (
        client.post("/sign-in", data={"login": "lou.locked", "password": PASSWORD, "csrf_token": csrf}).status_code
        == 302
    )


def test_an_unknown_login_gets_the_same_answer_as_a_wrong_password(app):
    client = app.test_client()
    csrf = token(client.get("/sign-in"))
    unknown = client.post("/sign-in", data={"login": "nobody", "password": "whatever it is", "csrf_token": csrf})
    wrong = client.post("/sign-in", data={"login": "sam.patel", "password": "whatever it is", "csrf_token": csrf})
    assert unknown.status_code == wrong.status_code == 400
    assert "not right" in unknown.text and "not right" in wrong.text


def test_signing_out_ends_every_copy_of_the_session(app):
    client = signed_in(app, "sid.signout")
    copied = client.get_cookie("infoshare_session").value
    assert client.get("/decisions").status_code == 200
    client.post("/sign-out", data={"csrf_token": token(client.get("/decisions"))})
    thief = app.test_client()
    thief.set_cookie("infoshare_session", copied)
    assert thief.get("/decisions").status_code == 302  # to the sign-in page


def test_passwords_are_stored_as_argon2id_hashes(app):
    with app.app_context():
        stored = Person.get(Person.login == "sam.patel").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_one_time_link_works_once(app):
    with app.app_context():
        person = people.create_person("practitioner", "Ada Link")
        link = people.issue_link(person)
    client = app.test_client()
    page = client.get(f"/sign-in/link/{link}")
    assert page.status_code == 200 and "ada.link" in page.text
    short = client.post(
        f"/sign-in/link/{link}", data={"password": "short", "confirm": "short", "csrf_token": token(page)}
    )
    assert short.status_code == 400 and "at least 12" in short.text
    done = client.post(
        f"/sign-in/link/{link}",
        data={"password": "a long password", "confirm": "a long password", "csrf_token": token(page)},
    )
    assert done.status_code == 302
    assert client.get("/").status_code == 200
    assert app.test_client().get(f"/sign-in/link/{link}").status_code == 404
    assert app.test_client().get("/sign-in/link/" + "x" * 43).status_code == 404


@pytest.mark.parametrize(
    "target", ["//evil.example/", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_off_the_site(app, target):
    client = app.test_client()
    response = client.post(
        "/sign-in?next=" + target,
        data={"login": "sam.patel", "password": PASSWORD, "csrf_token": token(client.get("/sign-in"))},
    )
    assert response.headers["Location"] == "/"


def test_pages_need_the_role_the_api_would_need(app):
    anonymous = app.test_client()
    for path in ("/share", "/decisions", "/log", "/policy", "/policy/try", "/decisions/1"):
        assert anonymous.get(path).status_code == 302, path
    practitioner = signed_in(app, "sam.patel")
    for path in ("/queue", "/log", "/policy", "/policy/candidate"):
        assert practitioner.get(path).status_code == 403, path
    owner = signed_in(app, "pat.owner")
    for path in ("/share", "/decisions", "/decisions/1", "/log", "/queue"):
        assert owner.get(path).status_code == 403, path
    coordinator = signed_in(app, "jo.coordinator")
    assert coordinator.get("/share").status_code == 403  # the co-ordinator reviews; practitioners record
    assert coordinator.get("/policy").status_code == 403


def test_a_practitioner_sees_only_their_own_decisions(app):
    sam = signed_in(app, "sam.patel")
    mine = record_through_pages(sam, "CASE-7")
    with app.app_context():
        _, key = create_key("case-system", "school-system")
    api = app.test_client().post(
        "/v1/decisions", json={"case_ref": "CASE-7", "facts": SHARE_FACTS}, headers={"Authorization": f"Bearer {key}"}
    )
    theirs = api.json["id"]
    assert sam.get(f"/decisions/{mine}").status_code == 200
    assert sam.get(f"/decisions/{theirs}").status_code == 404
    case = sam.get("/cases/CASE-7")
    assert f"Decision {mine}:" in case.text and f"Decision {theirs}:" not in case.text
    kim = signed_in(app, "kim.lee")
    assert kim.get(f"/decisions/{mine}").status_code == 404
    assert kim.get("/cases/CASE-7").status_code == 404
    coordinator = signed_in(app, "jo.coordinator")
    assert coordinator.get(f"/decisions/{mine}").status_code == 200
    assert coordinator.get(f"/decisions/{theirs}").status_code == 200
    # and the API names the page's record as it names its own: the person, and who asked
    with app.app_context():
        _, coordinator_key = create_key("coordinator", "co-key")
    record = app.test_client().get(f"/v1/decisions/{mine}", headers={"Authorization": f"Bearer {coordinator_key}"}).json
    assert record["client"] == "person-sam.patel" and record["requested_by"] == "Sam Patel"
    assert record["recorded_by"] == "web-sign-in"
    assert record["decision"] == api.json["decision"] == "share"


def test_a_review_from_the_page_is_the_apis_review(app):
    sam = signed_in(app, "sam.patel")
    decision = record_through_pages(sam, "CASE-8")
    coordinator = signed_in(app, "jo.coordinator")
    page = coordinator.get(f"/decisions/{decision}")
    blank = coordinator.post(
        f"/decisions/{decision}/review", data={"decision": "share", "rationale": "   ", "csrf_token": token(page)}
    )
    assert blank.status_code == 400 and 'href="#rationale"' in blank.text
    nameless = coordinator.post(
        f"/decisions/{decision}/review",
        data={"decision": "share", "rationale": "Fine.", "reviewed_by": " ", "csrf_token": token(page)},
    )
    assert nameless.status_code == 400 and 'href="#reviewed_by"' in nameless.text
    ok = coordinator.post(
        f"/decisions/{decision}/review",
        data={
            "decision": "do_not_share",
            "rationale": "Not needed now.",
            "reviewed_by": "Jo Adeyemi",
            "csrf_token": token(page),
        },
    )
    assert ok.status_code == 302
    with app.app_context():
        _, key = create_key("coordinator", "co-key-2")
    record = app.test_client().get(f"/v1/decisions/{decision}", headers={"Authorization": f"Bearer {key}"}).json
    assert [(r["decision"], r["rationale"], r["client"], r["reviewed_by"]) for r in record["reviews"]] == [
        ("do_not_share", "Not needed now.", "person-jo.coordinator", "Jo Adeyemi")
    ]


def test_page_actions_log_who_and_what_but_nothing_personal(app, caplog):
    caplog.set_level(logging.INFO, logger="infoshare")
    sam = signed_in(app, "sam.patel")
    decision = record_through_pages(sam, "CASE-LOG")
    lines = [r for r in caplog.records if r.name == "infoshare.request"]
    recorded = [getattr(r, "fields", {}) for r in lines if getattr(r, "fields", {}).get("decision_id") == decision]
    assert recorded and recorded[0]["client"] == "person-sam.patel" and recorded[0]["case_ref"] == "CASE-LOG"
    text = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', {})}" for r in caplog.records)
    assert SHARE_FACTS["information"][0]["item"] not in text and "Sam Patel" not in text and PASSWORD not in text


def test_hostile_answers_get_a_page_that_says_what_to_fix_never_a_500(app):
    sam = signed_in(app, "sam.patel")
    csrf = token(sam.get("/share"))
    sam.post("/share/new", data={"csrf_token": csrf})
    for value in ("martian", "", "child\x00", "x" * 5000):
        answer = sam.post("/share/question/subject", data={"subject": value, "csrf_token": csrf})
        assert answer.status_code == 400 and 'href="#subject"' in answer.text, value
    both = sam.post(
        "/share/question/seeking_consent_would",
        data={"seeking_consent_would": ["none", "undermine_crime_investigation"], "csrf_token": csrf},
    )
    assert both.status_code == 400 and "on its own" in both.text
    unknown = sam.post(
        "/share/question/seeking_consent_would", data={"seeking_consent_would": ["steal"], "csrf_token": csrf}
    )
    assert unknown.status_code == 400
    for name in ("no_such_fact", "consent_exception", "information", "..%2f..%2fetc"):
        assert sam.get(f"/share/question/{name}").status_code == 404, name
    for text in ("x" * 2001, "bad\x00text", "   "):
        item = sam.post(
            "/share/information",
            data={"item": text, "needed_for_purpose": "yes", "accurate_and_up_to_date": "maybe", "csrf_token": csrf},
        )
        assert (
            item.status_code == 400 and 'href="#item"' in item.text and 'href="#accurate_and_up_to_date"' in item.text
        )
    assert sam.post("/share/information/99/remove", data={"csrf_token": csrf}).status_code == 404
    sam.post("/share/question/subject", data={"subject": "child", "csrf_token": csrf})
    for case_ref in ("", "CASE 1", "CASE\n1", "x" * 201, "../../etc", "CASE-\u0430"):
        recorded = sam.post("/share/answer", data={"case_ref": case_ref, "csrf_token": csrf})
        assert recorded.status_code == 400 and 'href="#case_ref"' in recorded.text, case_ref
    assert sam.get("/cases/" + "x" * 300).status_code == 404
    assert sam.get("/decisions/99999999999999999999").status_code == 404


def test_hostile_sign_in_and_review_forms(app):
    client = app.test_client()
    csrf = token(client.get("/sign-in"))
    for login, password in (("x" * 10_000, "y"), ("sam.patel", "p" * 100_000), ("sam.patel\x00", PASSWORD)):
        assert (
            client.post("/sign-in", data={"login": login, "password": password, "csrf_token": csrf}).status_code == 400
        )
    coordinator = signed_in(app, "jo.coordinator")
    assert coordinator.get("/queue?after=not-a-cursor").status_code == 200
    decision = record_through_pages(signed_in(app, "sam.patel"), "CASE-H")
    page = coordinator.get(f"/decisions/{decision}")
    long = coordinator.post(
        f"/decisions/{decision}/review",
        data={"decision": "share", "rationale": "r" * 20_001, "reviewed_by": "Jo", "csrf_token": token(page)},
    )
    assert long.status_code == 400 and 'href="#rationale"' in long.text
    odd = coordinator.post(
        f"/decisions/{decision}/review",
        data={"decision": "refer", "rationale": "Because.", "reviewed_by": "Jo", "csrf_token": token(page)},
    )
    assert odd.status_code == 400 and 'href="#decision"' in odd.text  # a final decision must be one to act on


def test_an_answer_the_active_version_no_longer_accepts_is_asked_again(app):
    sam = signed_in(app, "sam.patel")
    with app.app_context():
        person = Person.get(Person.login == "sam.patel")
        InterviewDraft.insert(
            person=person.id, facts={"subject": "child", "purpose": "retired"}
        ).on_conflict_replace().execute()
    assert sam.get("/share/answer").headers["Location"].endswith("/share/check")
    check = sam.get("/share/check")
    assert "Answer again: For what purpose does the person need to know the information?" in check.text
    assert "/share/question/purpose?change=1" in check.text


def test_the_start_page_works_out_the_first_answers_in_the_background(tmp_path):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}", "INFOSHARE_POLICY": str(SHIPPED_POLICY)}
    )
    with app.app_context():
        people.create_person("practitioner", "Wren Warm", "wren.warm", PASSWORD)
    client = signed_in(app, "wren.warm")
    started = threading.active_count()
    assert client.get("/share").status_code == 200  # answered at once; the analysis runs beside it
    warming = [t for t in threading.enumerate() if t.name == "interview-warm-up"]
    assert warming or threading.active_count() == started  # already done on a fast machine
    for thread in warming:
        thread.join(120)
    space = space_for(app.extensions["infoshare"].engine)
    for subject in ("child", "adult"):
        assert space.known_classes({"subject": subject}) in space._cases
    client.get("/share")
    assert not [t for t in threading.enumerate() if t.name == "interview-warm-up"]  # once per version
