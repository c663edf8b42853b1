"""Named hostile inputs: each gets a clear 4xx as JSON with a request id (or, where it is
harmless text, is recorded and read back unchanged), never a 5xx, a traceback or a verdict,
and nothing is recorded for a refused request. What reaches the store runs on sqlite and on
PostgreSQL (which refuses NUL in text columns)."""

from __future__ import annotations

import json

import pytest
from service_cases import SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.store.models import Decision


def service_on(url: str):
    """(client, case-system headers, coordinator headers, app) on the store at ``url``."""
    app = create_app({"DATABASE_URL": url, "INFOSHARE_POLICY": str(SHIPPED_POLICY)})
    with app.app_context():
        case_system = {"Authorization": f"Bearer {create_key('case-system', 'hostile-cms')[1]}"}
        coordinator = {"Authorization": f"Bearer {create_key('coordinator', 'hostile-co')[1]}"}
    return app.test_client(), case_system, coordinator, app


@pytest.fixture
def hostile(database_url):
    return service_on(database_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def hostile_store(request, database_url):
    """The service on each backend, for inputs that reach the store."""
    return service_on(database_url if request.param == "sqlite" else request.getfixturevalue("pg_url"))


def refused(response, status: int = 400) -> dict:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text
    body = json.loads(text)
    assert body["request_id"] == response.headers["X-Request-ID"] and body["error"]
    assert "Traceback" not in text and "decision" not in body
    return body


def recorded_count(app) -> int:
    with app.app_context():
        return Decision.select().count()


def post_raw(client, headers, raw: bytes | str, path: str = "/v1/decisions", content_type="application/json"):
    return client.post(path, data=raw, headers={**headers, "Content-Type": content_type})


def body_with(value_json: str, where: str = "secure_channel") -> str:
    """A decision request whose fact ``where`` is the raw JSON ``value_json``."""
    facts = json.dumps({k: v for k, v in SHARE_FACTS.items() if k != where})
    return f'{{"case_ref": "H-1", "facts": {{"{where}": {value_json}, {facts[1:]}}}'


BEYOND_RECURSION = 5_000  # nesting past Python's recursion limit is refused before any schema sees it


@pytest.mark.parametrize("depth", [64, 900, BEYOND_RECURSION, 100_000])
@pytest.mark.parametrize("shape", ["list", "object"])
def test_deeply_nested_json_is_a_400(hostile, depth, shape):
    client, headers, _, app = hostile
    nested = "[" * depth + "]" * depth if shape == "list" else '{"a":' * depth + "1" + "}" * depth
    body = refused(post_raw(client, headers, body_with(nested)))
    if depth >= BEYOND_RECURSION:
        assert body["messages"] == {"_body": ["The JSON is nested too deeply."]}
    else:  # parsed, then refused as what it is: not a boolean
        assert body["messages"] == {"facts": {"secure_channel": ["Not a valid boolean."]}}
    assert recorded_count(app) == 0


@pytest.mark.parametrize("number", ["1e999", "-1e999", "9" * 5_000, "1e308", "-0.0", "1.0", "0"])
def test_huge_and_odd_numbers_are_a_400_naming_the_field(hostile, number):
    client, headers, _, app = hostile
    body = refused(post_raw(client, headers, body_with(number)))
    assert body["messages"] == {"facts": {"secure_channel": ["Not a valid boolean."]}} or body["messages"] == {
        "_body": ["The body is not valid JSON."]
    }  # over Python's digit limit
    assert recorded_count(app) == 0


@pytest.mark.parametrize(
    "path",
    ["/v1/decisions/1e999", "/v1/decisions/99999999999999999999999999", "/v1/decisions/-1", "/v1/decisions/0x10"],
)
def test_huge_or_odd_ids_in_the_path_are_404(hostile, path):
    client, headers, _, _ = hostile
    refused(client.get(path, headers=headers), 404)


@pytest.mark.parametrize(
    "text", ["\u202eevil\u202c", "zero\u200bwidth\ufeff", "e\u0301\u0303", "😀🇬🇧👩‍👩‍👧", "\U0010ffff\ufffd", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]
)
def test_unicode_oddities_in_free_text_are_recorded_and_read_back_unchanged(hostile_store, text):
    client, headers, coordinator, _ = hostile_store
    facts = {**SHARE_FACTS, "information": [{**SHARE_FACTS["information"][0], "item": text}]}
    for raw in (
        json.dumps({"case_ref": "H-U", "requested_by": text, "facts": facts}),
        json.dumps({"case_ref": "H-U", "requested_by": text, "facts": facts}, ensure_ascii=False),
    ):
        made = post_raw(client, headers, raw.encode("utf-8"))
        assert made.status_code == 201, made.json
        assert made.json["requested_by"] == text and made.json["facts"]["information"][0]["item"] == text
        assert client.get(f"/v1/decisions/{made.json['id']}", headers=headers).json == made.json
    review = client.post(
        f"/v1/decisions/{made.json['id']}/review",
        json={"decision": "share", "rationale": text, "reviewed_by": "A. Khan"},
        headers=coordinator,
    )
    assert review.status_code == 201 and review.json["reviews"][0]["rationale"] == text


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"case_ref": "H-1", "requested_by": "a\\ud800b", "facts": {"subject": "child"}}', "_body"),
        (b'{"case_ref": "H-1", "requested_by": "\\udfff", "facts": {"subject": "child"}}', "_body"),
        (b'{"case_ref": "H-\xc0\xaf", "facts": {"subject": "child"}}', "_body"),  # overlong UTF-8
        ('{"case_ref": "Н-1", "facts": {"subject": "child"}}'.encode(), "case_ref"),  # a Cyrillic Н
        ('{"case_ref": "H\u200b1", "facts": {"subject": "child"}}'.encode(), "case_ref"),
        (b'{"case_ref": "H-1\\n", "facts": {"subject": "child"}}', "case_ref"),
    ],
    ids=[
        "lone-high-surrogate",
        "lone-low-surrogate",
        "overlong-utf8",
        "look-alike-letter",
        "zero-width",
        "trailing-newline",
    ],
)
def test_text_that_is_not_valid_unicode_or_not_a_case_ref_is_a_400(hostile, raw, field):
    client, headers, _, app = hostile
    body = refused(post_raw(client, headers, raw))
    assert list(body["messages"]) == [field]
    assert recorded_count(app) == 0


def test_nul_is_refused_where_it_would_be_stored_as_text_and_kept_inside_the_facts(hostile_store):
    client, headers, coordinator, app = hostile_store
    raw = json.dumps({"case_ref": "H-NUL", "requested_by": "a\x00b", "facts": SHARE_FACTS})
    assert refused(post_raw(client, headers, raw))["messages"] == {
        "requested_by": ["Text may not contain NUL characters (\\u0000)."]
    }
    refused(post_raw(client, headers, b'{"case_ref": "H-NUL", "facts": {"subject": "chi\x00ld"}}'))  # raw NUL byte
    refused(post_raw(client, headers, json.dumps({"case_ref": "H\x00", "facts": SHARE_FACTS})))
    refused(client.get("/v1/cases/H%00NUL/decisions", headers=headers))
    assert recorded_count(app) == 0

    facts = {**SHARE_FACTS, "information": [{**SHARE_FACTS["information"][0], "item": "nul\x00inside"}]}
    made = client.post("/v1/decisions", json={"case_ref": "H-NUL", "facts": facts}, headers=headers)
    assert made.status_code == 201 and made.json["facts"]["information"][0]["item"] == "nul\x00inside"
    review = client.post(
        f"/v1/decisions/{made.json['id']}/review",
        json={"decision": "share", "rationale": "ok\x00", "reviewed_by": "A. Khan"},
        headers=coordinator,
    )
    assert "NUL" in refused(review)["messages"]["rationale"][0]


def test_a_case_ref_of_ten_thousand_characters_is_a_400_in_the_body_and_in_the_path(hostile):
    client, headers, _, app = hostile
    long_ref = "C" * 10_000
    body = refused(client.post("/v1/decisions", json={"case_ref": long_ref, "facts": SHARE_FACTS}, headers=headers))
    assert list(body["messages"]) == ["case_ref"]
    body = refused(client.get(f"/v1/cases/{long_ref}/decisions", headers=headers))
    assert list(body["messages"]) == ["case_ref"] and long_ref not in json.dumps(body)
    assert recorded_count(app) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/xml",
        "application/xml",
        "multipart/form-data; boundary=x",
        "image/png",
        "application/octet-stream",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    ],
)
def test_a_body_declared_as_another_format_or_not_declared_is_a_415(hostile, content_type):
    """JSON under text/plain, curl -d's form type or no Content-Type at all is refused too: the
    body is read as JSON only when it says it is JSON."""
    client, headers, _, app = hostile
    response = post_raw(
        client, headers, json.dumps({"case_ref": "H-CT", "facts": SHARE_FACTS}), content_type=content_type
    )
    assert "application/json" in refused(response, 415)["error"]
    assert recorded_count(app) == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "application/problem+json"],
)
def test_json_under_a_json_content_type_is_read(hostile, content_type):
    client, headers, _, _ = hostile
    response = post_raw(
        client, headers, json.dumps({"case_ref": "H-CT", "facts": SHARE_FACTS}), content_type=content_type
    )
    assert response.status_code == 201 and response.json["decision"] == "share"


def test_a_byte_order_mark_before_the_json_is_read(hostile):
    client, headers, _, _ = hostile
    response = post_raw(
        client, headers, b"\xef\xbb\xbf" + json.dumps({"case_ref": "H-BOM", "facts": SHARE_FACTS}).encode()
    )
    assert response.status_code == 201 and response.json["case_ref"] == "H-BOM"


def test_a_form_instead_of_json_is_a_415(hostile):
    client, headers, _, _ = hostile
    response = post_raw(client, headers, "case_ref=H-1&facts=x", content_type="application/x-www-form-urlencoded")
    assert "application/json" in refused(response, 415)["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/decisions",
        "/v1/decisions/1",
        "/v1/decisions/1/review",
        "/v1/cases/H-1/decisions",
        "/v1/evaluate",
        "/v1/interview",
        "/v1/review-queue",
        "/v1/events",
        "/v1/policy",
        "/healthz",
    ],
)
def test_a_method_not_allowed_is_a_405_with_a_json_body(hostile, path):
    client, headers, _, _ = hostile
    for method in ("PUT", "PATCH", "DELETE", "TRACE", "PROPFIND"):
        response = client.open(path, method=method, json={"case_ref": "H-1", "facts": SHARE_FACTS}, headers=headers)
        refused(response, 405)
        assert response.headers["Allow"]


@pytest.mark.parametrize("blank", [" \u0085\u0085", "\u3000\ufeff", "\u001c\u001f", "\u00a0\n\t"])
def test_a_rationale_of_unusual_spaces_is_blank(hostile, blank):
    client, headers, coordinator, app = hostile
    made = client.post("/v1/decisions", json={"case_ref": "H-R", "facts": SHARE_FACTS}, headers=headers).json
    response = client.post(
        f"/v1/decisions/{made['id']}/review",
        json={"decision": "share", "rationale": blank, "reviewed_by": "A. Khan"},
        headers=coordinator,
    )
    assert "must not be blank" in refused(response)["messages"]["rationale"][0]
