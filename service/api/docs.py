"""``GET /docs``: the interactive API documentation (Swagger UI) over ``/openapi.json``.

Swagger UI's files come from the ``swagger-ui-bundle`` package installed with
the project, never from a CDN, so the page works on a network with no way
out. The page and its start-up script are the project's own (no inline
script), so a strict Content-Security-Policy holds: scripts and styles from
this origin only, images also as data: URIs (its icons), no framing. No
'unsafe-inline' for styles: Swagger UI's stylesheet is a file, and the styles
it gives elements are set through the DOM (React's `style`), which style-src
does not govern; tests/web/test_browser.py opens every part of the page and
fails on any violation.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory
from flask.typing import ResponseReturnValue
from swagger_ui_bundle import swagger_ui_path

HERE = Path(__file__).parent / "docs_assets"
SWAGGER_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

bp = Blueprint("docs", __name__)


@bp.after_request
def content_security_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/docs")
def page() -> ResponseReturnValue:
    return send_from_directory(HERE, "index.html", max_age=0)


@bp.get("/docs/start.js")
def start() -> ResponseReturnValue:
    return send_from_directory(HERE, "start.js", max_age=0)


@bp.get("/docs/swagger-ui/<name>")
def swagger_file(name: str) -> ResponseReturnValue:
    """Only the files the page uses; the rest of the package (source maps, other bundles) is not served."""
    if name not in SWAGGER_FILES:
        abort(404)
    return send_from_directory(swagger_ui_path, name, max_age=3600)
