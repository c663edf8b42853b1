"""Each feature quotes the protocol statements it checks, word for word, and its scenarios are tagged with them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from behave.parser import parse_file

from infoshare.engine.analysis.scenarios import CLAUSE_TAG

FEATURES = sorted((Path(__file__).resolve().parent.parent / "features").glob("*.feature"))
QUOTE = re.compile(r'"([^"]+)"')


def quoted_statements(feature) -> list[str]:
    return QUOTE.findall(" ".join(" ".join(feature.description).split()))


@pytest.mark.parametrize("file", FEATURES, ids=[f.name for f in FEATURES])
def test_a_feature_quotes_whole_statements_and_tests_them(file, shipped_policy):
    feature = parse_file(str(file))
    by_text = {c.text: c.id for c in shipped_policy.clauses}
    quotes = quoted_statements(feature)
    assert quotes, "the feature quotes no statement of the protocol"
    not_verbatim = [q for q in quotes if q not in by_text]
    assert not_verbatim == [], "quoted, but not a statement of the protocol word for word"
    tagged = {
        t[len(CLAUSE_TAG) :] for s in feature.walk_scenarios() for t in s.effective_tags if t.startswith(CLAUSE_TAG)
    }
    assert {by_text[q] for q in quotes} <= tagged, "a quoted statement no scenario of the feature is tagged with"


def test_every_normative_statement_is_quoted_by_a_feature(shipped_policy):
    quoted = {q for file in FEATURES for q in quoted_statements(parse_file(str(file)))}
    assert [c.id for c in shipped_policy.clauses if c.normative and c.text not in quoted] == []
