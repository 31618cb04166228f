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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar, overload
from urllib.parse import urlsplit

from joyctl import envvars
from joyctl.api_contract import REVISION, all_required_scopes
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


@dataclass(frozen=True)
class SettingSpec:
    key: str
    scope: Scope
    help: str
    parse: Callable[[str], Any]
    env: str | None = None


@dataclass(frozen=True)
class Resolved(Generic[T]):
    key: str
    value: T
    source: Source


def _parse_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError(f"not an http(s) URL: {value!r}", hint="e.g. https://a.klaviyo.com")
    return value.strip().rstrip("/")


def _parse_port(value: str) -> int:
    port = _parse_int(value)
    if not 0 <= port <= 65535:
        raise ConfigError(f"port out of range: {value}", hint="use 0 to 65535 (0 = any free port)")
    return port


def _parse_int(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"not a whole number: {value!r}") from exc


def _parse_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError as exc:
        raise ConfigError(f"not a number of seconds: {value!r}") from exc
    if seconds <= 0:
        raise ConfigError(f"must be more than 0 seconds: {value}")
    return seconds


def _parse_scopes(value: str) -> list[str]:
    scopes = [part for part in value.replace(",", " ").split() if part]
    bad = [scope for scope in scopes if ":" not in scope]
    if bad:
        raise ConfigError(f"not a scope: {bad[0]!r}", hint="scopes look like reviews:read")
    return scopes


def _parse_datetime(value: str) -> str:
    try:
        return datetime.fromisoformat(value.strip()).isoformat()
    except ValueError as exc:
        raise ConfigError(
            f"not an ISO 8601 date or time: {value!r}", hint="e.g. 2025-06-01"
        ) from exc


def _parse_profile_name(value: str) -> str:
    name = value.strip()
    if not name or not all(ch.isalnum() or ch in "-_" for ch in name) or len(name) > 64:
        raise ConfigError(
            f"invalid profile name: {value!r}", hint="use letters, digits, - and _ (up to 64)"
        )
    return name


def _parse_revision(value: str) -> str:
    head = value.strip().split(".")[0]
    try:
        datetime.strptime(head, "%Y-%m-%d")
    except ValueError as exc:
        raise ConfigError(
            f"not a revision: {value!r}", hint="revisions look like 2026-07-15"
        ) from exc
    return value.strip()


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "default_profile",
        "global",
        "Profile used without --profile.",
        _parse_profile_name,
        envvars.PROFILE,
    ),
    SettingSpec(
        "keyring_timeout",
        "global",
        "Seconds a keyring call may take.",
        _parse_seconds,
        envvars.KEYRING_TIMEOUT,
    ),
    SettingSpec(
        "webhook_tolerance", "global", "Seconds a webhook delivery may be old.", _parse_int
    ),
    SettingSpec("base_url", "profile", "Klaviyo API base URL.", _parse_url, envvars.BASE_URL),
    SettingSpec("authorize_url", "profile", "OAuth authorize URL.", _parse_url),
    SettingSpec("token_url", "profile", "OAuth token URL.", _parse_url),
    SettingSpec("revoke_url", "profile", "OAuth revoke URL.", _parse_url),
    SettingSpec("client_id", "profile", "OAuth client id.", str.strip, envvars.CLIENT_ID),
    SettingSpec("redirect_port", "profile", "Loopback port for the OAuth redirect.", _parse_port),
    SettingSpec(
        "revision", "profile", "Klaviyo API revision header.", _parse_revision, envvars.REVISION
    ),
    SettingSpec("required_scopes", "profile", "Scopes joyctl requests and checks.", _parse_scopes),
    SettingSpec(
        "webhook_endpoint",
        "profile",
        "Public URL where Klaviyo delivers review webhooks (used by diagnose --fix).",
        _parse_url,
    ),
    SettingSpec(
        "review_permission_cutover",
        "profile",
        "When Klaviyo began requiring review-webhook scopes.",
        _parse_datetime,
    ),
    SettingSpec(
        "review_lookup_window",
        "profile",
        "Seconds either side of a webhook event's time searched for its review when the"
        " event names no review id.",
        _parse_seconds,
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

    The value is converted when it is read, not when settings load, so a hand-edited value of
    the wrong type fails where it is used, as the casts this replaces did.
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
        return self.convert(holder.resolved(self.key).value)

    def resolved_in(self, holder: _Registry) -> Resolved[T]:
        """The typed value together with where it came from."""
        found = holder.resolved(self.key)
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
        if self.profile_flag:
            return Resolved("profile", _parse_profile_name(self.profile_flag), "flag")
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
                    "see `joyctl profiles list`, or add it:"
                    f" joyctl profiles add {name} --base-url URL"
                ),
            )
        return _resolve_profile(name, section or {}, self.environ)


def _resolve_profile(name: str, section: dict[str, Any], environ: Mapping[str, str]) -> Profile:
    values: dict[str, Resolved[Any]] = {}
    for spec in SPECS:
        if spec.scope == "profile":
            base = values["base_url"].value if "base_url" in values else None
            values[spec.key] = _resolve(spec, section, environ, base)
    if name == SANDBOX_PROFILE:
        values["base_url"] = Resolved("base_url", SANDBOX_BASE_URL, "builtin")
        if values["webhook_endpoint"].source == "default":
            endpoint = SANDBOX_WEBHOOK_ENDPOINT
            values["webhook_endpoint"] = Resolved("webhook_endpoint", endpoint, "builtin")
    return Profile(name, values, dict(section.get("connection", {})))


def _resolve(
    spec: SettingSpec, table: dict[str, Any], environ: Mapping[str, str], base: str | None
) -> Resolved[Any]:
    if spec.env and environ.get(spec.env):
        try:
            return Resolved(spec.key, spec.parse(environ[spec.env]), "env")
        except ConfigError as error:
            # A CI job sets variables far from where they fail; say which one is wrong.
            hint = error.hint or f"fix or unset {spec.env}"
            raise ConfigError(f"{spec.env}: {error.message}", hint=hint) from None
    if spec.key in table:
        return Resolved(spec.key, table[spec.key], "file")
    return Resolved(spec.key, default_value(spec.key, base), "default")


def load_settings(paths: Paths, environ: Mapping[str, str], profile_flag: str | None) -> Settings:
    from joyctl.config_file import read_config

    data = read_config(paths.config_file)
    resolved = {
        spec.key: _resolve(spec, data, environ, None) for spec in SPECS if spec.scope == "global"
    }
    return Settings(paths, data, environ, profile_flag, resolved)
