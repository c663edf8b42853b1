"""``infoshare interview``: the questions one by one in the terminal, then the verdict.

Only the questions whose answer can still change the outcome are asked
(``infoshare.engine.analysis.interview``), best first. In a terminal an
answer is picked with the arrow keys (space ticks an item of a list
question, Enter answers) or by typing its number; read from a pipe, each
answer is a line of numbers. ``--record CASE_REF`` then records the
decision through the service (``POST /v1/decisions``), with the key in
INFOSHARE_KEY so that it never shows in the process list or the shell's
history.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from infoshare.engine import Engine
from infoshare.engine.analysis.commands import load_or_exit, policy_option
from infoshare.engine.analysis.interview import Question, interview
from infoshare.engine.explain import render_verdict
from infoshare.engine.policy.factschema import FactsInvalid


def ask(question: Question, terminal: bool) -> Any:
    """The answer to one question: a value, or a list of values for a list question."""
    values = [v["value"] for v in question.values]
    labels = [v["label"] for v in question.values]
    many = question.type == "choices"
    click.echo(f"\n{question.question}")
    click.echo(click.style(f"  ({question.why})", dim=True))
    if terminal:
        return _pick_with_keys(values, labels, many)
    for n, label in enumerate(labels, 1):
        click.echo(f"  {n}. {label}")
    hint = "numbers separated by spaces, or 0 for none of them" if many else f"1-{len(values)}"
    while True:
        line = click.prompt(f"Answer ({hint})", default="", show_default=False, err=True)
        picked = _numbers(line, len(values), many)
        if picked is not None:
            return [values[i] for i in picked] if many else values[picked[0]]
        click.echo(f"Give {hint}.", err=True)


def _numbers(line: str, count: int, many: bool) -> list[int] | None:
    parts = line.replace(",", " ").split()
    if not all(p.isdigit() for p in parts) or (not many and len(parts) != 1):
        return None
    chosen = sorted({int(p) for p in parts} - ({0} if many else set()))
    if not all(1 <= n <= count for n in chosen) or (not many and not chosen):
        return None
    return [n - 1 for n in chosen]


def _pick_with_keys(values: list[Any], labels: list[str], many: bool) -> Any:
    """Up and down move, space ticks (list questions), a digit jumps, Enter answers."""
    at, ticked = 0, set[int]()

    def draw(first: bool) -> None:
        if not first:
            click.echo(f"\x1b[{len(labels)}A", nl=False)
        for n, label in enumerate(labels):
            mark = ("[x] " if n in ticked else "[ ] ") if many else ""
            line = f"{'>' if n == at else ' '} {n + 1}. {mark}{label}"
            click.echo("\x1b[2K" + (click.style(line, bold=True) if n == at else line))

    draw(True)
    while True:
        key = click.getchar()
        if key in ("\r", "\n"):
            break
        if key in ("\x1b[A", "k"):
            at = (at - 1) % len(labels)
        elif key in ("\x1b[B", "j"):
            at = (at + 1) % len(labels)
        elif key.isdigit() and 1 <= int(key) <= len(labels):
            at = int(key) - 1
            if not many:
                break
        elif key == " " and many:
            ticked ^= {at}
        elif key in ("\x03", "\x04"):
            raise click.Abort()
        draw(False)
    return [values[i] for i in sorted(ticked)] if many else values[at]


def record(url: str, case_ref: str, facts: dict[str, Any], requested_by: str | None) -> dict[str, Any]:
    key = os.environ.get("INFOSHARE_KEY", "")
    if not key:
        raise click.ClickException("set INFOSHARE_KEY to a case-system key to record the decision")
    body = {"case_ref": case_ref, "facts": facts, **({"requested_by": requested_by} if requested_by else {})}
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/decisions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the service's own URL
            recorded: dict[str, Any] = json.loads(answer.read())
            return recorded
    except urllib.error.HTTPError as exc:
        problem = json.loads(exc.read() or b"{}")
        raise click.ClickException(f"not recorded: {exc.code} {problem.get('error', '')}") from None
    except urllib.error.URLError as exc:
        raise click.ClickException(f"not recorded: the service at {url} did not answer ({exc.reason})") from None


@click.command("interview")
@policy_option
@click.option("--facts", "known", type=click.File("r"), default=None, help="A JSON file of facts already known.")
@click.option("--record", "case_ref", default=None, help="Record the decision under this case_ref.")
@click.option("--requested-by", default=None, help="Who asked, as the case file names them.")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="The service that records.")
def interview_command(directory: Path, known: Any, case_ref: str | None, requested_by: str | None, url: str) -> None:
    """Ask, one by one, only the questions whose answers can still change the decision, the
    confidentiality or whether the subject is told, then show the verdict (and record it)."""
    engine = Engine(load_or_exit(directory))
    facts: dict[str, Any] = json.load(known) if known else {}
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    required = [f for f in engine.policy.case_facts if f.required and f.name not in facts]
    for fact in required:  # the interview starts from them; they are asked first
        values = [{"value": v, "label": fact.label(v)} for v in fact.allowed_values()]
        first = Question(fact.name, fact.question, fact.type, tuple(values), "It is needed for every case.", {}, 0.0)
        facts[fact.name] = ask(first, terminal)
    try:
        engine.load(facts)
    except FactsInvalid as err:
        raise click.ClickException(f"the facts given are not ones the policy takes: {err.messages}") from None
    asked = 0
    while True:
        result = interview(engine, facts)
        if result.settled:
            break
        facts[result.questions[0].fact] = ask(result.questions[0], terminal)
        asked += 1
    click.echo(f"\n{asked} question{'s' if asked != 1 else ''} asked.\n")
    click.echo(render_verdict(result.verdict.to_dict()))
    if case_ref:
        made = record(url, case_ref, facts, requested_by)
        click.echo(f"\nRecorded as decision {made['id']} in case file {case_ref}.")
