"""What the ``infoshare`` commands share: the settings the group found, said once on stderr."""

from __future__ import annotations

import click

from infoshare.service import config


def settings_used(ctx: click.Context | None = None) -> dict:
    """The settings, after saying on stderr which working folder and store they come from."""
    ctx = ctx or click.get_current_context()
    home, settings = ctx.find_root().obj
    click.echo(config.describe(home, settings), err=True)
    return settings
