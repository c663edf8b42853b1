"""What the ``infoshare`` commands share: the settings the group found, said once on stderr; sealing what they write."""

from __future__ import annotations

from pathlib import Path

import click

from infoshare.service import config
from infoshare.service.store import linkseal, signing


def settings_used(ctx: click.Context | None = None) -> dict:
    """The settings, after saying on stderr which working folder and store they come from."""
    ctx = ctx or click.get_current_context()
    home, settings = ctx.find_root().obj
    click.echo(config.describe(home, settings), err=True)
    return settings


def seal_writes(settings: dict, create: bool = True) -> signing.Signer | None:
    """Seal the links this command writes with the service's key (``service.store.linkseal``),
    made if missing and ``create``; without a key nothing is sealed, and the signer refuses them."""
    key_file = settings["INFOSHARE_LOG_SIGNING_KEY_FILE"]
    if not create and not Path(key_file).exists():
        return None
    signer = signing.load_or_create(key_file)
    linkseal.use(signer)
    return signer
