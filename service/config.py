"""Settings: the environment over the working folder's ``infoshare.toml`` over defaults.

Every command finds its working folder (its *home*) the same way, wherever it
is run from, so ``infoshare keys create`` and ``infoshare serve`` always meet
in the same store:

1. ``INFOSHARE_HOME``, if set;
2. else the nearest folder, from the current one upwards, holding ``infoshare.toml``
   (``infoshare init DIR`` makes one);
3. else the per-user folder ``$XDG_DATA_HOME/infoshare`` (``~/.local/share/infoshare``).

Relative paths in ``infoshare.toml`` (the sqlite store, the policy folder, the
log's signing key and checkpoint files) are relative to the home. An
environment variable still overrides its setting (``DATABASE_URL``,
``INFOSHARE_POLICY``, ...), so a deployment can keep its secrets out of the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infoshare.engine.policy.loader import SHIPPED_POLICY

CONFIG_FILE = "infoshare.toml"
MAX_BODY_BYTES = 1024 * 1024
POLICY_POLL_SECONDS = 1.0
DEFAULT_RATE_LIMIT = 60_000  # requests a minute per client: 1,000/s sustained, a minute's worth at once
DEFAULT_ANONYMOUS_RATE_LIMIT = 6_000  # requests a minute per address without a valid key: 100/s
DEFAULT_STORE = "sqlite:///instance/infoshare.sqlite3"
DEFAULT_SIGNING_KEY_FILE = "instance/log-signing.key"
DEFAULT_CHECKPOINT_FILE = "instance/log-checkpoints.jsonl"
# A checkpoint at least every this many records and this many seconds: what a crash or an
# attacker can leave unsigned is about a second of decisions (see service.store.checkpoints).
DEFAULT_CHECKPOINT_RECORDS = 1000
DEFAULT_CHECKPOINT_SECONDS = 1.0

# (section, key in the file) -> (setting and environment variable, default); a path default is
# relative to the home.
FILE_SETTINGS: dict[tuple[str, str], tuple[str, Any]] = {
    ("store", "database_url"): ("DATABASE_URL", DEFAULT_STORE),
    ("policy", "folder"): ("INFOSHARE_POLICY", None),
    ("log", "signing_key_file"): ("INFOSHARE_LOG_SIGNING_KEY_FILE", DEFAULT_SIGNING_KEY_FILE),
    ("log", "checkpoint_file"): ("INFOSHARE_LOG_CHECKPOINT_FILE", DEFAULT_CHECKPOINT_FILE),
    ("log", "checkpoint_records"): ("INFOSHARE_LOG_CHECKPOINT_RECORDS", DEFAULT_CHECKPOINT_RECORDS),
    ("log", "checkpoint_seconds"): ("INFOSHARE_LOG_CHECKPOINT_SECONDS", DEFAULT_CHECKPOINT_SECONDS),
    ("server", "host"): ("INFOSHARE_HOST", "127.0.0.1"),
    ("server", "port"): ("INFOSHARE_PORT", 8080),
    ("server", "workers"): ("INFOSHARE_WORKERS", 2),
    ("server", "rate_limit"): ("INFOSHARE_RATE_LIMIT", DEFAULT_RATE_LIMIT),
    ("server", "anonymous_rate_limit"): ("INFOSHARE_ANONYMOUS_RATE_LIMIT", DEFAULT_ANONYMOUS_RATE_LIMIT),
    ("server", "policy_poll_seconds"): ("INFOSHARE_POLICY_POLL_SECONDS", POLICY_POLL_SECONDS),
}
PATH_SETTINGS = ("INFOSHARE_POLICY", "INFOSHARE_LOG_SIGNING_KEY_FILE", "INFOSHARE_LOG_CHECKPOINT_FILE")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the file or variable and what to write."""


@dataclass(frozen=True)
class Home:
    """The working folder a command uses, and how it was found (said in the commands' output)."""

    folder: Path
    found_by: str
    file: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)  # settings from the file, by setting name


def user_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "infoshare"


def find_home(cwd: Path | None = None) -> Home:
    """The home, by the rules in the module's docstring."""
    if os.environ.get("INFOSHARE_HOME"):
        folder = Path(os.environ["INFOSHARE_HOME"]).expanduser().resolve()
        return _read(folder, "INFOSHARE_HOME")
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return _read(folder, f"{CONFIG_FILE} in {folder}")
    return Home(user_home(), "the per-user default; `infoshare init DIR` or INFOSHARE_HOME chooses another")


def _read(folder: Path, found_by: str) -> Home:
    file = folder / CONFIG_FILE
    if not file.is_file():
        return Home(folder, found_by)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{file}: not valid TOML ({exc}); each setting is `name = value` under its [section]"
        ) from None
    values: dict[str, Any] = {}
    known = {section for section, _ in FILE_SETTINGS}
    for section, entries in data.items():
        if section not in known or not isinstance(entries, dict):
            raise ConfigError(f"{file}: unknown section [{section}]; the sections are: {', '.join(sorted(known))}")
        for key, value in entries.items():
            if (section, key) not in FILE_SETTINGS:
                allowed = ", ".join(k for s, k in FILE_SETTINGS if s == section)
                raise ConfigError(f"{file}: [{section}] has no setting `{key}`; its settings are: {allowed}")
            values[FILE_SETTINGS[(section, key)][0]] = value
    return Home(folder, found_by, file, values)


def _setting(home: Home, name: str, default: Any) -> Any:
    value = os.environ.get(name) or home.values.get(name, default)
    if name in PATH_SETTINGS and value is not None:
        return str(_under(home.folder, value))
    if name == "DATABASE_URL":
        return sqlite_under(home.folder, str(value))
    return value


def _under(folder: Path, value: Any) -> Path:
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else folder / path


def sqlite_under(folder: Path, url: str) -> str:
    """A relative sqlite path (``sqlite:///instance/x.sqlite3``) is taken as relative to the home."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix) :].startswith("/") or url.endswith(":memory:"):
        return url
    return f"{prefix}{folder / url[len(prefix) :]}"


def from_environment(home: Home | None = None) -> dict:
    """Every setting (see FILE_SETTINGS), from the environment, the home's file or the default;
    ``INFOSHARE_POLICY_POLL_SECONDS`` is how often a worker looks up which policy version is
    active (see service.reload); and the 1 MiB body limit."""
    home = home or find_home()
    settings = {name: _setting(home, name, default) for name, default in FILE_SETTINGS.values()}
    settings["INFOSHARE_POLICY"] = settings["INFOSHARE_POLICY"] or str(SHIPPED_POLICY)
    settings["INFOSHARE_POLICY_POLL_SECONDS"] = _number(
        "INFOSHARE_POLICY_POLL_SECONDS", settings["INFOSHARE_POLICY_POLL_SECONDS"], float
    )
    settings["INFOSHARE_PORT"] = _number("INFOSHARE_PORT", settings["INFOSHARE_PORT"], int)
    for name, kind in (("INFOSHARE_LOG_CHECKPOINT_RECORDS", int), ("INFOSHARE_LOG_CHECKPOINT_SECONDS", float)):
        settings[name] = _number(name, settings[name], kind)
        if settings[name] <= 0:
            raise ConfigError(f"{name}={settings[name]!r}: give a number above 0")
    settings["INFOSHARE_WORKERS"] = _number("INFOSHARE_WORKERS", settings["INFOSHARE_WORKERS"], int)
    for name, default in (
        ("INFOSHARE_RATE_LIMIT", DEFAULT_RATE_LIMIT),
        ("INFOSHARE_ANONYMOUS_RATE_LIMIT", DEFAULT_ANONYMOUS_RATE_LIMIT),
    ):
        settings[name] = rate_limit(str(settings[name]), name, default)
    settings["INFOSHARE_HOME"] = str(home.folder)
    settings["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    return settings


def _number(name: str, value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r}: give a number") from None


def rate_limit(text: str, name: str = "INFOSHARE_RATE_LIMIT", default: int = DEFAULT_RATE_LIMIT) -> int:
    """Requests a minute (per client, or per address without a valid key); empty means the
    default, 0 means no limit."""
    if not text.strip():
        return default
    if not text.strip().isdigit():
        raise ConfigError(f"{name}={text!r}: give a whole number of requests a minute (0 for no limit)")
    return int(text)


def instance_folder(database_url: str) -> Path:
    """Where the service keeps its own files: beside an sqlite store, else ``instance/``."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            return Path(path).parent
    return find_home().folder / "instance"


def describe(home: Home, settings: dict) -> str:
    """One line for a command's stderr: which working folder and store it uses, and why (a
    password in the store's URL is never shown)."""
    store = re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", settings["DATABASE_URL"])
    return f"infoshare: home {home.folder} ({home.found_by}); store {store}"
