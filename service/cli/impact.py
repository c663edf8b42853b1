"""``infoshare impact``: which recorded decisions an edited policy would decide differently.

Reads the decision log in batches by id (keyset pages, so memory stays flat
and each page is one indexed query), replays each page through
engine.impact, and shows progress on stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click
from peewee import PeeweeException

from infoshare.engine.analysis.commands import load_or_exit, policy_argument, policy_option, write_page
from infoshare.engine.analysis.impact import Replay
from infoshare.engine.analysis.impactreport import render_html, render_text
from infoshare.engine.analysis.policytests import run_tests
from infoshare.engine.evaluator import Engine
from infoshare.service.cli.common import seal_writes, settings_used
from infoshare.service.store import versions
from infoshare.service.store.database import open_store
from infoshare.service.store.recorded import pages, replay_query


@click.command("impact")
@policy_argument
@policy_option
@click.option("--since", type=click.DateTime(), help="Only decisions recorded at or after this date (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report as a web page to this file.",
)
def impact_command(
    positional: Path | None, directory: Path, since: datetime | None, as_json: bool, html_file: Path | None
) -> None:
    """Replay the recorded decisions against the policy (DIR or --policy) and report what would change."""
    directory = positional or directory
    policy = load_or_exit(directory)
    _, failing = run_tests(Engine(policy), directory)
    try:
        settings = settings_used()
        seal_writes(settings, create=False)  # opening the store may link records left pending
        open_store(settings["DATABASE_URL"])
        replay = Replay(policy, versions.stored)
        query = replay_query(since)
        with click.progressbar(length=query.count(), label="replaying", file=sys.stderr) as bar:
            for rows in pages(query):
                replay.add(rows)
                bar.update(len(rows))
    except PeeweeException as exc:
        raise click.ClickException(f"cannot read the decision store (DATABASE_URL): {exc}") from None
    report = replay.report()
    if html_file is not None:
        write_page(html_file, render_html(report))
        click.echo(f"wrote {html_file}", err=True)
    click.echo(json.dumps(report, indent=2) if as_json else render_text(report))
    if failing:
        for problem in failing:
            click.echo(str(problem), err=True)
        click.echo(
            f"{directory}: warning: this policy fails {len(failing)} of its own tests or checks (above; `infoshare check` "
            "runs them): the report shows what it would decide, but a reload would refuse it.",
            err=True,
        )
        sys.exit(1)
