"""Settings and profiles, resolved in one order: flag > JOYCTL_* environment > file > default.

Each resolved value remembers where it came from, so `joyctl config show` and `joyctl status`
can say why a value is what it is. Global settings live at the top of config.toml; profile
settings under `[profiles.NAME]`; facts recorded at connect time under
`[profiles.NAME.connection]`.

The registry (`SPECS`) is read by key only where the key is data (`config show`, `config set`,
`profiles`); everywhere else a setting is a typed attribute: `settings.keyring_timeout` is a
float, `profile.redirect_port` an int, and `Profile.redirect_port.resolved_in(profile)` gives
the typed value with its source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar, overload
from urllib.parse import urlsplit

from joyctl import envvars, values
from joyctl.api_contract import REVISION, all_required_scopes
from joyctl.command_line import command
from joyctl.errors import ConfigError, NotFoundError
from joyctl.paths import Paths

SANDBOX_PROFILE = "sandbox"
SANDBOX_BASE_URL = "embedded"  # the emulator starts in-process on a free loopback port
# Where `joyctl webhooks listen` receives by default: the sandbox delivers there.
SANDBOX_WEBHOOK_ENDPOINT = "http://127.0.0.1:8780/klaviyo/webhooks"
KLAVIYO_BASE_URL = "https://a.klaviyo.com"
KLAVIYO_AUTHORIZE_URL = "https://www.klaviyo.com/oauth/authorize"
DEFAULT_REDIRECT_PORT = 8765

Source = Literal["flag", "env", "file", "default", "builtin"]
Scope = Literal["global", "profile"]
T = TypeVar("T")

KEYRING_TIMEOUT_RANGE = (0.1, 600.0)
WEBHOOK_TOLERANCE_RANGE = (1, 7 * 24 * 3600)
CLIENT_ID_LIMIT = 256
SCOPES_LIMIT = 64


@dataclass(frozen=True)
class SettingSpec:
    """One setting: where it lives, what it allows, and how text becomes its value.

    `read(text, what)` parses text given on the command line, in the environment or (turned
    into text) in config.toml, and raises ConfigError naming `what`. `kinds` are the TOML types
    config.toml may hold for it; `allowed` says in words what is allowed.
    """

    key: str
    scope: Scope
    help: str
    read: Callable[[str, str], Any]
    allowed: str
    kinds: tuple[type, ...] = (str,)
    env: str | None = None

    def parse(self, text: str, what: str | None = None) -> Any:
        """The value `text` stands for (ConfigError naming `what`, the key by default)."""
        return self.read(text, what or self.key)


@dataclass(frozen=True)
class Resolved(Generic[T]):
    """A setting's value and where it came from.

    `problem` is set when the value given (in the environment or config.toml) cannot be used:
    the value is then the default, and reading the setting raises the problem instead.
    """

    key: str
    value: T
    source: Source
    problem: ConfigError | None = None

    def checked(self) -> Resolved[T]:
        if self.problem is not None:
            raise self.problem
        return self


def _parse_url(value: str, what: str) -> str:
    return values.http_url(value, what=what, error=ConfigError)


def _parse_port(value: str, what: str) -> int:
    allowed = "a port from 0 to 65535 (0 = any free port)"
    return values.whole_number(
        value, what=what, low=0, high=65535, error=ConfigError, allowed=allowed
    )


# How far from an event's time its review is looked for (Klaviyo documents no bound).
LOOKUP_WINDOW_RANGE = (1.0, 7 * 24 * 3600.0)


def _parse_keyring_timeout(value: str, what: str) -> float:
    low, high = KEYRING_TIMEOUT_RANGE
    return values.seconds(value, what=what, low=low, high=high, error=ConfigError)


def _parse_tolerance(value: str, what: str) -> int:
    low, high = WEBHOOK_TOLERANCE_RANGE
    return values.whole_number(value, what=what, low=low, high=high, error=ConfigError)


def _parse_lookup_window(value: str, what: str) -> float:
    low, high = LOOKUP_WINDOW_RANGE
    return values.seconds(value, what=what, low=low, high=high, error=ConfigError)


def _parse_client_id(value: str, what: str) -> str:
    text = values.text(value, what=what, limit=CLIENT_ID_LIMIT, error=ConfigError)
    if not text or any(ch.isspace() for ch in text):
        raise ConfigError(
            f"{what}: {values.shown(value)} is not a client id",
            hint="copy the client id of your Klaviyo app (no spaces)",
        )
    return text


_SCOPE = re.compile(r"[a-z_-]{1,40}:[a-z_-]{1,20}")


def _parse_scopes(value: str, what: str) -> list[str]:
    scopes = [part for part in value.replace(",", " ").split() if part]
    bad = [scope for scope in scopes if not _SCOPE.fullmatch(scope)]
    hint = f"scopes look like reviews:read (at most {SCOPES_LIMIT}, separated by spaces)"
    if bad:
        raise ConfigError(f"{what}: {values.shown(bad[0])} is not a scope", hint=hint)
    if not scopes:
        raise ConfigError(f"{what}: no scopes given", hint=hint)
    if len(scopes) > SCOPES_LIMIT:
        raise ConfigError(f"{what}: {len(scopes)} scopes are too many", hint=hint)
    return list(dict.fromkeys(scopes))


def _parse_datetime(value: str, what: str) -> str:
    return values.moment(value, what=what, error=ConfigError).isoformat()


def _parse_profile_name(value: str, what: str = "profile") -> str:
    name = value.strip()
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name) or len(name) > 64:
        raise ConfigError(
            f"{what}: {values.shown(value)} is not a profile name",
            hint="use letters, digits, - and _ (1 to 64)",
        )
    return name


_REVISION = re.compile(r"(\d{4}-\d{2}-\d{2})(\.[a-z0-9]{1,16})?")


def _parse_revision(value: str, what: str) -> str:
    text = value.strip()
    found = _REVISION.fullmatch(text)
    try:
        valid = found is not None and bool(datetime.strptime(found.group(1), "%Y-%m-%d"))
    except ValueError:
        valid = False
    if not valid:
        raise ConfigError(
            f"{what}: {values.shown(value)} is not a revision",
            hint="revisions look like 2026-07-15 (or 2026-07-15.pre)",
        )
    return text


_URL = "an http(s) URL"

SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "default_profile",
        "global",
        "Profile used without --profile.",
        _parse_profile_name,
        "a profile name: letters, digits, - and _ (1 to 64)",
        env=envvars.PROFILE,
    ),
    SettingSpec(
        "keyring_timeout",
        "global",
        "Seconds a keyring call may take (0.1 to 600).",
        _parse_keyring_timeout,
        "a number of seconds from 0.1 to 600",
        (int, float, str),
        envvars.KEYRING_TIMEOUT,
    ),
    SettingSpec(
        "webhook_tolerance",
        "global",
        "Seconds a webhook delivery may be old (1 to 604800).",
        _parse_tolerance,
        "a whole number of seconds from 1 to 604800 (7 days)",
        (int, str),
    ),
    SettingSpec(
        "base_url", "profile", "Klaviyo API base URL.", _parse_url, _URL, env=envvars.BASE_URL
    ),
    SettingSpec("authorize_url", "profile", "OAuth authorize URL.", _parse_url, _URL),
    SettingSpec("token_url", "profile", "OAuth token URL.", _parse_url, _URL),
    SettingSpec("revoke_url", "profile", "OAuth revoke URL.", _parse_url, _URL),
    SettingSpec(
        "client_id",
        "profile",
        "OAuth client id.",
        _parse_client_id,
        f"the OAuth client id: up to {CLIENT_ID_LIMIT} characters, no spaces",
        env=envvars.CLIENT_ID,
    ),
    SettingSpec(
        "redirect_port",
        "profile",
        "Loopback port for the OAuth redirect (0 to 65535).",
        _parse_port,
        "a port from 0 to 65535 (0 = any free port)",
        (int, str),
    ),
    SettingSpec(
        "revision",
        "profile",
        "Klaviyo API revision header.",
        _parse_revision,
        "a revision date such as 2026-07-15",
        env=envvars.REVISION,
    ),
    SettingSpec(
        "required_scopes",
        "profile",
        "Scopes joyctl requests and checks.",
        _parse_scopes,
        f"scopes such as reviews:read, separated by spaces (at most {SCOPES_LIMIT})",
        (str, list),
    ),
    SettingSpec(
        "webhook_endpoint",
        "profile",
        "Public URL where Klaviyo delivers review webhooks (used by diagnose --fix).",
        _parse_url,
        _URL,
    ),
    SettingSpec(
        "review_permission_cutover",
        "profile",
        "When Klaviyo began requiring review-webhook scopes.",
        _parse_datetime,
        f"an ISO 8601 date or date-time {values.MOMENT_RANGE}",
        (str, datetime),
    ),
    SettingSpec(
        "review_lookup_window",
        "profile",
        "Seconds either side of a webhook event's time searched for its review when the"
        " event names no review id.",
        _parse_lookup_window,
        "seconds, 1 to 604800 (600)",
        (int, float, str),
    ),
)
SPEC_BY_KEY = {spec.key: spec for spec in SPECS}


def spec_for(key: str) -> SettingSpec:
    try:
        return SPEC_BY_KEY[key]
    except KeyError:
        known = ", ".join(SPEC_BY_KEY)
        raise ConfigError(f"unknown setting: {key!r}", hint=f"known settings: {known}") from None


def default_value(key: str, base_url: str | None = None) -> Any:
    """Defaults; the OAuth URLs follow the base URL (Klaviyo's own authorize page is on www)."""
    base = base_url or KLAVIYO_BASE_URL
    on_klaviyo = urlsplit(base).hostname == "a.klaviyo.com"
    defaults: dict[str, Any] = {
        "default_profile": SANDBOX_PROFILE,
        "keyring_timeout": 5.0,
        "webhook_tolerance": 300,
        "base_url": KLAVIYO_BASE_URL,
        "authorize_url": KLAVIYO_AUTHORIZE_URL if on_klaviyo else f"{base}/oauth/authorize",
        "token_url": f"{base}/oauth/token",
        "revoke_url": f"{base}/oauth/revoke",
        "client_id": None,
        "redirect_port": DEFAULT_REDIRECT_PORT,
        "revision": REVISION,
        "required_scopes": list(all_required_scopes()),
        "review_permission_cutover": None,
        "webhook_endpoint": None,
        # How far a Submitted Review event's time may be from the review's `created`: not
        # documented by Klaviyo, so a setting (README, "Webhook payloads").
        "review_lookup_window": 600.0,
    }
    return defaults[key]


class _Registry(Protocol):
    def resolved(self, key: str) -> Resolved[Any]: ...


class TypedSetting(Generic[T]):
    """A typed attribute over one registry entry, named like its key.

    Values are checked when settings load (`Resolved.problem` keeps what was wrong); reading a
    setting whose given value could not be used raises that problem, so a bad value is never
    used and never silently replaced by the default.
    """

    def __init__(self, convert: Callable[[Any], T]) -> None:
        self.convert = convert
        self.key = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.key = name

    @overload
    def __get__(self, holder: None, owner: type[Any]) -> TypedSetting[T]: ...

    @overload
    def __get__(self, holder: _Registry, owner: type[Any]) -> T: ...

    def __get__(self, holder: _Registry | None, owner: type[Any]) -> TypedSetting[T] | T:
        if holder is None:
            return self
        return self.convert(holder.resolved(self.key).checked().value)

    def resolved_in(self, holder: _Registry) -> Resolved[T]:
        """The typed value together with where it came from."""
        found = holder.resolved(self.key).checked()
        return Resolved(found.key, self.convert(found.value), found.source)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _scope_list(value: Any) -> list[str]:
    return [str(scope) for scope in value]


@dataclass
class Profile:
    """One store and its Klaviyo account."""

    name: str
    values: dict[str, Resolved[Any]]
    connection: dict[str, Any] = field(default_factory=dict)

    base_url = TypedSetting(str)
    authorize_url = TypedSetting(str)
    token_url = TypedSetting(str)
    revoke_url = TypedSetting(str)
    client_id = TypedSetting(_optional_text)
    redirect_port = TypedSetting(int)
    revision = TypedSetting(str)
    required_scopes = TypedSetting(_scope_list)
    webhook_endpoint = TypedSetting(_optional_text)
    review_permission_cutover = TypedSetting(_optional_text)
    review_lookup_window = TypedSetting(float)  # seconds

    @property
    def builtin(self) -> bool:
        return self.name == SANDBOX_PROFILE

    def resolved(self, key: str) -> Resolved[Any]:
        return self.values[key]

    def problems(self) -> list[ConfigError]:
        return [found.problem for found in self.values.values() if found.problem is not None]


@dataclass
class Settings:
    paths: Paths
    file_data: dict[str, Any]
    environ: Mapping[str, str]
    profile_flag: str | None
    globals: dict[str, Resolved[Any]]

    default_profile = TypedSetting(str)
    keyring_timeout = TypedSetting(float)
    webhook_tolerance = TypedSetting(float)  # seconds, compared with clock differences

    def resolved(self, key: str) -> Resolved[Any]:
        return self.globals[key]

    @property
    def profile_name(self) -> Resolved[str]:
        if self.profile_flag is not None:
            # An empty --profile "" is a mistake, not a way to ask for the default profile.
            return Resolved("profile", _parse_profile_name(self.profile_flag, "--profile"), "flag")
        return Settings.default_profile.resolved_in(self)

    @property
    def profile(self) -> Profile:
        return self.get_profile(self.profile_name.value)

    def profile_names(self) -> list[str]:
        names = [SANDBOX_PROFILE, *self.file_data.get("profiles", {})]
        return list(dict.fromkeys(names))

    def get_profile(self, name: str) -> Profile:
        section = self.file_data.get("profiles", {}).get(name)
        if section is None and name != SANDBOX_PROFILE:
            raise NotFoundError(
                f"no profile named {name!r}",
                hint=(
                    f"see `{command('profiles', 'list', profile=None)}`, or add it:"
                    f" `{command('profiles', 'add', name, '--base-url', 'URL', profile=None)}`"
                ),
            )
        place = _Place(self.paths.config_file, name)
        return _resolve_profile(name, section or {}, self.environ, place)

    def check(self) -> None:
        """Raise the first problem of the global settings or the active profile's settings.

        Commands call this (through the AppContext) before they touch credentials, the ledger
        or the network, so a bad value stops them before anything happens.
        """
        for found in self.globals.values():
            found.checked()
        for problem in self.profile.problems():
            raise problem


@dataclass(frozen=True)
class _Place:
    """Where in config.toml a table of settings is, to name it in messages."""

    path: Path
    profile: str | None = None

    def key(self, key: str) -> str:
        section = f"[profiles.{self.profile}] " if self.profile is not None else ""
        return f"{self.path}: {section}{key}"

    def fix(self, key: str) -> str:
        flag = f"--profile {self.profile} " if self.profile is not None else ""
        return f"`joyctl {flag}config set {key} VALUE`, or edit the file"


def _resolve_profile(
    name: str, section: dict[str, Any], environ: Mapping[str, str], place: _Place
) -> Profile:
    resolved: dict[str, Resolved[Any]] = {}
    for spec in SPECS:
        if spec.scope == "profile":
            base = resolved["base_url"].value if "base_url" in resolved else None
            resolved[spec.key] = _resolve(spec, section, environ, base, place)
    if name == SANDBOX_PROFILE:
        given = resolved["base_url"]
        resolved["base_url"] = Resolved("base_url", SANDBOX_BASE_URL, "builtin", given.problem)
        if resolved["webhook_endpoint"].source == "default":
            endpoint = SANDBOX_WEBHOOK_ENDPOINT
            resolved["webhook_endpoint"] = Resolved("webhook_endpoint", endpoint, "builtin")
    return Profile(name, resolved, dict(section.get("connection", {})))


def _resolve(
    spec: SettingSpec,
    table: dict[str, Any],
    environ: Mapping[str, str],
    base: str | None,
    place: _Place,
) -> Resolved[Any]:
    fallback = default_value(spec.key, base)
    if spec.env and environ.get(spec.env):
        try:
            # A CI job sets variables far from where they fail: the message names the variable.
            return Resolved(spec.key, spec.parse(environ[spec.env], spec.env), "env")
        except ConfigError as error:
            hint = f"{error.hint}; or unset {spec.env}" if error.hint else f"unset {spec.env}"
            problem = ConfigError(error.message, hint=hint)
            return Resolved(spec.key, fallback, "env", problem)
    if spec.key in table:
        try:
            return Resolved(spec.key, _from_file(spec, table[spec.key], place), "file")
        except ConfigError as error:
            hint = f"{error.hint}; fix it with {place.fix(spec.key)}"
            return Resolved(spec.key, fallback, "file", ConfigError(error.message, hint=hint))
    return Resolved(spec.key, fallback, "default")


_KIND_WORDS = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a table",
    datetime: "a date-time",
}


def _from_file(spec: SettingSpec, value: Any, place: _Place) -> Any:
    """A value config.toml holds, checked as if it had been given with `config set`."""
    what = place.key(spec.key)
    kind = type(value)
    if kind not in spec.kinds or (isinstance(value, list) and not _all_text(value)):
        word = _KIND_WORDS.get(kind, kind.__name__)
        raise ConfigError(f"{what} = {values.shown(value)} is {word}", hint=f"use {spec.allowed}")
    text = " ".join(value) if isinstance(value, list) else str(value)
    return spec.parse(text, what)


def _all_text(items: list[Any]) -> bool:
    return all(isinstance(item, str) for item in items)


def load_settings(paths: Paths, environ: Mapping[str, str], profile_flag: str | None) -> Settings:
    """Every global setting resolved; a value that cannot be used is kept as a problem."""
    from joyctl.config_file import read_config

    data = read_config(paths.config_file)
    place = _Place(paths.config_file)
    resolved = {
        spec.key: _resolve(spec, data, environ, None, place)
        for spec in SPECS
        if spec.scope == "global"
    }
    return Settings(paths, data, environ, profile_flag, resolved)
