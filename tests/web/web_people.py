"""What the web tests share (imported by name: tests/web is on sys.path)."""

from __future__ import annotations

from pathlib import Path

from shared_cases import SHARE_FACTS

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
PEOPLE = {
    "sam.patel": ("practitioner", "Sam Patel"),
    "kim.lee": ("practitioner", "Kim Lee"),
    "jo.coordinator": ("coordinator", "Jo Adeyemi"),
    "pat.owner": ("policy-owner", "Pat Owner"),
}

INSURER_FACTS = {
    **SHARE_FACTS,
    "subject": "adult",
    "purpose": "insurance",
    "recipient": "insurer",
    "information": [{"item": "Claim history", "needed_for_purpose": True, "accurate_and_up_to_date": True}],
}


class Site:
    def __init__(self, app, url: str, folder: Path) -> None:
        self.app, self.url, self.folder = app, url, folder

    def at(self, path: str) -> str:
        return self.url + path


def sign_in(page, site: Site, login: str) -> None:
    page.goto(site.at("/sign-in"))
    page.get_by_label("Sign-in name").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=Sign out")
