"""The web pages for the people the protocol names: practitioner, co-ordinator, policy owner.

Server-rendered Jinja pages that work without JavaScript, in the GOV.UK
Design System's patterns (one question per page, check your answers, an
error summary linking to its fields, plain words). A page acts as its
signed-in person's API role through the API's own functions, so it reaches
no data that role could not reach by the API, and what it records is in
the decision log exactly as the API records it.

It may import the API, access, the store and the engine; the API never
imports it.
"""

from __future__ import annotations

from flask import Flask

from infoshare.service.web import headers, pages, sessions


def init_app(app: Flask) -> None:
    """Sessions and CSRF for the pages, security headers on every response, the pages."""
    sessions.init_app(app)
    headers.init_app(app)
    app.register_blueprint(pages.blueprint())
