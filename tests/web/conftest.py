"""Browser tests: Debian's chromium (/usr/bin/chromium) driven by Playwright, against one server
per module (werkzeug's threaded server on 127.0.0.1, port 0) on a fresh sqlite store."""

from __future__ import annotations

import threading

import pytest
from web_people import CHROMIUM, INSURER_FACTS, PASSWORD, PEOPLE, SHARE_FACTS, Site
from werkzeug.serving import make_server

from infoshare.engine.analysis.interview import interview
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service import create_app
from infoshare.service.access.keys import create_key
from infoshare.service.access.people import create_person


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'store.sqlite3'}",
            "INFOSHARE_POLICY": str(SHIPPED_POLICY),
            "INFOSHARE_CANDIDATES": str(folder / "candidates-root"),
            "SECRET_KEY": "browser-tests",
            "INFOSHARE_POLICY_POLL_SECONDS": 0.0,
            "INFOSHARE_WARM_INTERVIEW": False,  # the one subject the tests answer is worked out below
        }
    )
    with app.app_context():
        for login, (role, name) in PEOPLE.items():
            create_person(role, name, login, PASSWORD)
        _, key = create_key("case-system", "school-system")
    older = app.test_client().post(  # an older decision the queue must put after the practitioner's
        "/v1/decisions",
        json={"case_ref": "CASE-0001", "facts": SHARE_FACTS},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert older.status_code == 201 and older.json["decision"] == "share"
    insurer = app.test_client().post(  # a decision the policy owner's candidate version would change
        "/v1/decisions",
        json={"case_ref": "CASE-INS-1", "facts": INSURER_FACTS},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert insurer.status_code == 201 and insurer.json["decision"] == "share"
    interview(app.extensions["infoshare"].engine, {"subject": "child"})  # the reduced space, worked out once
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(app, f"http://127.0.0.1:{server.server_port}", folder)
    server.shutdown()
    thread.join(5)


@pytest.fixture(autouse=True)
def _fail_fast(request):
    """A missing element fails in seconds, not Playwright's default 30 (a loaded machine needs some)."""
    if "page" in request.fixturenames:
        request.getfixturevalue("page").set_default_timeout(10_000)
