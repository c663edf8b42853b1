"""An impact report (engine.impact) as a terminal table or a page a policy owner can share.

Decisions are shown in words ("Share without consent"), with their value in
the JSON; the title names the edited version and every version the replayed
decisions were recorded under, since the two differ by definition.
"""

from __future__ import annotations

import html
from typing import Any

SHOWN_REFS = 10
SHOWN_REFS_ON_PAGE = 200


def words(value: str) -> str:
    """A decision value in words: `share_without_consent` -> `Share without consent`."""
    return str(value).replace("_", " ").capitalize()


def count(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def _rules(names: list[str] | None) -> str:
    if names is None:
        return "(that version is not in the store)"
    return ", ".join(names) or "(no rule: the policy's default)"


def _versions(report: dict[str, Any]) -> str:
    under = report.get("recorded_under") or []
    if not under:
        return "no version (nothing recorded)"
    return ", ".join(
        f"{u['version'] or 'a version not in the store'} (sha256 {u['digest'][:12]}, {count(u['decisions'], 'decision')})"
        for u in under
    )


def _refs(change: dict[str, Any], limit: int) -> tuple[list[str], int]:
    refs = list(dict.fromkeys(d["case_ref"] for d in change["decisions"]))
    return refs[:limit], max(len(refs) - limit, 0)


def render_text(report: dict[str, Any]) -> str:
    policy = report["policy"]
    lines = [
        f"Impact of {policy['id']} {policy['version']} (sha256 {policy['digest'][:12]}), as edited, on "
        f"{count(report['replayed'], 'recorded decision')}, recorded under {_versions(report)}",
        f"  ({report['evaluated']:,} engine evaluations, {report['seconds']} s)",
        f"  {report['changed']:,} would change, {report['unchanged']:,} would not.",
    ]
    for change in report["changes"]:
        lines.append("")
        lines.append(f"  {words(change['from'])} -> {words(change['to'])}: {count(change['count'], 'decision')}")
        for why in change["because"]:
            lines.append(
                f"      {why['count']:>9,}  decided by {_rules(why['rules_before'])}; "
                f"now by {_rules(why['rules_after'])}"
            )
        refs, more = _refs(change, SHOWN_REFS)
        lines.append(f"      cases: {', '.join(refs)}{f' and {more:,} more (--json lists all)' if more else ''}")
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
        refs, more = _refs(change, SHOWN_REFS_ON_PAGE)
        sections.append(
            f"<section><h2>{e(words(change['from']))} &rarr; {e(words(change['to']))}: "
            f"{e(count(change['count'], 'decision'))}</h2>"
            f"<table><tr><th>decisions</th><th>rules that decided when recorded</th>"
            f"<th>rules that decide under the edit</th></tr>{reasons}</table>"
            f"<p>Cases: {e(', '.join(refs))}{e(f' and {more:,} more' if more else '')}</p></section>"
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Impact of {e(policy["id"])} {e(policy["version"])}, as edited</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}</style></head><body>
<h1>Impact of {e(policy["id"])} {e(policy["version"])}, as edited</h1>
<p>The edited policy (<code>sha256:{e(policy["digest"])}</code>) replayed on
{e(count(report["replayed"], "recorded decision"))}, recorded under {e(_versions(report))}
({report["evaluated"]:,} engine evaluations): <strong>{report["changed"]:,} would change</strong>,
{report["unchanged"]:,} would not.</p>
{"".join(sections) or "<p>No recorded decision would change.</p>"}
</body></html>
"""
