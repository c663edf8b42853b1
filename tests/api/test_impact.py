"""`infoshare impact` on a store filled with generated decisions, recorded through the service."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from infoshare.engine import Engine, load_policy
from infoshare.engine.analysis.exhaustive import domain
from infoshare.engine.policy.loader import SHIPPED_POLICY
from infoshare.service.cli.main import main
from infoshare.service.store.models import Decision

RECORDED = 900
REFUSED_RULE = """      consent: refused
      consent_exception: no
      welfare_override: no
    then:
      decision: do_not_share
"""


def generated_facts(policy, rng: random.Random) -> dict:
    """Case facts as case systems send them: each fact usually given, any of its values, else not given."""
    facts = {}
    for fact in policy.case_facts:
        given = [v for v in domain(fact) if v is not None]
        value = rng.choice(given) if fact.type != "items" and (fact.required or rng.random() < 0.85) else None
        if fact.type == "choices" and value is not None and rng.random() < 0.6:
            value = []  # most cases claim no exception
        if value is not None:
            facts[fact.name] = value
    return facts


@pytest.fixture
def store(app, client, as_role) -> list[dict]:
    """RECORDED decisions under the shipped policy, 300 fact sets asked about three times each
    (with different pieces of information); the 201 bodies."""
    policy = app.extensions["infoshare"].policy
    rng = random.Random(6)
    asked = [generated_facts(policy, rng) for _ in range(RECORDED // 3)]
    made = []
    for n in range(RECORDED):
        facts = {
            **asked[n % len(asked)],
            "information": [{"item": f"note {n}", "needed_for_purpose": True, "accurate_and_up_to_date": n % 2 == 0}],
        }
        response = client.post(
            "/v1/decisions", headers=as_role("case-system"), json={"case_ref": f"GEN-{n % 700}", "facts": facts}
        )
        assert response.status_code == 201, response.json
        made.append(response.json)
    return made


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    """The known edit: consent refused with no exception or duty is referred, not refused."""
    folder = tmp_path / "edited"
    shutil.copytree(SHIPPED_POLICY, folder)
    rules = folder / "rules" / "3-consent.yaml"
    rules.write_text(rules.read_text().replace(REFUSED_RULE, REFUSED_RULE.replace("do_not_share", "refer")))
    return folder


@pytest.fixture
def impact(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    return lambda *args: CliRunner().invoke(main, ["impact", *map(str, args)])


def test_impact_finds_exactly_the_changes_the_edit_causes_as_text_json_and_html(store, edited, impact, app):
    result = impact(edited, "--json")
    assert result.exit_code == 1, result.output  # the edit breaks one of the policy's own tests
    assert "warning: this policy fails" in result.stderr
    assert "tests/cases.yaml:" in result.stderr and "a reload would refuse it" in result.stderr
    report = json.loads(result.stdout)
    engine = Engine(load_policy(edited))  # the oracle: every decision replayed on its own
    expected = {}
    for made in store:
        new = engine.evaluate(made["facts"]).decision
        if new != made["decision"]:
            expected[made["id"]] = (made["decision"], new, made["case_ref"])
    assert expected, "the generated store must contain decisions the edit changes"
    found = {d["id"]: (c["from"], c["to"], d["case_ref"]) for c in report["changes"] for d in c["decisions"]}
    assert found == expected
    assert report["replayed"] == RECORDED and report["changed"] == len(expected)
    assert report["evaluated"] < RECORDED
    for change in report["changes"]:
        assert change["from"] == "do_not_share"
        assert sum(why["count"] for why in change["because"]) == change["count"]
        assert all(why["rules_before"] == ["consent-refused"] for why in change["because"])
    refer = next(c for c in report["changes"] if c["to"] == "refer")
    assert all("consent-refused" in why["rules_after"] for why in refer["because"])

    assert [(u["version"], u["decisions"]) for u in report["recorded_under"]] == [("2.0.0", RECORDED)]
    page = edited.parent / "impact.html"
    result = impact(edited, "--html", page)
    assert f"as edited, on {RECORDED:,} recorded decisions, recorded under 2.0.0 (sha256 " in result.stdout
    assert f"Do not share -> Refer: {refer['count']:,} decisions" in result.stdout and "cases: GEN-" in result.stdout
    assert "do_not_share" not in result.stdout
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "Do not share &rarr; Refer" in text
    assert "<details>" not in text and all(d["case_ref"] in text for d in refer["decisions"][:50])
    later = impact(edited, "--since", "2999-01-01", "--json")
    assert json.loads(later.stdout)["replayed"] == 0
    shipped = impact(SHIPPED_POLICY, "--json")
    unchanged = json.loads(shipped.stdout)
    assert shipped.exit_code == 0 and "warning" not in shipped.stderr
    assert unchanged["changed"] == 0 and unchanged["replayed"] == RECORDED
    with app.app_context():
        assert Decision.select().count() == RECORDED
