"""The traceability report as one web page a policy owner can open or send: no scripts, no external files.

The protocol reads down the left, statement by statement; beside each are
the rules that implement it and the scenarios that exercise it. Every piece
of text from the policy or the features is escaped.
"""

from __future__ import annotations

from collections import Counter
from html import escape

from infoshare.engine.analysis.coverage import ClauseCoverage, Coverage, summary
from infoshare.engine.analysis.scenarios import ScenarioResult

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 78rem; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.summary { white-space: pre-wrap; background: #f4f4f6; padding: .75rem 1rem; border-radius: 6px; }
.problems { border-left: 4px solid #b00020; background: #fdecee; padding: .5rem 1rem; }
.problems li { font-family: ui-monospace, monospace; font-size: 13px; }
.row { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; border-top: 1px solid #ddd; padding: 1rem 0; }
.statement blockquote { margin: .25rem 0 0; font-size: 1.05rem; }
.id { font-family: ui-monospace, monospace; font-size: 13px; color: #555; }
.tag { display: inline-block; font-size: 12px; padding: 0 .4rem; border-radius: 4px; margin-left: .4rem; }
.normative { background: #e3f0ff; } .informative { background: #eee; }
.missing { color: #b00020; font-weight: 600; }
.trace ul { margin: .2rem 0 .6rem; padding-left: 1.1rem; } .trace h3 { font-size: .9rem; margin: 0; }
.failed { color: #b00020; } .where { color: #666; font-size: 12px; font-family: ui-monospace, monospace; }
"""


def render_html(report: Coverage) -> str:
    policy = report.policy
    problems = "".join(f"<li>{escape(str(p))}</li>" for p in report.problems)
    fired = Counter(rule for s in report.scenarios for rule in s.rules_fired)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>Protocol coverage: {escape(policy.protocol_title or policy.title)}</title>",
            f"<style>{STYLE}</style></head><body>",
            f"<h1>{escape(policy.protocol_title or policy.title)}: rules and scenarios</h1>",
            f'<p class="summary">{escape(chr(10).join(summary(report)))}</p>',
            (
                f'<div class="problems"><h2>Problems</h2><ul>{problems}</ul></div>'
                if problems
                else "<p>No problems: every normative statement has rules and scenarios, and every rule is fired.</p>"
            ),
            *(_row(entry, fired) for entry in report.clauses),
            "</body></html>",
        ]
    )


def _row(entry: ClauseCoverage, fired: Counter[str]) -> str:
    clause = entry.clause
    kind = "normative" if clause.normative else "informative"
    left = (
        f'<div class="statement"><span class="id">{escape(clause.id)}</span>'
        f'<span class="tag {kind}">{kind}</span><blockquote>{escape(clause.text)}</blockquote></div>'
    )
    if clause.normative:
        parts = [
            _list(
                "Rules",
                [
                    f'{escape(r.id)} <span class="where">{escape(r.file)}:{r.line}, fired by '
                    f"{fired[r.id]} scenarios</span><br>{escape(r.because)}"
                    for r in entry.rules
                ],
            ),
            _list("Scenarios", [_scenario(s) for s in entry.scenarios]),
        ]
    else:
        parts = [f"<p><em>Informative:</em> {escape(clause.informative_because or '')}</p>"]
        if entry.scenarios:
            parts.append(_list("Scenarios", [_scenario(s) for s in entry.scenarios]))
    return f'<div class="row" id="{escape(clause.id)}">{left}<div class="trace">{"".join(parts)}</div></div>'


def _list(title: str, items: list[str]) -> str:
    if not items:
        return f'<h3>{title}</h3><p class="missing">none</p>'
    return f"<h3>{title} ({len(items)})</h3><ul>{''.join(f'<li>{i}</li>' for i in items)}</ul>"


def _scenario(s: ScenarioResult) -> str:
    status = "" if s.passed else f' <span class="failed">fails: {escape(s.failure)}</span>'
    return f'{escape(s.name)} <span class="where">{escape(s.location)}</span>{status}'
