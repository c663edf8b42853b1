"""The pages in a real browser (Debian's chromium through Playwright), as each person uses them.

One server for the module; the flows run in order and build on each other
(the practitioner's decision is the one the co-ordinator reviews). Every
page a flow visits is checked by axe-core for WCAG 2.2 A and AA violations.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from web_people import CHROMIUM, sign_in

from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service.store import logaudit
from infoshare.service.store.models import Decision, LogLink, PolicyActivation

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does it)"
)
AXE = Axe()
AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
checked_pages: set[str] = set()


def accessible(page: Page) -> None:
    """axe-core finds no WCAG 2.2 A or AA violation on the page as it is now, styled: its stylesheet
    loaded (a heading can show before it, and unstyled links are smaller than the 24 px targets)."""
    page.wait_for_load_state("load")
    violations = AXE.run(page, options=AA).response["violations"]
    checked_pages.add(re.sub(r"\d+", "N", page.url.split("?")[0]))
    assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]


def answer(page: Page, fact: str, value: str) -> None:
    page.locator(f'input[name="{fact}"][value="{value}"]').check()
    page.get_by_role("button", name="Continue").click()


@pytest.fixture(scope="module")
def recorded(site):
    return {}


def test_practitioner_is_interviewed_and_records_a_decision(page: Page, site, recorded):
    sign_in(page, site, "sam.patel")
    accessible(page)
    page.get_by_role("link", name="May I share this?").first.click()
    accessible(page)
    page.get_by_role("button", name="Start now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Is the information about a child or an adult?")
    accessible(page)
    page.get_by_role("button", name="Continue").click()  # nothing chosen: the error summary links to the field
    expect(page.get_by_role("alert")).to_contain_text("Select one answer")
    accessible(page)
    page.get_by_role("alert").get_by_role("link").click()
    expect(page.locator("#subject")).to_be_focused()
    page.get_by_label("A child (under 18)").check()  # the vocabulary's words for the answer
    page.get_by_role("button", name="Continue").click()
    asked = []
    while "/share/question/" in page.url:
        asked.append(page.url.split("#")[0].rsplit("/", 1)[1])
        accessible(page)
        heading = page.get_by_role("heading", level=1).inner_text()
        choice = {
            "harm_concern": "yes",
            "consent": "refused",
            "seeking_consent_would": "none",
            "purpose": "child_protection_enquiry",
            "recipient": "childrens_social_care",
            "recipient_needs_to_know": "yes",
            "crime_suspected": "no",
            "serious_crime": "no",
            "secure_channel": "yes",
        }[asked[-1]]
        assert heading, asked
        try:
            answer(page, asked[-1], choice)
        except Exception as exc:
            raise AssertionError(f"{asked}: {heading}") from exc
        assert len(asked) < 12, asked
    assert "subject" not in asked and len(asked) == len(set(asked))
    expect(page.get_by_role("heading", level=1)).to_have_text("What information would be shared?")
    page.get_by_role("link", name="Back").click()  # back to the question answered last, its answer kept
    assert page.url.endswith(f"/share/question/{asked[-1]}")
    expect(page.locator("input:checked")).to_have_count(1)
    page.get_by_role("link", name="Back").click()
    assert page.url.endswith(f"/share/question/{asked[-2]}")
    page.go_forward()
    page.get_by_role("button", name="Continue").click()
    accessible(page)
    page.get_by_label("What is the piece of information?").fill("Bruising seen on both arms on Monday")
    page.locator("#needed_for_purpose").check()
    page.locator("#accurate_and_up_to_date").check()
    page.get_by_role("button", name="Add this piece").click()
    page.get_by_label("What is the piece of information?").fill("Sibling's school report")
    page.locator("#needed_for_purpose-no").check()
    page.locator("#accurate_and_up_to_date").check()
    page.get_by_role("button", name="Add this piece").click()
    expect(page.get_by_text("You have entered 2 pieces")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    accessible(page)
    page.get_by_role("link", name="See the answer").click()
    accessible(page)
    panel = page.locator(".panel__title")
    expect(panel).to_have_text("You may share this information without consent")
    expect(page.get_by_role("row", name=re.compile("Bruising seen"))).to_contain_text("Share")
    expect(page.get_by_role("row", name=re.compile("school report"))).to_contain_text("Withhold")
    expect(page.get_by_text("Confidentiality cannot be promised to the person.")).to_be_visible()
    expect(page.locator("blockquote").first).to_be_visible()
    page.get_by_role("button", name="Record in the case file").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the case reference")
    accessible(page)
    page.get_by_label("Case reference").fill("CASE-0142")
    page.get_by_role("button", name="Record in the case file").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded in the case file")
    accessible(page)
    recorded["id"] = int(re.search(r"/decisions/(\d+)", page.url).group(1))
    if os.environ.get("README_SHOTS"):
        page.screenshot(path=os.environ["README_SHOTS"] + "/verdict.png", full_page=True)
    page.get_by_role("link", name="Print view of this decision").click()
    expect(page.locator(".panel__title")).to_have_text("You may share this information without consent")
    accessible(page)
    page.goto(site.at("/decisions"))
    expect(page.get_by_role("row", name=re.compile("CASE-0142"))).to_be_visible()
    accessible(page)


def test_the_recorded_decision_is_in_the_log_as_the_api_records_it(page: Page, site, recorded):
    """Recorded in the practitioner's name, chained in the log, with the verdict the engine gives its facts."""
    with site.app.app_context():
        row = Decision.get_by_id(recorded["id"])
        assert row.client == "person-sam.patel" and row.requested_by == "Sam Patel"
        assert LogLink.get((LogLink.kind == "decision") & (LogLink.record_id == row.id))
        assert row.policy_digest == site.app.extensions["infoshare"].policy.digest
        assert row.verdict == site.app.extensions["infoshare"].engine.evaluate_valid(row.facts).to_dict()
        assert logaudit.verify_store().ok


def test_coordinator_finds_it_first_in_the_queue_and_reviews_it(page: Page, site, recorded):
    sign_in(page, site, "jo.coordinator")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    accessible(page)
    first = page.get_by_role("row").nth(1)  # the practitioner's, before the case system's older "share"
    expect(first).to_contain_text(f"Decision {recorded['id']}")
    expect(first).to_contain_text("Sam Patel")
    expect(page.get_by_role("row").nth(2)).to_contain_text("school-system")
    if os.environ.get("README_SHOTS"):
        page.screenshot(path=os.environ["README_SHOTS"] + "/queue.png", full_page=True)
    first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="The rules, as written in the version that decided")).to_be_visible()
    accessible(page)
    page.get_by_role("button", name="Record the final decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Select the final decision")
    accessible(page)
    page.get_by_label("You may share this information without consent").check()
    page.get_by_label("Rationale").fill("Bruising reported by two staff; the child's welfare overrides the refusal.")
    page.get_by_role("button", name="Record the final decision").click()
    expect(page.get_by_role("status")).to_contain_text("Your review is recorded")
    expect(page.locator(".review")).to_contain_text("by Jo Adeyemi")
    page.get_by_role("link", name="CASE-0142").click()
    expect(page.locator(".timeline__event")).to_have_count(2)
    accessible(page)
    page.get_by_role("link", name="Decision log").click()
    expect(page.get_by_role("heading", name="The log is intact")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("row", name=re.compile(f"Decision {recorded['id']}\\b"))).to_have_count(0)


def test_practitioner_cannot_open_the_coordinators_pages_or_anothers_decision(page: Page, site, recorded):
    sign_in(page, site, "kim.lee")
    for path in ("/queue", "/log", "/policy", "/policy/candidate"):
        response = page.goto(site.at(path))
        assert response.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("You cannot see this page")
    accessible(page)
    response = page.goto(site.at(f"/decisions/{recorded['id']}"))
    assert response.status == 404
    expect(page.get_by_text("Bruising")).to_have_count(0)
    accessible(page)
    assert page.goto(site.at("/cases/CASE-0142")).status == 404
    assert page.goto(site.at(f"/decisions/{recorded['id']}/print")).status == 404


def test_a_form_sent_without_its_csrf_token_is_refused(page: Page, site):
    sign_in(page, site, "kim.lee")
    refused = page.request.post(site.at("/share/new"), form={})
    assert refused.status == 400
    forged = page.request.post(site.at("/share/new"), form={"csrf_token": "forged"})
    assert forged.status == 400
    page.goto(site.at("/share"))
    page.get_by_role("button", name="Start now").click()
    assert "/share/question/subject" in page.url


def test_keyboard_only_interview(page: Page, site):
    sign_in(page, site, "kim.lee")
    page.goto(site.at("/share"))
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    start = page.get_by_role("button", name="Start now")
    for _ in range(20):
        page.keyboard.press("Tab")
        if start.evaluate("e => e === document.activeElement"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Is the information about a child or an adult?")
    for _ in range(12):
        if "/share/question/" not in page.url:
            break
        first = page.locator("input.radios__input, input.checkboxes__input").first
        for _ in range(30):
            page.keyboard.press("Tab")
            if first.evaluate("e => e === document.activeElement"):
                break
        page.keyboard.press("Space")
        expect(first).to_be_checked()
        page.keyboard.press("Enter")  # submits the form from the focused control
        page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("information would be shared|Check your answers")
    )


INSURERS_REFERRED = """rules:
  - id: insurers-are-referred
    implements: [consent-general-principle]
    when:
      recipient: insurer
      consent: given
    then:
      decision: refer
    because: Sharing with an insurer is for the Safeguarding Co-ordinator to decide under this version.
"""


def _candidate(site) -> str:
    """A copy of the shipped policy, version 2.1.0, where sharing with an insurer is referred."""
    target = site.folder / "candidates-root" / "insurers-referred"
    shutil.copytree(SHIPPED_POLICY, target)
    (target / "rules" / "9-insurers.yaml").write_text(INSURERS_REFERRED)
    policy_file = target / "policy.yaml"
    policy_file.write_text(re.sub(r"(?m)^version: .*$", "version: 2.1.0", policy_file.read_text()))
    # As a policy owner would, the version's own example of sharing with an insurer changes with the rule.
    cases = target / "tests" / "cases.yaml"
    edited, count = re.subn(
        r"(- name: with consent, an insurer who needs to know is )shared with(\n(?:.*\n)*?\s+decision: )share\n",
        r"\1referred\2refer\n",
        cases.read_text(),
        count=1,
    )
    assert count == 1, "the shipped examples no longer hold the insurer example this candidate changes"
    cases.write_text(edited)
    return target.name


def _broken_archive() -> bytes:
    """The shipped policy as a .zip, with a value misspelt in one rule."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in SHIPPED_POLICY.rglob("*"):
            if path.is_file():
                text = path.read_bytes()
                if path.name == "3-consent.yaml":
                    text = text.replace(b"consent: given", b"consent: givn", 1)
                archive.writestr(f"draft/{path.relative_to(SHIPPED_POLICY)}", text)
    return out.getvalue()


def test_policy_owner_sees_the_impact_of_a_candidate_and_activates_it(page: Page, site):
    folder = _candidate(site)
    sign_in(page, site, "pat.owner")
    accessible(page)
    page.get_by_role("link", name="Protocol and rules").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("rules and scenarios")
    expect(page.get_by_text("No problems")).to_be_visible()
    accessible(page)
    page.get_by_role("link", name="Try a case").first.click()
    accessible(page)
    page.get_by_role("group", name="Is the information about a child or an adult?").get_by_label("An adult").check()
    page.get_by_role("button", name="See what the policy decides").click()
    expect(page.locator(".panel__title")).to_have_text("Not enough is known yet")
    accessible(page)

    page.get_by_role("link", name="Check a new version").click()
    accessible(page)
    page.get_by_role("button", name="Check this version").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the folder")
    accessible(page)
    page.get_by_label("A folder on the server").fill("../../")
    page.get_by_role("button", name="Check this version").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a folder inside")

    page.get_by_label("A folder on the server").fill("")
    page.get_by_label("Upload the policy folder as an archive").set_input_files(
        files=[{"name": "draft.zip", "mimeType": "application/zip", "buffer": _broken_archive()}]
    )
    page.get_by_role("button", name="Check this version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This version has 1 problem")
    expect(page.locator(".problems")).to_contain_text("rules/3-consent.yaml:")
    expect(page.locator(".problems")).to_contain_text("did you mean `given`?")
    expect(page.get_by_role("button", name=re.compile("Activate"))).to_have_count(0)
    accessible(page)

    page.goto(site.at("/policy/candidate"))
    page.get_by_label("A folder on the server").fill(folder)
    page.get_by_role("button", name="Check this version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Impact of version 2.1.0 on recorded decisions")
    expect(page.get_by_text("The checker found no problem")).to_be_visible()
    change = page.locator(".change")
    expect(change).to_have_count(1)
    expect(change.get_by_role("heading")).to_have_text(
        "1 from \u201cYou may share this information\u201d to \u201cAsk the Safeguarding Co-ordinator\u201d"
    )
    expect(change).to_contain_text("insurers-are-referred")
    expect(change).to_contain_text("CASE-INS-1")
    accessible(page)
    page.get_by_role("button", name="Activate version 2.1.0").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Version 2.1.0 is active")
    accessible(page)
    assert site.app.extensions["infoshare"].policy.version == "2.1.0"
    with site.app.app_context():
        latest = PolicyActivation.select().order_by(PolicyActivation.id.desc()).first()
        assert latest.activated_by == "web page by person-pat.owner"


def test_interactive_api_docs_load(page: Page, site):
    """/docs (Swagger UI, served from the installed package) renders the operations, and every part
    opened (each operation, "Try it out", a request sent and its answer, the Authorize dialog) works
    under its CSP, which allows no inline style: not one violation is reported."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.add_init_script(
        "window.violations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective));"
    )
    response = page.goto(site.at("/docs"))
    assert response.status == 200
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.get_by_text("/v1/decisions").first).to_be_visible()
    summaries = page.locator(".swagger-ui .opblock-summary")
    for index in range(summaries.count()):
        summaries.nth(index).click()
    policy = page.locator(".swagger-ui .opblock").filter(has_text="/v1/policy").first
    policy.locator(".try-out__btn").click()
    policy.locator(".execute").click()
    expect(policy.locator(".responses-wrapper .live-responses-table")).to_be_visible()
    page.locator(".swagger-ui .btn.authorize").first.click()
    expect(page.get_by_text("Available authorizations")).to_be_visible()
    assert page.evaluate("window.violations") == []
    assert not [p for p in problems if "Content Security Policy" in p], problems


def test_every_kind_of_page_was_checked_by_axe(page: Page):
    assert len(checked_pages) >= 15, sorted(checked_pages)
