"""The ``infoshare`` command: check and evaluate policies, serve, manage API keys."""

from __future__ import annotations

import getpass
import itertools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TypeVar

import click
from peewee import PeeweeException

from infoshare.engine import PolicyError
from infoshare.engine.analysis.commands import (
    POLICY_CHECKS,
    check_command,
    coverage_command,
    evaluate_command,
    fmt_command,
    policy_option,
)
from infoshare.engine.policy.model import Policy
from infoshare.engine.policy.problems import Problem
from infoshare.service import config, server
from infoshare.service.access import people
from infoshare.service.access.keys import (
    ROLES,
    KeyProblem,
    add_key,
    create_client,
    create_key,
    list_clients,
    list_keys,
    revoke_key,
)
from infoshare.service.app import create_app
from infoshare.service.cli.common import seal_writes, settings_used
from infoshare.service.cli.impact import impact_command
from infoshare.service.cli.init import init_command
from infoshare.service.cli.interview import interview_command
from infoshare.service.reload import activate_checked
from infoshare.service.store import caseexport, checkpointaudit, checkpoints, logaudit, signing, versions
from infoshare.service.store.database import open_store
from infoshare.service.store.models import ApiKey, Client
from infoshare.service.store.private import open_private

T = TypeVar("T")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="infoshare", message="infoshare %(version)s")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Information-sharing decisions for safeguarding teams, from a declarative policy.

    Every command uses one working folder, found the same way from anywhere:
    INFOSHARE_HOME, else the nearest folder upwards holding infoshare.toml
    (`infoshare init DIR` makes one), else ~/.local/share/infoshare. Its
    infoshare.toml names the store, the policy folder and the server settings;
    an environment variable (DATABASE_URL, INFOSHARE_POLICY, ...) overrides
    its setting. Commands that use the store say which one on stderr.
    """
    try:
        home = config.find_home()
        settings = config.from_environment(home)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    ctx.obj = (home, settings)
    ctx.meta[POLICY_CHECKS] = [lambda policy: store_checks(settings, policy)]
    features = home.folder / "features"
    policy = {"directory": Path(settings["INFOSHARE_POLICY"])}
    scenarios = {"features": features} if (features / "steps").is_dir() else {}
    ctx.default_map = {
        **{name: policy for name in ("evaluate", "impact", "reload", "fmt", "interview")},
        "check": {**policy, **scenarios},
        "coverage": {**policy, **scenarios},
        "serve": {
            **policy,
            "host": settings["INFOSHARE_HOST"],
            "port": settings["INFOSHARE_PORT"],
            "workers": settings["INFOSHARE_WORKERS"],
        },
    }


main.add_command(check_command)
main.add_command(coverage_command)
main.add_command(evaluate_command)
main.add_command(fmt_command)
main.add_command(impact_command)
main.add_command(init_command)
main.add_command(interview_command)


@main.command()
@policy_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes.",
)
@click.option(
    "--worker-class",
    default="gthread",
    show_default=True,
    type=click.Choice(server.WORKER_CLASSES),
    help="gthread: threads per worker wait on slow and idle connections; "
    "sync: one connection per worker at a time (kept for comparison).",
)
@click.option(
    "--activate",
    is_flag=True,
    help="Make this folder's policy the active version even if the store has since activated a newer one.",
)
@click.pass_context
def serve(
    ctx: click.Context, directory: Path, host: str, port: int, workers: int, worker_class: str, activate: bool
) -> None:
    """Serve the HTTP API. Refuses to start if the policy is broken."""
    settings = settings_used(ctx)
    try:
        app = create_app({**settings, "INFOSHARE_POLICY": str(directory), "INFOSHARE_ACTIVATE": activate})
    except ValueError as exc:  # a setting in the environment that cannot be used
        click.echo(f"infoshare: not starting: {exc}", err=True)
        sys.exit(1)
    except PolicyError as exc:
        click.echo(f"infoshare: not starting: the policy is broken:\n{exc}", err=True)
        sys.exit(1)
    except PeeweeException as exc:
        click.echo(f"infoshare: not starting: cannot open the decision store (DATABASE_URL): {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"infoshare: serving policy {app.extensions['infoshare'].policy.version} "
        f"on http://{host}:{port} with {workers} {worker_class} workers",
        err=True,
    )
    server.run(app, host, port, workers, worker_class)


ROLE_HELP = (
    "case-system: evaluate, record, read its own decisions; coordinator: read every decision, review; "
    "policy-owner: evaluate, read and reload the policy."
)


def store_checks(settings: dict, policy: Policy) -> list[Problem]:
    """`infoshare check` against the store, if there is one: a version string it holds for
    other files is a problem. A store that does not exist yet is not made for this."""
    url = settings["DATABASE_URL"]
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    try:
        seal_writes(settings, create=False)
        open_store(url)
        problem = versions.version_problem(policy)
    except PeeweeException as exc:
        click.echo(f"infoshare: the version was not checked against the store ({type(exc).__name__})", err=True)
        return []
    return [problem] if problem else []


@main.command("reload")
@policy_option
def reload_command(directory: Path) -> None:
    """Check the policy folder in full and make it the active version for every server on the store.

    Running servers follow within INFOSHARE_POLICY_POLL_SECONDS, as after
    POST /v1/policy/reload; on any problem nothing changes and each is listed.
    """
    settings = settings_used()
    try:
        signer = seal_writes(settings)
        assert signer is not None  # made if missing
        open_store(settings["DATABASE_URL"])
        previous, policy, _ = activate_checked(directory, f"infoshare reload by {getpass.getuser()}", signer)
    except PolicyError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{directory}: not reloaded; the active version keeps answering.", err=True)
        sys.exit(1)
    except PeeweeException as exc:
        raise click.ClickException(f"cannot open the decision store (DATABASE_URL): {exc}") from None
    was = f"{previous['version']} (sha256:{previous['digest'][:12]})" if previous else "none"
    click.echo(
        f"policy {policy.id} {policy.version} (sha256:{policy.digest[:12]}) is active; it replaced {was}. "
        f"Servers on this store answer with it within {settings['INFOSHARE_POLICY_POLL_SECONDS']:g} s."
    )


@main.group()
def clients() -> None:
    """Create and list clients: the case systems, co-ordinators and policy owners that call the service.

    A client holds any number of API keys; its records stay its own whichever key made them.
    """


def _open_key_store(what: str = "key store") -> None:
    settings = settings_used()
    try:
        seal_writes(settings)
        open_store(settings["DATABASE_URL"])
    except PeeweeException as exc:
        raise click.ClickException(f"cannot open the {what} (DATABASE_URL): {exc}") from None


def _listing(found: Sequence[T], none_yet: str, header: str, line: Callable[[T], str]) -> None:
    """What a `list` command found, a line each under a header; or, where there is nothing yet,
    how to make the first one."""
    if not found:
        click.echo(none_yet)
        return
    click.echo(header)
    for item in found:
        click.echo(line(item))


@clients.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help=ROLE_HELP)
def clients_create(name: str, role: str) -> None:
    """Create the client NAME (then give it a key with `infoshare keys create --client NAME`)."""
    _open_key_store()
    try:
        client = create_client(role, name)
    except KeyProblem as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created client {client.name!r} with role {client.role}; give it a key with:")
    click.echo(f"infoshare keys create --client {client.name}")


@clients.command("list")
def clients_list() -> None:
    """List clients with their role and how many active keys each has."""
    _open_key_store()

    def line(client: Client) -> str:
        active = ApiKey.select().where((ApiKey.client == client) & ApiKey.revoked_at.is_null()).count()
        return f"{client.name:<32} {client.role:<13} {client.created_at:%Y-%m-%d %H:%M:%S}  {active}"

    _listing(
        list_clients(),
        "No clients yet. Create one with: infoshare clients create NAME --role case-system",
        f"{'NAME':<32} {'ROLE':<13} {'CREATED (UTC)':<20} ACTIVE KEYS",
        line,
    )


@main.group()
def keys() -> None:
    """Create, list and revoke API keys, each one a client's (stored as hashes in DATABASE_URL's database)."""


@keys.command("create")
@click.option("--client", "client_name", help="The client to give a new key (made with `infoshare clients create`).")
@click.option("--role", type=click.Choice(ROLES), help=f"With --name: {ROLE_HELP}")
@click.option(
    "--name",
    help="With --role: the client to give a key, created with that role if it does not exist "
    "(its name is shown in logs and the case file).",
)
def keys_create(client_name: str | None, role: str | None, name: str | None) -> None:
    """Create a key and print it on the last line (it is shown only once).

    Either --client NAME (a second key for a client is how a key is rotated:
    move to the new key, then revoke the old one) or --role ROLE [--name NAME].
    """
    if (client_name is None) == (role is None):
        raise click.UsageError("give either --client NAME, or --role ROLE with an optional --name")
    if client_name is not None and name is not None:
        raise click.UsageError("--name goes with --role; with --client the key is named for its client")
    _open_key_store()
    try:
        key, token = add_key(client_name) if client_name is not None else create_key(str(role), name)
    except KeyProblem as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Created key {key.name!r} for client {key.client_name!r} (role {key.role}). It is not stored "
        "and is shown only now; send it as 'Authorization: Bearer <key>':"
    )
    click.echo(token)


@keys.command("list")
def keys_list() -> None:
    """List keys by name, client and role (never the keys themselves)."""
    _open_key_store()

    def line(key: ApiKey) -> str:
        status = f"revoked {key.revoked_at:%Y-%m-%d %H:%M:%S}" if key.revoked_at else "active"
        if key.key_id is None and not key.revoked_at:
            status += " (an older unsalted key: replace it with a new one, then revoke it)"
        client = key.client_name or "(none: refused)"
        return f"{key.name:<32} {client:<32} {key.role:<13} {key.created_at:%Y-%m-%d %H:%M:%S}  {status}"

    _listing(
        list_keys(),
        "No keys yet. Create one with: infoshare keys create --role case-system",
        f"{'NAME':<32} {'CLIENT':<32} {'ROLE':<13} {'CREATED (UTC)':<20} STATUS",
        line,
    )


@keys.command("revoke")
@click.argument("name")
def keys_revoke(name: str) -> None:
    """Revoke the key called NAME; requests with it get 401 from then on (its client keeps its other keys)."""
    _open_key_store()
    try:
        key = revoke_key(name)
    except KeyProblem as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked key {key.name!r} ({key.role}).")


@main.group()
def users() -> None:
    """Accounts for the people who use the web pages: practitioners, co-ordinators, policy owners."""


def _link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/sign-in/link/{token}"


@users.command("create")
@click.option(
    "--role",
    required=True,
    type=click.Choice(people.ROLES),
    help="practitioner: ask and record, see their own decisions; coordinator: the review queue, "
    "every decision, reviews; policy-owner: the policy pages.",
)
@click.option("--name", required=True, help='The person\'s name as the case file shows it, e.g. "Sam Patel".')
@click.option("--login", help="What they type to sign in (default: from the name, e.g. sam.patel).")
@click.option(
    "--link",
    "send_link",
    is_flag=True,
    help="Print a one-time sign-in link (valid 24 hours) for them to choose a password, instead of asking for one.",
)
@click.option(
    "--url", default="http://127.0.0.1:8080", show_default=True, help="Where the pages are served, for the link."
)
def users_create(role: str, name: str, login: str | None, send_link: bool, url: str) -> None:
    """Create an account; its password is asked for here, or chosen through a one-time link."""
    _open_key_store("account store")
    password = None
    if not send_link:
        password = click.prompt("Password (at least 12 characters)", hide_input=True, confirmation_prompt=True)
    try:
        person = people.create_person(role, name, login, password)
    except people.PersonProblem as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {person.name!r} ({person.role}), who signs in as {person.login!r}.")
    if send_link:
        click.echo("Give them this one-time link to choose a password; it is shown only now and works once:")
        click.echo(_link(url, people.issue_link(person)))


@users.command("link")
@click.argument("login")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, help="Where the pages are served.")
def users_link(login: str, url: str) -> None:
    """Print a new one-time link for LOGIN to choose a new password (a forgotten one, or a lock-out)."""
    _open_key_store("account store")
    person = people.find_person(login)
    if person is None:
        raise click.ClickException(f"no one signs in as {login!r}; `infoshare users list` shows who does")
    click.echo("A one-time link, shown only now; it works once, within 24 hours:")
    click.echo(_link(url, people.issue_link(person)))


@users.command("list")
def users_list() -> None:
    """List the accounts (never a password)."""
    _open_key_store("account store")
    _listing(
        people.list_people(),
        'No accounts yet. Create one with: infoshare users create --role practitioner --name "Sam Patel"',
        f"{'LOGIN':<24} {'ROLE':<13} NAME",
        lambda person: f"{person.login:<24} {person.role:<13} {person.name}",
    )


@main.group()
def log() -> None:
    """Verify, sign and export the decision log (DATABASE_URL's database, its checkpoint file)."""


def _public_key(path: str | None, settings: dict, needed: bool) -> signing.PublicKey | None:
    """The public key given, else the one beside the configured signing key (None if there is
    none and it is not ``needed``)."""
    file = path or settings["INFOSHARE_LOG_SIGNING_KEY_FILE"] + signing.PUBLIC_SUFFIX
    if path is None and not needed and not Path(file).exists():
        return None
    try:
        return signing.load_public(file)
    except signing.SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None


public_key_option = click.option(
    "--public-key",
    "public_key",
    type=click.Path(dir_okay=False),
    help="The log's public key (default: the .pub beside INFOSHARE_LOG_SIGNING_KEY_FILE).",
)


@log.command("verify")
@click.option(
    "--file", "path", type=click.File("r"), help="Verify an export made by `infoshare log export` instead of the store."
)
@click.option(
    "--checkpoints",
    "checkpoint_file",
    type=click.Path(dir_okay=False),
    help="The signed checkpoints to hold the store to (default: INFOSHARE_LOG_CHECKPOINT_FILE).",
)
@public_key_option
@click.option(
    "--head",
    "expect_head",
    metavar="HASH",
    help="A head hash noted earlier: fail if the chain no longer holds it (records cut off the end).",
)
@click.option(
    "--require-signed", is_flag=True, help="Exit 3 if records after the last checkpoint are covered by the chain only."
)
def log_verify(
    path, checkpoint_file: str | None, public_key: str | None, expect_head: str | None, require_signed: bool
) -> None:
    """Check the log and name what was altered; never changes anything.

    The store: walk the chain (the first record altered, inserted or removed
    is named) and hold it to every signed checkpoint with the public key
    only: FORGED (a checkpoint line not signed by the key), REWRITTEN (the
    records a checkpoint signed were changed and the chain recomputed),
    REORDERED (they were moved), TRUNCATED (records it covered are gone).
    Records after the last checkpoint are reported as the unsigned tail.
    An export (--file): a full one is checked on its own, a case export
    against its signed checkpoint with the public key.

    The store is read as it is: nothing is installed or linked, and an
    append-only trigger that is missing, disabled or altered is a finding
    (UNGUARDED).

    Exit status: 0 intact (an unsigned tail is reported on stderr), 1 a
    finding, or records but no checkpoint though the log has a key (NOT
    SIGNED), 3 intact but with an unsigned tail and --require-signed.
    """
    settings = settings_used()
    if path is not None:
        _verify_file(path, public_key, settings, expect_head)
        return
    file = checkpoint_file or settings["INFOSHARE_LOG_CHECKPOINT_FILE"]
    has_checkpoints = next(checkpoints.read_lines(file), None) is not None
    public = _public_key(public_key, settings, needed=has_checkpoints)
    try:
        open_store(settings["DATABASE_URL"], set_up=False)
        report = checkpointaudit.verify(file, public, expect_head)
    except PeeweeException as exc:
        raise click.ClickException(f"cannot read the decision log (DATABASE_URL): {exc}") from None
    result = report.chain
    for finding in report.findings:
        checked = f" ({result.count} records checked before it)" if finding.label == "TAMPERED" else ""
        click.echo(f"{finding}{checked}", err=True)
    if result.ok:
        seq, head = result.head
        waiting = f"; {result.pending} recorded and waiting to be linked" if result.pending else ""
        click.echo(f"OK: {result.count} records, chain intact; head is link {seq} {head}{waiting}")
    if report.signed is not None:
        click.echo(
            f"signed: {report.checkpoints} checkpoints in {file}, the last of link {report.signed.seq} "
            f"at {report.signed.time} by key {report.signed.key_id}",
            err=True,
        )
    if report.unsigned and not report.tampered:
        last = report.signed.seq if report.signed else 0
        click.echo(
            f"UNSIGNED TAIL: {report.unsigned} records after the last checkpoint (links {last + 1} to "
            f"{report.store_seq}) are covered by the chain only"
            + ("" if report.signed else f": no checkpoint in {file}"),
            err=True,
        )
    if public is not None and report.signed is None and report.store_seq:
        click.echo(
            f"NOT SIGNED: the log has a signing key but {file} holds no checkpoint of its "
            f"{report.store_seq} records: the checkpoints were removed, or the log was never signed "
            "(a log made before checkpoints were kept: run `infoshare log checkpoint --first` once)",
            err=True,
        )
        sys.exit(1)
    if report.tampered:
        sys.exit(1)
    if report.unsigned and require_signed:
        sys.exit(3)


def _verify_file(path, public_key: str | None, settings: dict, expect_head: str | None) -> None:
    """`log verify --file`: a full export on its own, a case export with the public key."""
    first = path.readline()
    try:
        header = logaudit._parse(first, 1)
        if caseexport.is_case_export(header):
            public = _public_key(public_key, settings, needed=True)
            assert public is not None
            result = caseexport.verify(header, path, public)
        else:
            result = logaudit.verify_export(itertools.chain([first], path), expect_head)
    except logaudit.ExportUnreadable as exc:
        raise click.ClickException(f"{path.name}: {exc}") from None
    if not result.ok:
        click.echo(f"TAMPERED: {result.problem} ({result.count} records checked before it)", err=True)
        sys.exit(1)
    seq, head = result.head
    if caseexport.is_case_export(header):
        checkpoint = header["checkpoint"]
        click.echo(
            f"OK: {result.count} records of case {header['case_ref']}, each unchanged and in the log as signed "
            f"at link {seq} {head} ({checkpoint['time']}, key {checkpoint['key_id']}); "
            "none of the case's records to then is missing"
        )
        return
    click.echo(f"OK: {result.count} records, chain intact; head is link {seq} {head}")


def _sign_now(settings: dict, first: bool = False) -> checkpoints.Checkpoint | None:
    """Sign the head now with the service's key; a store that disagrees with what was signed is refused."""
    seal_writes(settings, create=False)
    database = open_store(settings["DATABASE_URL"])
    try:
        signer = checkpoints.for_app(database, settings, create=False)
    except signing.SigningKeyError as exc:
        raise click.ClickException(str(exc)) from None
    checkpoint = signer.sign(first=first)
    if signer.refusal:
        raise click.ClickException(f"not signed: {signer.refusal}; run `infoshare log verify`")
    return checkpoint


@log.command("checkpoint")
@click.option(
    "--first",
    is_flag=True,
    help="Sign the first checkpoint over an existing log: one made before its checkpoints were kept "
    "(after upgrading), whose records the service will not sign on its own, since a log rebuilt "
    "after its checkpoint file was removed looks the same. Also signs links without a seal (made "
    "before links were sealed, by an older version); a link with a wrong seal is still refused. "
    "Check the store first.",
)
def log_checkpoint(first: bool) -> None:
    """Sign the log's head now (the service does every few seconds), e.g. before a backup."""
    settings = settings_used()
    try:
        checkpoint = _sign_now(settings, first=first)
    except PeeweeException as exc:
        raise click.ClickException(f"cannot open the decision log (DATABASE_URL): {exc}") from None
    if checkpoint is None:
        click.echo("nothing new to sign: the last checkpoint holds the head")
    else:
        click.echo(f"signed link {checkpoint.seq} {checkpoint.head} at {checkpoint.time} by key {checkpoint.key_id}")


@log.command("export")
@click.option(
    "--case",
    "case_ref",
    metavar="REF",
    help="Only this case's decisions and their reviews, with the proof that they are all of them "
    "as of a signed checkpoint (the head is signed first if the signing key is here).",
)
@click.option(
    "--client",
    "client_name",
    metavar="NAME",
    help="With --case: the client whose case file REF is. An export holds one client's case file: if more "
    "than one client has recorded a case REF, the export is refused and names them (the signed proof is per "
    "case reference, so it cannot yet be made for one client's part of a shared one).",
)
@public_key_option
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="Where to write (made 0600: it holds personal facts).",
)
def log_export(case_ref: str | None, client_name: str | None, public_key: str | None, output_path: str) -> None:
    """Write the log as JSON lines with its chain, verifiable with `infoshare log verify --file`."""
    _open_key_store("decision log")
    if case_ref is None and client_name is not None:
        raise click.UsageError("--client selects whose case file --case names: give --case too")
    if case_ref is not None:
        _one_client(case_ref, client_name)
    if output_path == "-":
        _export(case_ref, public_key, sys.stdout)
        return
    try:
        output = open_private(output_path)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output_path}: {exc.strerror}") from None
    with output:
        _export(case_ref, public_key, output)


def _one_client(case_ref: str, client_name: str | None) -> None:
    """Refuse a case export that would hold more than one client's case file, or another client's."""
    clients = caseexport.clients_of(case_ref)
    if client_name is not None and clients and client_name not in clients:
        raise click.ClickException(f"client {client_name} has no case {case_ref} (it is {', '.join(clients)}'s)")
    if len(clients) > 1:
        raise click.ClickException(
            f"case {case_ref} is recorded by {len(clients)} clients ({', '.join(clients)}): each one's is its "
            "own case file, and the signed proof covers the case reference across clients, so an export of "
            "one of them cannot be proven yet; nothing was exported"
        )


def _export(case_ref: str | None, public_key: str | None, output: IO[str]) -> None:
    if case_ref is None:
        count = logaudit.export(output)
        click.echo(f"exported {count} records", err=True)
        return
    settings = settings_used()
    if Path(settings["INFOSHARE_LOG_SIGNING_KEY_FILE"]).exists():
        _sign_now(settings)
    public = _public_key(public_key, settings, needed=True)
    assert public is not None
    file = settings["INFOSHARE_LOG_CHECKPOINT_FILE"]
    signed, _ = checkpointaudit.read_checkpoints(file, public)
    if not signed:
        raise click.ClickException(f"no checkpoint signed by key {public.key_id} in {file}: nothing proves an export")
    try:
        count = caseexport.export(output, case_ref, signed[-1])
    except caseexport.StoreDisagrees as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"exported {count} records of case {case_ref}, proven by the checkpoint of link {signed[-1].seq}", err=True
    )
