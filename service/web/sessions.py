"""Signed-in sessions for the pages: the cookie, CSRF, who is signed in, role checks.

The session is Flask's signed cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` whenever the request came over TLS), holding only the person's
id, their account's session epoch and the CSRF secret: nothing personal.
Every page request reads the person's row again, so a disabled account or a
sign-out (which moves the epoch on) ends every copy of the cookie at once.

The signing key is ``SECRET_KEY`` if set, else the file named by
``INFOSHARE_SECRET_KEY_FILE``, else ``web-session.key`` beside an sqlite
store (``instance/`` for a server store), created on first start with mode
0600, so every worker and every restart shares it.

Every form carries a CSRF token (Flask-WTF); a page POST without a valid
one is refused with 400 before its view runs. The API's bearer-key routes
take no cookie, so they need none.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import TypeVar

from flask import Flask, Request, Response, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect

from infoshare.service.access.auth import PERMISSIONS
from infoshare.service.access.people import Principal, principal
from infoshare.service.config import instance_folder
from infoshare.service.requestlog import note
from infoshare.service.store.models import Person

SESSION_HOURS = 8
View = TypeVar("View", bound=Callable)
csrf = CSRFProtect()


class TlsAwareSessions(SecureCookieSessionInterface):
    """The cookie is ``Secure`` whenever the request came over TLS, whatever the setting says.

    A request with no cookies (every API call) gets Flask's new empty session without
    the cookie signer being built for it, and such a session left untouched is not saved:
    Flask does the same with more work (building the signer and reading six cookie settings
    cost an API request ~0.02 ms, measured)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and not request.environ.get("HTTP_COOKIE"):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _key_from_file(app)
    app.config.update(
        SESSION_COOKIE_NAME="infoshare_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        WTF_CSRF_CHECK_DEFAULT=False,  # the pages' blueprint asks for it; API routes carry no cookie
        WTF_CSRF_TIME_LIMIT=SESSION_HOURS * 3600,
    )
    app.session_interface = TlsAwareSessions()
    csrf.init_app(app)


def _key_from_file(app: Flask) -> str:
    path = (
        os.environ.get("INFOSHARE_SECRET_KEY_FILE") or instance_folder(app.config["DATABASE_URL"]) / "web-session.key"
    )
    key_file = Path(path)
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return key_file.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48))
    return key_file.read_text(encoding="ascii").strip()


def load_signed_in() -> None:
    """Before a page: who is signed in (``g.person``), acting as their API role (``g.api_key``)."""
    g.person = None
    person_id, epoch = session.get("pid"), session.get("epoch")
    if not isinstance(person_id, int) or not isinstance(epoch, int):
        return
    person = Person.get_or_none(Person.id == person_id)
    if person is None or person.disabled_at is not None or person.session_epoch != epoch:
        session.pop("pid", None)
        return
    g.person = person
    g.api_key = principal(person)
    note(key=g.api_key.name, client=g.api_key.client_name)


def protect_forms() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


def sign_in(person: Person) -> None:
    session.clear()  # a new session: nothing from before signing in carries over
    session.permanent = True
    session["pid"] = person.id
    session["epoch"] = person.session_epoch


def me() -> Principal:
    return g.api_key


def needs(permission: str) -> Callable[[View], View]:
    """The page needs a signed-in person whose role has this API permission (else sign in, or 403)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args, **kwargs):
            if g.get("person") is None:
                return redirect(url_for("web.signin.sign_in", next=request.full_path.rstrip("?")))
            if permission not in PERMISSIONS.get(g.api_key.role, ()):
                abort(403)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
