"""The impact report's words: one decision is "1 recorded decision", decisions are in words."""

from __future__ import annotations

from infoshare.engine.analysis.impactreport import render_html, render_text

REPORT = {
    "policy": {"id": "information-sharing", "version": "1.1.0", "digest": "b" * 64},
    "recorded_under": [{"digest": "a" * 64, "version": "1.0.0", "decisions": 1}],
    "replayed": 1,
    "changed": 1,
    "unchanged": 0,
    "evaluated": 2,
    "seconds": 0.01,
    "changes": [
        {
            "from": "share_without_consent",
            "to": "do_not_share",
            "count": 1,
            "because": [{"rules_before": ["welfare-overrides"], "rules_after": ["consent-refused"], "count": 1}],
            "decisions": [{"id": 7, "case_ref": "CASE-7"}],
        }
    ],
}


def test_one_decision_is_singular_and_both_versions_are_named():
    text = render_text(REPORT)
    assert "on 1 recorded decision, recorded under 1.0.0 (sha256 aaaaaaaaaaaa, 1 decision)" in text
    assert "information-sharing 1.1.0 (sha256 bbbbbbbbbbbb), as edited" in text
    assert "Share without consent -> Do not share: 1 decision" in text and "share_without_consent" not in text
    assert "cases: CASE-7" in text


def test_the_page_shows_the_case_refs_and_words():
    page = render_html(REPORT)
    assert "Share without consent &rarr; Do not share" in page and "CASE-7" in page and "<details>" not in page
