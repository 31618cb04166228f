"""The bad-input corpus: values a person, a CI job or a broken server can hand joyctl.

Each case is data: the arguments, the environment, config.toml, the loopback Klaviyo's answer,
and the exit code the README's table documents for that kind of problem, with a word the message
must say. `test_bad_input_corpus.py` runs every case through the real CLI.

Placeholders in arguments are paths the test makes: {events} a good JSON Lines file, {txt} a file
whose extension names no format, {dir} a folder, {missing} a path that does not exist, and
{inside_file} a path whose parent is a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from joyctl import envvars
from joyctl.errors import ExitCode

SHOP = ("-p", "shop")  # a profile whose Klaviyo is the test's loopback server
API_KEY = {envvars.API_KEY: "pk_" + "0" * 34}  # so no keyring is needed to reach that server
HUGE = "9" * 5000  # past Python's limit on digits in int()
LONG = "x" * 3000
EDGE_MOMENT = "9999-12-31T23:59:59-23:59"  # overflows when turned into UTC


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    exit: int
    says: str = ""  # the error message contains this (case ignored)
    env: Mapping[str, str] = field(default_factory=dict)
    config: str | None = None  # config.toml for this case, before the shop profile's section
    alone: bool = False  # config.toml is exactly `config`, without the shop profile
    answer: str | None = None  # how the loopback Klaviyo answers every request
    subprocess: bool = False  # also run in a fresh interpreter


def usage(
    case_id: str,
    *args: str,
    says: str = "",
    env: Mapping[str, str] | None = None,
    subprocess: bool = False,
) -> Case:
    return Case(case_id, args, ExitCode.USAGE, says, env or {}, subprocess=subprocess)


def config_case(
    case_id: str, toml: str, *args: str, says: str, subprocess: bool = False, alone: bool = False
) -> Case:
    command = args or ("config", "show")
    return Case(
        case_id, command, ExitCode.USAGE, says, config=toml, alone=alone, subprocess=subprocess
    )


def env_case(case_id: str, name: str, value: str, *args: str, subprocess: bool = False) -> Case:
    command = args or (*SHOP, "status")
    return Case(case_id, command, ExitCode.USAGE, name, {name: value}, subprocess=subprocess)


def answer(case_id: str, reply: str, code: int, *args: str, says: str = "") -> Case:
    return Case(case_id, (*SHOP, *args), code, says, API_KEY, answer=reply)


PROFILE_NAMES = [
    usage("profile-empty", "--profile", "", "status", says="--profile", subprocess=True),
    usage("profile-space", "--profile", "a b", "config", "show", says="not a profile name"),
    usage("profile-path", "--profile", "../etc", "ledger", "verify", says="not a profile name"),
    usage("profile-long", "--profile", "p" * 65, "ledger", "verify", says="1 to 64"),
    usage("profile-newline", "--profile", "a\nb", "status", says="not a profile name"),
    usage("profile-unknown", "--profile", "nosuch", "ledger", "verify", says="no profile named"),
    usage("profile-env-bad", "status", env={envvars.PROFILE: "a/b"}, says=envvars.PROFILE),
    usage(
        "profile-env-unknown", "ledger", "verify", env={envvars.PROFILE: "nosuch"}, says="nosuch"
    ),
    usage("profiles-use-bad", "profiles", "use", "a b", says="not a profile name"),
    usage("profiles-use-unknown", "profiles", "use", "nosuch", says="no profile named"),
    usage("profiles-add-bad", "profiles", "add", "a b", says="not a profile name"),
    usage("profiles-add-exists", "profiles", "add", "shop", says="exists already"),
    usage("profiles-add-url", "profiles", "add", "x", "--base-url", "notaurl", says="--base-url"),
    usage("profiles-add-ipv6", "profiles", "add", "x", "--base-url", "http://[::1", says="URL"),
    usage("profiles-add-port", "profiles", "add", "x", "--base-url", "http://h:99999", says="URL"),
    usage("profiles-add-ftp", "profiles", "add", "x", "--token-url", "ftp://x", says="--token-url"),
    usage(
        "profiles-add-redirect", "profiles", "add", "x", "--redirect-port", "99999", says="65535"
    ),
    usage("profiles-add-client", "profiles", "add", "x", "--client-id", "a b", says="client id"),
    usage("profiles-remove-unknown", "profiles", "remove", "nosuch", "--yes", says="no profile"),
    usage("profiles-remove-builtin", "profiles", "remove", "sandbox", "--yes", says="built-in"),
]

COMMAND_LINE = [
    usage("unknown-option", "--no-such-option", says="no such option"),
    usage("unknown-command", "nosuchcommand", says="no such command"),
    usage("missing-argument", "ledger", "balance", says="missing argument"),
    usage("missing-option", "ledger", "adjust", "ann@example.com", "5", says="--reason"),
    usage("format-choice", *SHOP, "diagnose", "--format", "bogus", says="--format"),
    usage("outcome-choice", "reviews", "list", "--outcome", "bogus", says="--outcome"),
    usage("status-choice", "reviews", "list", "--status", "bogus", says="--status"),
    usage("replay-status", *SHOP, "reviews", "replay", "--status", "bogus", says="--status"),
    usage(
        "simulate-type",
        "reviews",
        "simulate",
        "--email",
        "ann@example.com",
        "--content",
        "x",
        "--type",
        "bogus",
        says="--type",
    ),  # fmt: skip
    usage(
        "submit-type",
        *SHOP,
        "reviews",
        "submit",
        "--email",
        "ann@example.com",
        "--content",
        "x",
        "--type",
        "bogus",
        says="--type",
    ),  # fmt: skip
    usage("simulate-nothing", "reviews", "simulate", says="nothing to simulate"),
    usage("replay-push-dry", *SHOP, "reviews", "replay", "--push", "--dry-run", says="--dry-run"),
    usage("program-set-nothing", "program", "set", says="KEY VALUE"),
    usage("program-set-key", "program", "set", "nosuch", "1", says="nosuch"),
    usage("sandbox-reset-scenario", "sandbox", "reset", "--scenario", "nosuch", says="nosuch"),
]

ENVIRONMENT = [
    env_case("base-url-word", envvars.BASE_URL, "notaurl", subprocess=True),
    env_case("base-url-empty-host", envvars.BASE_URL, "http://"),
    env_case("base-url-ipv6", envvars.BASE_URL, "http://[::1"),
    env_case("base-url-port", envvars.BASE_URL, "http://127.0.0.1:99999"),
    env_case("base-url-space", envvars.BASE_URL, "https://exa mple.com"),
    env_case("base-url-ftp", envvars.BASE_URL, "ftp://a.klaviyo.com"),
    env_case("base-url-control", envvars.BASE_URL, "http://a\x01b"),
    env_case("base-url-long", envvars.BASE_URL, "https://a.klaviyo.com/" + LONG),
    env_case("base-url-sandbox", envvars.BASE_URL, "notaurl", "config", "show"),
    env_case("timeout-nan", envvars.KEYRING_TIMEOUT, "nan", subprocess=True),
    env_case("timeout-inf", envvars.KEYRING_TIMEOUT, "inf"),
    env_case("timeout-minus-inf", envvars.KEYRING_TIMEOUT, "-inf"),
    env_case("timeout-negative", envvars.KEYRING_TIMEOUT, "-1"),
    env_case("timeout-zero", envvars.KEYRING_TIMEOUT, "0"),
    env_case("timeout-tiny", envvars.KEYRING_TIMEOUT, "1e-300", subprocess=True),
    env_case("timeout-huge", envvars.KEYRING_TIMEOUT, "1e400"),
    env_case("timeout-over", envvars.KEYRING_TIMEOUT, "601"),
    env_case("timeout-word", envvars.KEYRING_TIMEOUT, "soon"),
    env_case("timeout-digits", envvars.KEYRING_TIMEOUT, HUGE),
    env_case("timeout-hex", envvars.KEYRING_TIMEOUT, "0x10"),
    env_case("timeout-unit", envvars.KEYRING_TIMEOUT, "5s", "config", "show"),
    env_case("revision-word", envvars.REVISION, "bogus"),
    env_case("revision-calendar", envvars.REVISION, "2026-13-45"),
    env_case("revision-long", envvars.REVISION, "2026-01-01." + LONG),
    env_case("client-id-space", envvars.CLIENT_ID, "a b"),
    env_case("client-id-control", envvars.CLIENT_ID, "a\x7fb"),
    env_case("client-id-long", envvars.CLIENT_ID, LONG),
    Case(
        "home-is-a-file",
        ("config", "show"),
        ExitCode.USAGE,
        "cannot read",
        env={envvars.HOME: "{txt}"},
    ),  # fmt: skip
]

CONFIG_FILE = [
    config_case(
        "toml-timeout-nan",
        "keyring_timeout = nan\n",
        *SHOP,
        "status",
        says="keyring_timeout",
        subprocess=True,
    ),  # fmt: skip
    config_case("toml-timeout-inf", "keyring_timeout = inf\n", *SHOP, "status", says="0.1 to 600"),
    config_case("toml-timeout-negative", "keyring_timeout = -1\n", says="keyring_timeout"),
    config_case("toml-timeout-zero", "keyring_timeout = 0\n", says="keyring_timeout"),
    config_case(
        "toml-timeout-tiny", "keyring_timeout = 1e-300\n", *SHOP, "status", says="keyring_timeout"
    ),  # fmt: skip
    config_case("toml-timeout-text", 'keyring_timeout = "abc"\n', says="keyring_timeout"),
    config_case("toml-timeout-bool", "keyring_timeout = true\n", says="true or false"),
    config_case("toml-timeout-list", "keyring_timeout = [1]\n", says="a list"),
    config_case("toml-timeout-table", "keyring_timeout = {a = 1}\n", says="a table"),
    config_case("toml-tolerance-float", "webhook_tolerance = 1.5\n", says="webhook_tolerance"),
    config_case("toml-tolerance-negative", "webhook_tolerance = -5\n", says="604800"),
    config_case("toml-tolerance-huge", "webhook_tolerance = 99999999999\n", says="out of range"),
    config_case("toml-default-number", "default_profile = 5\n", says="default_profile"),
    config_case("toml-default-bad", 'default_profile = "a b"\n', says="default_profile"),
    config_case(
        "toml-default-unknown",
        'default_profile = "nosuch"\n',
        "ledger",
        "verify",
        says="no profile named",
    ),  # fmt: skip
    config_case(
        "toml-profiles-number", "profiles = 5\n", says="profiles is not a table", alone=True
    ),
    config_case("toml-profile-number", "[profiles]\nother = 5\n", says="profiles.other"),
    config_case(
        "toml-connection-number",
        "[profiles.other]\nconnection = 5\n",
        says="connection is not a table",
    ),  # fmt: skip
    config_case(
        "toml-base-url-number",
        "[profiles.other]\nbase_url = 5\n",
        "-p",
        "other",
        "status",
        says="base_url",
    ),  # fmt: skip
    config_case(
        "toml-base-url-ftp",
        '[profiles.other]\nbase_url = "ftp://x"\n',
        "-p",
        "other",
        "status",
        says="[profiles.other] base_url",
    ),  # fmt: skip
    config_case(
        "toml-redirect-text",
        '[profiles.other]\nredirect_port = "abc"\n',
        "-p",
        "other",
        "connect",
        says="redirect_port",
    ),  # fmt: skip
    config_case(
        "toml-redirect-range",
        "[profiles.other]\nredirect_port = 99999\n",
        "-p",
        "other",
        "config",
        "show",
        says="65535",
    ),  # fmt: skip
    config_case(
        "toml-scopes-number",
        "[profiles.other]\nrequired_scopes = 5\n",
        "-p",
        "other",
        "status",
        says="required_scopes",
    ),  # fmt: skip
    config_case(
        "toml-scopes-word",
        '[profiles.other]\nrequired_scopes = ["nocolon"]\n',
        "-p",
        "other",
        "status",
        says="not a scope",
    ),  # fmt: skip
    config_case(
        "toml-scopes-numbers",
        "[profiles.other]\nrequired_scopes = [1, 2]\n",
        "-p",
        "other",
        "status",
        says="required_scopes",
    ),  # fmt: skip
    config_case(
        "toml-revision-number",
        "[profiles.other]\nrevision = 5\n",
        "-p",
        "other",
        "status",
        says="revision",
    ),  # fmt: skip
    config_case(
        "toml-client-id-list",
        "[profiles.other]\nclient_id = [1]\n",
        "-p",
        "other",
        "config",
        "show",
        says="client_id",
    ),  # fmt: skip
    config_case(
        "toml-cutover-word",
        '[profiles.other]\nreview_permission_cutover = "x"\n',
        "-p",
        "other",
        "status",
        says="review_permission_cutover",
    ),  # fmt: skip
    config_case(
        "toml-cutover-number",
        "[profiles.other]\nreview_permission_cutover = 1\n",
        "-p",
        "other",
        "status",
        says="review_permission_cutover",
    ),  # fmt: skip
    config_case(
        "toml-endpoint-word",
        '[profiles.other]\nwebhook_endpoint = "x"\n',
        "-p",
        "other",
        "status",
        says="webhook_endpoint",
    ),  # fmt: skip
    config_case("toml-invalid", "keyring_timeout = \n", says="not valid TOML"),
    config_case("toml-deep", "a = " + "[" * 5000 + "]" * 5000 + "\n", says="too deeply"),
    config_case("toml-huge", "# " + "x" * (1024 * 1024) + "\n", says="larger than"),
    config_case(
        "toml-sandbox-env-and-file",
        "keyring_timeout = inf\n",
        "config",
        "show",
        says="keyring_timeout",
    ),  # fmt: skip
]

CONFIG_SET = [
    usage(f"set-{key}-{label}", "config", "set", key, value, says=key if says is None else says)
    for key, label, value, says in [
        ("keyring_timeout", "inf", "inf", None),
        ("keyring_timeout", "nan", "nan", None),
        ("keyring_timeout", "huge", "1e400", None),
        ("keyring_timeout", "tiny", "1e-300", None),
        ("keyring_timeout", "zero", "0", None),
        ("keyring_timeout", "over", "601", None),
        ("keyring_timeout", "empty", "", None),
        ("keyring_timeout", "digits", HUGE, None),
        ("keyring_timeout", "comma", "1,5", None),
        ("webhook_tolerance", "zero", "0", None),
        ("webhook_tolerance", "fraction", "1.5", None),
        ("webhook_tolerance", "over", "604801", None),
        ("webhook_tolerance", "huge", "99999999999999999999999", None),
        ("redirect_port", "over", "65536", None),
        ("redirect_port", "negative", "-1", None),
        ("redirect_port", "float", "1e5", None),
        ("revision", "word", "bogus", None),
        ("revision", "calendar", "2026-02-30", None),
        ("required_scopes", "word", "nocolon", None),
        ("required_scopes", "empty", "", None),
        ("review_permission_cutover", "word", "soon", None),
        ("review_permission_cutover", "early", "0001-01-01", None),
        ("review_permission_cutover", "edge", EDGE_MOMENT, None),
        ("default_profile", "unknown", "nosuch", "no profile named"),
        ("default_profile", "bad", "a b", None),
        ("client_id", "space", "a b", None),
        ("webhook_endpoint", "word", "notaurl", None),
        ("token_url", "newline", "https://a.klaviyo.com/\nx", None),
    ]
] + [
    usage("set-base-url-sandbox", "config", "set", "base_url", "http://h", says="built-in"),
    usage("set-base-url-word", *SHOP, "config", "set", "base_url", "notaurl", says="base_url"),
    usage("set-unknown", "config", "set", "colour", "blue", says="unknown setting"),
    usage("get-unknown", "config", "get", "colour", says="unknown setting"),
]

DATES = [
    usage(
        "replay-since-word",
        *SHOP,
        "reviews",
        "replay",
        "--since",
        "bogus",
        says="--since",
        subprocess=True,
    ),  # fmt: skip
    usage("replay-since-month", *SHOP, "reviews", "replay", "--since", "2026-13-01", says="ISO"),
    usage("replay-since-edge", *SHOP, "reviews", "replay", "--since", EDGE_MOMENT, says="range"),
    usage("replay-since-early", *SHOP, "reviews", "replay", "--since", "0001-01-01", says="range"),
    usage("replay-since-1969", *SHOP, "reviews", "replay", "--since", "1969-12-31", says="1970"),
    usage("replay-since-empty", *SHOP, "reviews", "replay", "--since", "", says="--since"),
    usage("replay-since-long", *SHOP, "reviews", "replay", "--since", LONG, says="--since"),
    usage("replay-since-hour", *SHOP, "reviews", "replay", "--since", "2026-01-01T25:00"),
    usage("replay-until-word", *SHOP, "reviews", "replay", "--until", "later", says="--until"),
    usage(
        "replay-window",
        *SHOP,
        "reviews",
        "replay",
        "--since",
        "2026-02-01",
        "--until",
        "2026-01-01",
        says="after --until",
    ),  # fmt: skip
    usage("webhooks-replay-since", "webhooks", "replay", "--since", "yesterday", says="--since"),
    usage("webhooks-replay-edge", "webhooks", "replay", "--since", EDGE_MOMENT, says="range"),
    usage("diagnose-since-word", *SHOP, "diagnose", "--since", "bogus", says="--since"),
    usage("diagnose-since-edge", *SHOP, "diagnose", "--since", EDGE_MOMENT, says="range"),
    usage("backfill-since-word", *SHOP, "backfill", "events", "--since", "bogus"),
    usage(
        "backfill-since-edge",
        *SHOP,
        "backfill",
        "events",
        "--since",
        EDGE_MOMENT,
        "--dry-run",
        says="range",
    ),  # fmt: skip
    usage("backfill-until-edge", *SHOP, "backfill", "events", "--until", "10000-01-01"),
    usage(
        "backfill-window",
        *SHOP,
        "backfill",
        "events",
        "--since",
        "2026-02-01",
        "--until",
        "2026-01-01",
        says="after --until",
    ),  # fmt: skip
    usage("backfill-profiles-since", *SHOP, "backfill", "profiles", "--since", "bogus"),
    usage(
        "simulate-created",
        "reviews",
        "simulate",
        "--email",
        "ann@example.com",
        "--content",
        "x",
        "--created",
        "bogus",
        says="--created",
    ),  # fmt: skip
    usage(
        "simulate-created-edge",
        "reviews",
        "simulate",
        "--email",
        "ann@example.com",
        "--content",
        "x",
        "--created",
        EDGE_MOMENT,
        says="range",
    ),  # fmt: skip
    usage(
        "simulate-connected-at",
        "reviews",
        "simulate",
        "--email",
        "ann@example.com",
        "--content",
        "x",
        "--connected-at",
        "bogus",
        says="--connected-at",
    ),  # fmt: skip
    usage("audience-after-word", "audiences", "create", "x", "--last-activity-after", "soon"),
    usage(
        "audience-after-edge",
        "audiences",
        "create",
        "x",
        "--last-activity-after",
        EDGE_MOMENT,
        says="neither a date nor an age",
    ),  # fmt: skip
    usage(
        "audience-before-age",
        "audiences",
        "create",
        "x",
        "--last-activity-before",
        "99999999999d",
        says="neither a date nor an age",
    ),  # fmt: skip
]

NUMBERS_AND_IDS = [
    usage(
        "adjust-huge",
        *SHOP,
        "ledger",
        "adjust",
        "ann@example.com",
        "99999999999999999999",
        "--reason",
        "x",
        says="points",
        subprocess=True,
    ),  # fmt: skip
    usage(
        "adjust-negative-huge",
        *SHOP,
        "ledger",
        "adjust",
        "ann@example.com",
        "-1000000001",
        "--reason",
        "x",
        says="points",
    ),  # fmt: skip
    usage("adjust-digits", *SHOP, "ledger", "adjust", "ann@example.com", HUGE, "--reason", "x"),
    usage("adjust-fraction", *SHOP, "ledger", "adjust", "ann@example.com", "1.5", "--reason", "x"),
    usage("adjust-word", *SHOP, "ledger", "adjust", "ann@example.com", "many", "--reason", "x"),
    usage(
        "adjust-reason-newline",
        *SHOP,
        "ledger",
        "adjust",
        "ann@example.com",
        "5",
        "--reason",
        "a\nb",
        says="--reason",
    ),  # fmt: skip
    usage(
        "adjust-reason-long",
        *SHOP,
        "ledger",
        "adjust",
        "ann@example.com",
        "5",
        "--reason",
        LONG,
        says="--reason",
    ),  # fmt: skip
    usage(
        "adjust-key-long",
        *SHOP,
        "ledger",
        "adjust",
        "ann@example.com",
        "5",
        "--reason",
        "x",
        "--idempotency-key",
        LONG,
        says="--idempotency-key",
    ),  # fmt: skip
    usage("history-before-zero", *SHOP, "ledger", "history", "ann@example.com", "--before", "0"),
    usage(
        "history-before-huge",
        *SHOP,
        "ledger",
        "history",
        "ann@example.com",
        "--before",
        "99999999999999999999",
    ),  # fmt: skip
    usage("history-before-digits", *SHOP, "ledger", "history", "ann@example.com", "--before", HUGE),
    usage("history-limit-zero", *SHOP, "ledger", "history", "ann@example.com", "--limit", "0"),
    usage("history-limit-huge", *SHOP, "ledger", "history", "ann@example.com", "--limit", HUGE),
    usage("reviews-limit-zero", "reviews", "list", "--limit", "0", says="--limit"),
    usage("reviews-limit-over", "reviews", "list", "--limit", "10001", says="--limit"),
    usage("reviews-limit-huge", "reviews", "list", "--limit", "99999999999999999999999"),
    usage("reviews-show-empty", "reviews", "show", "", says="REVIEW_ID"),
    usage("reviews-show-long", "reviews", "show", LONG, says="too long"),
    usage("reviews-show-control", "reviews", "show", "a\x1bb", says="control characters"),
    usage("reviews-show-unknown", "reviews", "show", "99999999999999999999", says="not in the"),
    usage("replay-id-empty", *SHOP, "reviews", "replay", "--id", "", says="--id"),
    usage("webhooks-replay-id-zero", "webhooks", "replay", "--id", "0", says="--id"),
    usage("webhooks-replay-id-huge", "webhooks", "replay", "--id", "99999999999999999999999"),
    usage("webhooks-replay-id-word", "webhooks", "replay", "--id", "abc", says="--id"),
    usage("webhooks-replay-id-unknown", "webhooks", "replay", "--id", "42", says="42"),
    usage("webhook-enable-empty", *SHOP, "webhooks", "enable", "", says="WEBHOOK_ID"),
    usage("webhook-disable-long", *SHOP, "webhooks", "disable", LONG, says="too long"),
    usage("webhook-delete-empty", *SHOP, "webhooks", "delete", "", "--yes", says="WEBHOOK_ID"),
    usage(
        "webhook-create-url",
        *SHOP,
        "webhooks",
        "create",
        "--endpoint",
        "notaurl",
        says="--endpoint",
        subprocess=True,
    ),  # fmt: skip
    usage(
        "webhook-create-http",
        *SHOP,
        "webhooks",
        "create",
        "--endpoint",
        "http://hooks.example.com/x",
        says="https",
    ),  # fmt: skip
    usage("webhook-create-ipv6", *SHOP, "webhooks", "create", "--endpoint", "https://[::1"),
    usage(
        "webhook-create-name",
        *SHOP,
        "webhooks",
        "create",
        "--endpoint",
        "https://hooks.example.com/x",
        "--name",
        "a\nb",
        says="--name",
    ),  # fmt: skip
    usage("points-least-negative", "audiences", "create", "x", "--points-at-least", "-1"),
    usage(
        "points-least-huge",
        "audiences",
        "create",
        "x",
        "--points-at-least",
        "99999999999999999999999",
    ),  # fmt: skip
    usage("points-most-huge", "audiences", "create", "x", "--points-at-most", "1000000001"),
    usage(
        "points-crossed",
        "audiences",
        "create",
        "x",
        "--points-at-least",
        "10",
        "--points-at-most",
        "5",
        says="swap",
    ),  # fmt: skip
    usage("birthday-month-zero", "audiences", "create", "x", "--birthday-month", "0"),
    usage(
        "birthday-month-huge",
        "audiences",
        "create",
        "x",
        "--birthday-month",
        "99999999999999999999999",
    ),  # fmt: skip
    usage("audience-status", "audiences", "create", "x", "--status", "bogus", says="--status"),
    usage("audience-tier", "audiences", "create", "x", "--tier", "", says="--tier"),
    usage("audience-sample-negative", "audiences", "show", "x", "--sample", "-1"),
    usage("audience-show-unknown", "audiences", "show", "nosuch", says="nosuch"),
    usage(
        "audience-map-unknown",
        *SHOP,
        "audiences",
        "map",
        "nosuch",
        "--list",
        "Abc123",
        says="nosuch",
    ),  # fmt: skip
    usage("audience-map-both", *SHOP, "audiences", "map", "x", "--list", "A", "--list-name", "B"),
    usage("audience-map-neither", *SHOP, "audiences", "map", "x", says="--list"),
    usage("audience-sync-unknown", *SHOP, "audiences", "sync", "nosuch", says="nosuch"),
    usage("program-history-limit", "program", "history", "--limit", "0", says="--limit"),
    usage("program-history-huge", "program", "history", "--limit", "99999999999999999999999"),
    usage("program-points-nan", "program", "set", "points_per_review", "nan"),
    usage("program-points-negative", "program", "set", "points_per_review", "-5"),
    usage("program-points-huge", "program", "set", "points_per_review", HUGE),
    usage("backfill-status-limit", "backfill", "status", "--limit", "0", says="--limit"),
    usage("backfill-status-huge", "backfill", "status", "--limit", "99999999999999999999999"),
    usage("backfill-status-unknown", "backfill", "status", "nosuch", says="nosuch"),
    usage("backfill-batch-zero", *SHOP, "backfill", "events", "--batch-size", "0"),
    usage("backfill-batch-over", *SHOP, "backfill", "events", "--batch-size", "1001"),
    usage(
        "backfill-resume-unknown",
        *SHOP,
        "backfill",
        "events",
        "--resume",
        "nosuch",
        says="nosuch",
        subprocess=True,
    ),  # fmt: skip
    usage(
        "backfill-resume-options",
        *SHOP,
        "backfill",
        "events",
        "--resume",
        "x",
        "--since",
        "2026-01-01",
        says="--resume",
    ),  # fmt: skip
    usage("backfill-profiles-resume", *SHOP, "backfill", "profiles", "--resume", "nosuch"),
    usage("smoke-timeout-zero", *SHOP, "smoke", "--timeout", "0", says="--timeout"),
    usage("smoke-timeout-nan", *SHOP, "smoke", "--timeout", "nan", says="--timeout"),
    usage("smoke-timeout-inf", *SHOP, "smoke", "--timeout", "inf", says="--timeout"),
    usage("smoke-timeout-over", *SHOP, "smoke", "--timeout", "3601", says="--timeout"),
    usage("connect-timeout-inf", *SHOP, "connect", "--timeout", "inf", says="--timeout"),
    usage("connect-timeout-zero", *SHOP, "connect", "--timeout", "0", says="--timeout"),
    usage("listen-port-over", "webhooks", "listen", "--port", "99999", says="--port"),
    usage("listen-port-negative", "webhooks", "listen", "--port", "-1", says="--port"),
    usage("listen-tolerance-zero", "webhooks", "listen", "--tolerance", "0"),
    usage("listen-tolerance-over", "webhooks", "listen", "--tolerance", "604801"),
    usage("listen-max-body-small", "webhooks", "listen", "--max-body", "0"),
    usage("listen-max-body-huge", "webhooks", "listen", "--max-body", "99999999999999999999"),
    usage("listen-path", "webhooks", "listen", "--path", "hooks", says="start with '/'"),
    usage("sandbox-port", "sandbox", "serve", "--port", "99999", says="out of range"),
]

EMAILS = [
    usage("balance-not-email", *SHOP, "ledger", "balance", "notanemail", says="email"),
    usage("balance-empty", *SHOP, "ledger", "balance", "", says="email"),
    usage("balance-half", *SHOP, "ledger", "balance", "a@", says="email"),
    usage("balance-long", *SHOP, "ledger", "balance", "a" * 400 + "@example.com"),
    usage("balance-unknown", *SHOP, "ledger", "balance", "nobody@example.com", says="no customer"),
    usage("history-not-email", *SHOP, "ledger", "history", "notanemail", says="email"),
    usage("adjust-not-email", *SHOP, "ledger", "adjust", "notanemail", "5", "--reason", "x"),
    usage(
        "diagnose-email",
        *SHOP,
        "diagnose",
        "--email",
        "notanemail",
        says="--email",
        subprocess=True,
    ),  # fmt: skip
    usage(
        "simulate-email",
        "reviews",
        "simulate",
        "--email",
        "notanemail",
        "--content",
        "x",
        says="--email",
    ),  # fmt: skip
    usage(
        "submit-email",
        *SHOP,
        "reviews",
        "submit",
        "--email",
        "bad",
        "--content",
        "x",
        says="--email",
    ),  # fmt: skip
    usage(
        "submit-rating",
        *SHOP,
        "reviews",
        "submit",
        "--email",
        "ann@example.com",
        "--content",
        "x",
        "--rating",
        "9",
        says="--rating",
    ),  # fmt: skip
]

FILES = [
    usage("import-missing", *SHOP, "ledger", "import", "{missing}", says="does not exist"),
    usage("import-folder", *SHOP, "ledger", "import", "{dir}", says="directory"),
    usage("import-extension", *SHOP, "ledger", "import", "{txt}", says="format"),
    usage(
        "import-format", *SHOP, "ledger", "import", "{events}", "--format", "xml", says="format"
    ),  # fmt: skip
    usage(
        "import-quarantine-folder", *SHOP, "ledger", "import", "{events}", "--quarantine", "{dir}"
    ),  # fmt: skip
    usage(
        "import-quarantine-inside",
        *SHOP,
        "ledger",
        "import",
        "{events}",
        "--quarantine",
        "{inside_file}",
        says="not a folder",
    ),  # fmt: skip
    usage("export-folder", *SHOP, "ledger", "export", "--output", "{dir}"),
    usage(
        "export-inside", *SHOP, "ledger", "export", "--output", "{inside_file}", says="not a folder"
    ),  # fmt: skip
    usage("export-format", *SHOP, "ledger", "export", "--format", "xml", says="format"),
    usage("backup-folder", *SHOP, "ledger", "backup", "{dir}"),
    usage("backup-inside", *SHOP, "ledger", "backup", "{inside_file}", says="not a folder"),
    usage(
        "backfill-source-missing",
        *SHOP,
        "backfill",
        "events",
        "--source",
        "{missing}",
        says="does not exist",
        subprocess=True,
    ),  # fmt: skip
    usage(
        "backfill-source-folder", *SHOP, "backfill", "events", "--source", "{dir}", says="folder"
    ),  # fmt: skip
    usage(
        "backfill-source-extension", *SHOP, "backfill", "events", "--source", "{txt}", says="format"
    ),  # fmt: skip
    usage(
        "backfill-ledger-format", *SHOP, "backfill", "events", "--format", "csv", says="--format"
    ),  # fmt: skip
    usage(
        "backfill-quarantine-inside",
        *SHOP,
        "backfill",
        "events",
        "--source",
        "{events}",
        "--quarantine",
        "{inside_file}",
        says="not a folder",
    ),  # fmt: skip
    usage(
        "backfill-quarantine-input",
        *SHOP,
        "backfill",
        "events",
        "--source",
        "{events}",
        "--quarantine",
        "{events}",
        says="input file",
    ),  # fmt: skip
    usage("simulate-file-missing", "reviews", "simulate", "--file", "{missing}"),
    usage("simulate-file-folder", "reviews", "simulate", "--file", "{dir}", says="folder"),
    usage("program-file-missing", "program", "set", "--from-file", "{missing}"),
    usage("program-file-folder", "program", "set", "--from-file", "{dir}"),
    usage("smoke-junit-folder", *SHOP, "smoke", "--junit", "{dir}", says="--junit"),
    usage("smoke-junit-inside", *SHOP, "smoke", "--junit", "{inside_file}", says="--junit"),
    usage(
        "diagnose-bundle-inside", *SHOP, "diagnose", "--bundle", "{inside_file}", says="--bundle"
    ),  # fmt: skip
    usage("diagnose-bundle-folder", *SHOP, "diagnose", "--bundle", "{dir}", says="--bundle"),
]

ANSWERS = [
    answer("status-text", "text", ExitCode.DATA, "status", says="not a JSON document"),
    answer("status-json-list", "json_list", ExitCode.DATA, "status"),
    answer("status-empty", "empty", ExitCode.DATA, "status", says="no body"),
    answer("status-no-account", "not_jsonapi", ExitCode.DATA, "status", says="Account"),
    answer("status-501", "html_501", ExitCode.REMOTE, "status", says="501"),
    answer("status-429", "rate_limited", ExitCode.REMOTE, "status", says="throttling"),
    answer("status-401", "unauthorized", ExitCode.AUTH, "status", says="credentials"),
    answer("webhooks-list-text", "text", ExitCode.DATA, "webhooks", "list"),
    answer("webhooks-list-501", "html_501", ExitCode.REMOTE, "webhooks", "list"),
    answer("webhooks-topics-text", "text", ExitCode.DATA, "webhooks", "topics"),
    answer("replay-text", "text", ExitCode.DATA, "reviews", "replay", says="not a JSON"),
    answer("replay-429", "rate_limited", ExitCode.REMOTE, "reviews", "replay"),
    answer("replay-401", "unauthorized", ExitCode.AUTH, "reviews", "replay"),
]

CASES: list[Case] = [
    *PROFILE_NAMES,
    *COMMAND_LINE,
    *ENVIRONMENT,
    *CONFIG_FILE,
    *CONFIG_SET,
    *DATES,
    *NUMBERS_AND_IDS,
    *EMAILS,
    *FILES,
    *ANSWERS,
]
