"""An impact report (engine.impact) as a terminal table or a page a policy owner can share."""

from __future__ import annotations

import html
from typing import Any

SHOWN_REFS = 10


def _rules(names: list[str] | None) -> str:
    if names is None:
        return "(version not stored)"
    return ", ".join(names) or "(no rule: the default)"


def render_text(report: dict[str, Any]) -> str:
    policy = report["policy"]
    lines = [
        f"Impact of {policy['id']} {policy['version']} (sha256 {policy['digest'][:12]}) on "
        f"{report['replayed']:,} recorded decisions ({report['evaluated']:,} engine evaluations, "
        f"{report['seconds']} s):",
        f"  {report['changed']:,} would change, {report['unchanged']:,} would not.",
    ]
    if report["changes"]:
        lines.append("")
        lines.append(f"  {'FROM':<22} {'TO':<22} {'COUNT':>9}")
    for change in report["changes"]:
        lines.append(f"  {change['from']:<22} {change['to']:<22} {change['count']:>9,}")
        for why in change["because"]:
            lines.append(
                f"      {why['count']:>9,}  was {_rules(why['rules_before'])}; now {_rules(why['rules_after'])}"
            )
        refs = list(dict.fromkeys(d["case_ref"] for d in change["decisions"]))
        more = f" and {len(refs) - SHOWN_REFS:,} more" if len(refs) > SHOWN_REFS else ""
        lines.append(f"      cases: {', '.join(refs[:SHOWN_REFS])}{more}")
    return "\n".join(lines)


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    policy = report["policy"]
    sections = []
    for change in report["changes"]:
        reasons = "".join(
            f"<tr><td>{why['count']:,}</td><td>{e(_rules(why['rules_before']))}</td>"
            f"<td>{e(_rules(why['rules_after']))}</td></tr>"
            for why in change["because"]
        )
        refs = ", ".join(f"{e(d['case_ref'])} (#{d['id']})" for d in change["decisions"])
        sections.append(
            f"<section><h2>{e(change['from'])} &rarr; {e(change['to'])}: {change['count']:,}</h2>"
            f"<table><tr><th>decisions</th><th>rules that decided before</th><th>rules that decide now</th></tr>"
            f"{reasons}</table><details><summary>cases</summary><p>{refs}</p></details></section>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Impact of {e(policy["id"])} {e(policy["version"])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}</style></head><body>
<h1>Impact of {e(policy["id"])} {e(policy["version"])}</h1>
<p>Policy digest <code>sha256:{e(policy["digest"])}</code>. Replayed {report["replayed"]:,} recorded decisions
({report["evaluated"]:,} engine evaluations): <strong>{report["changed"]:,} would change</strong>,
{report["unchanged"]:,} would not.</p>
{"".join(sections) or "<p>No recorded decision would change.</p>"}
</body></html>
"""
