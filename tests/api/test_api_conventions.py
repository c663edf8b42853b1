"""What a client generator and a browser expect of the API: problem documents, operation ids
and tags, a version that follows the policy, a strict Content-Type and a local /docs page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from service_cases import SHARE_FACTS

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key


def test_every_error_is_an_rfc_9457_problem_keeping_messages_and_request_id(client, as_role):
    bad = client.post("/v1/evaluate", json={"facts": {"subject": "cat"}}, headers=as_role("case-system"))
    missing = client.get("/v1/nowhere")
    unauthorised = client.get("/v1/policy")
    for response, status in ((bad, 400), (missing, 404), (unauthorised, 401)):
        assert response.status_code == status
        assert response.mimetype == "application/problem+json"
        body = response.json
        assert body["type"] == "about:blank" and body["status"] == status and body["title"]
        assert body["detail"] and body["request_id"] == response.headers["X-Request-ID"]
        assert isinstance(body["messages"], dict)
    assert bad.json["title"] == "Bad Request" and "subject" in bad.json["messages"]["facts"]


def test_a_json_body_sent_as_text_plain_is_a_415_not_read_as_json(client, as_role):
    response = client.post(
        "/v1/evaluate",
        data='{"facts": {"subject": "child"}}',
        headers={**as_role("case-system"), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415 and "application/json" in response.json["detail"]


def test_every_operation_has_a_unique_operation_id_and_a_tag_and_errors_are_problem_json(client):
    spec = client.get("/openapi.json").json
    operations = [op for path in spec["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) == len(operations)
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", i) for i in ids), ids
    assert spec["paths"]["/v1/decisions"]["post"]["operationId"] == "recordDecision"
    declared = {tag["name"] for tag in spec["tags"]}
    assert all(op["tags"] and set(op["tags"]) <= declared for op in operations)
    assert "default" not in declared
    for op in operations:
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (op["operationId"], status)


def test_the_documents_version_is_the_policys_and_changes_with_it(tmp_path: Path):
    folder = tmp_path / "policy"
    shutil.copytree(SHIPPED_POLICY, folder)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", "INFOSHARE_POLICY": str(folder)})
    client = app.test_client()
    policy = app.extensions["infoshare"].policy
    before = client.get("/openapi.json").json["info"]["version"]
    assert before == f"{policy.version}+sha256.{policy.digest[:12]}"
    text = (folder / "policy.yaml").read_text()
    (folder / "policy.yaml").write_text(text.replace("version: 2.0.0", "version: 2.1.0"))
    (folder / "facts.yaml").write_text((folder / "facts.yaml").read_text() + "\n# a comment\n")
    with app.app_context():
        owner = create_key("policy-owner", "owner")[1]
    assert client.post("/v1/policy/reload", headers={"Authorization": f"Bearer {owner}"}).status_code == 200
    after = client.get("/openapi.json").json["info"]["version"]
    assert after.startswith("2.1.0+sha256.") and after != before


def test_docs_is_an_interactive_page_served_from_installed_files_with_a_strict_csp(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "//" not in re.sub(r"<!doctype[^>]*>", "", html, flags=re.I).replace("://", "")  # no other origin
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/docs/swagger-ui/swagger-ui-bundle.js", "/docs/swagger-ui/swagger-ui.css", "/docs/start.js"} <= set(assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200 and len(response.data) > 100, asset
    assert b"SwaggerUIBundle" in client.get("/docs/swagger-ui/swagger-ui-bundle.js").data
    assert b"/openapi.json" in client.get("/docs/start.js").data
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "style-src 'self';" in csp and "unsafe-inline" not in csp  # no inline style may be injected
    assert "<script>" not in html  # no inline script, so script-src 'self' holds
    assert client.get("/docs/swagger-ui/swagger-ui.js.map").status_code == 404
    assert client.get("/docs/swagger-ui/..%2f..%2fpyproject.toml").status_code == 404


def test_a_decision_with_the_readme_curl_headers_is_still_recorded(client, as_role):
    response = client.post(
        "/v1/decisions",
        json={"case_ref": "C-1", "facts": SHARE_FACTS},
        headers={**as_role("case-system"), "Content-Type": "application/json"},
    )
    assert response.status_code == 201
