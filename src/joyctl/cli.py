"""The root command and the single error boundary.

`main()` is the only place where exceptions become output and an exit status: JoyctlError
subclasses print their message and hint (or the JSON error envelope); anything else is an
internal error that shows a traceback (without local variables) only with --debug.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from joyctl import __version__, envvars
from joyctl.commands import COMPLETE_VAR
from joyctl.context import AppContext, GlobalOptions, truthy
from joyctl.errors import ExitCode, JoyctlError, UsageError, hint_for

HELP = """Administer a Shopify loyalty program and its Klaviyo integration.

Global options may come before or after the command: `joyctl status --json` and `joyctl --json
status` are the same. Files to read or write may be given as - for stdin or stdout.

Examples:
  joyctl --profile sandbox diagnose    # the built-in sandbox needs no account
  joyctl completion bash > ~/.local/share/bash-completion/completions/joyctl
"""


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"joyctl {__version__}\n")
        raise typer.Exit()


def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", "-p", help="Profile to use (env JOYCTL_PROFILE).", show_default=False
        ),
    ] = None,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print a JSON envelope on stdout (env JOYCTL_JSON).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only data and errors.")
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="Say more on stderr (repeatable).")
    ] = 0,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Log HTTP traffic (secrets redacted) and show tracebacks."),
    ] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="No colour (NO_COLOR is honoured too).")
    ] = False,
    no_input: Annotated[
        bool,
        typer.Option("--no-input", help="Never prompt; fail naming the missing flag instead."),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Administer a Shopify loyalty program and its Klaviyo integration."""
    app = ctx.find_object(AppContext)
    if app is None:
        app = AppContext()
        ctx.obj = app
    app.configure(GlobalOptions(profile, json_mode, quiet, verbose, debug, no_color, no_input))


def build_app() -> typer.Typer:
    from joyctl.commands import register

    app = typer.Typer(
        name="joyctl",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    register(app)
    return app


@functools.cache
def build_command() -> Any:
    """The command tree the parser runs, with help made readable at 80 columns.

    Built once per process: it is stateless, and building it is most of the cost of a command
    that stops at a usage error (tests run thousands in one process). Its help is plain text,
    never Rich markup: under --json a group run without a command raises an error built from
    its help, which the rich formatter would print on stdout ahead of the JSON envelope. The
    root loads its commands lazily and makes each readable as it loads it.
    """
    from joyctl.commands._help import make_readable

    return make_readable(typer.main.get_command(build_app()))


def run(argv: Sequence[str] | None = None, app: AppContext | None = None) -> int:
    """Run joyctl and return its exit status; nothing escapes as an exception."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        # The most common call of all answers without building the command tree.
        sys.stdout.write(f"joyctl {__version__}\n")
        return ExitCode.OK
    app = app or AppContext()
    if "--json" in args or truthy(app.environ.get(envvars.JSON)):
        app.output.json_mode = True  # so a usage error before the callback still gets JSON
    if COMPLETE_VAR in os.environ:
        # Shell completion (completions/) calls back into joyctl; register Typer's shells.
        from typer._completion_classes import completion_init

        completion_init()
    try:
        command = build_command()
        result = command.main(
            args=global_options_first(command, args),
            prog_name="joyctl",
            complete_var=COMPLETE_VAR,
            standalone_mode=False,
            obj=app,
        )
        return result if isinstance(result, int) else ExitCode.OK
    except JoyctlError as error:
        error.hint = hint_for(error, app.command_path)
        app.output.error(error)
        return error.exit_code
    except typer.TyperException as error:
        return _report_usage(app, error)
    except SystemExit as stop:
        return _exit_status(stop)
    except (KeyboardInterrupt, typer.Abort):
        app.output.error(
            JoyctlError("interrupted", code="interrupted", hint="state is saved; rerun to resume")
        )
        return ExitCode.INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the boundary: every bug ends here
        damaged = app.ledger_damage(error)
        if damaged is not None:
            app.output.error(damaged)
            return damaged.exit_code
        return _report_internal(app, error)
    finally:
        app.close()


# The root's options, accepted anywhere on the line as gh takes `gh pr list --json`.
_GLOBAL_FLAGS = frozenset({"--json", "--quiet", "-q", "--verbose", "-v", "--debug", "--no-color",
                           "--no-input"})  # fmt: skip
_GLOBAL_VALUED = frozenset({"--profile", "-p"})
_GLOBAL_SHORT = frozenset("qv")


def global_options_first(root: Any, args: list[str]) -> list[str]:
    """`args` with global options given after a subcommand moved before it, for the root.

    The line is walked as the parser would: the subcommands named, and each option that takes
    a value skipping that value, so `--content -v` stays the content. A subcommand's own option
    with a global's name stays its own, and nothing after `--` moves.
    """
    kept: list[str] = []
    moved: list[str] = []
    command, insert_at, index = root, None, 0
    while index < len(args):
        word = args[index]
        index += 1
        if word == "--":
            kept += args[index - 1 :]
            break
        own = _option_arity(command, word)
        if command is not root and own is None and _is_global(word):
            taken = _global_value(word, args, index)
            moved += [word, *taken]
            index += len(taken)
            continue
        kept.append(word)
        if own:
            kept += args[index : index + own]
            index += own
        elif not word.startswith("-") and hasattr(command, "get_command"):
            # get_command, not `.commands`: the root loads a command only when it is named.
            sub = command.get_command(None, word)
            if sub is not None:
                insert_at = insert_at if insert_at is not None else len(kept) - 1
                command = sub
    if not moved or insert_at is None:
        return kept
    _refuse_two_profiles(args)
    return kept[:insert_at] + moved + kept[insert_at:]


def _option_arity(command: Any, word: str) -> int | None:
    """How many values `command`'s own option `word` takes; None when it has no such option."""
    name = word.split("=", 1)[0]
    for param in getattr(command, "params", []):
        if param.param_type_name == "option" and name in (*param.opts, *param.secondary_opts):
            if "=" in word or param.is_flag or param.count:
                return 0
            return int(param.nargs)
    return None


def _is_global(word: str) -> bool:
    name = word.split("=", 1)[0]
    if name in _GLOBAL_FLAGS or name in _GLOBAL_VALUED:
        return True
    # Short options only from here: -pNAME, or a cluster such as -qv. A lone - (stdin or
    # stdout) and negative numbers are values.
    if len(word) < 2 or word.startswith("--") or not word.startswith("-"):
        return False
    return word.startswith("-p") or set(word[1:]) <= _GLOBAL_SHORT


def _global_value(word: str, args: list[str], index: int) -> list[str]:
    """The value a moved `--profile`/`-p` takes from the next word (none for `-pNAME`, `=`)."""
    if word in _GLOBAL_VALUED and index < len(args):
        return [args[index]]
    return []


def _refuse_two_profiles(args: list[str]) -> None:
    named = set()
    for index, word in enumerate(args):
        if word == "--":
            break
        if word in _GLOBAL_VALUED and index + 1 < len(args):
            named.add(args[index + 1])
        elif word.startswith("--profile="):
            named.add(word.split("=", 1)[1])
        elif word.startswith("-p") and len(word) > 2 and not word.startswith("--"):
            named.add(word[2:])
    if len(named) > 1:
        raise UsageError(
            f"two profiles on one line: {', '.join(sorted(named))}",
            hint="name the profile once, before or after the command",
        )


def _exit_status(stop: SystemExit) -> int:
    """The CLI library exits by itself on a closed stdout (`joyctl ledger export | head`)."""
    context = stop.__context__
    if isinstance(context, OSError) and context.errno == errno.EPIPE:
        # The reader chose to stop reading; that is not a failure of ours. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    return stop.code if isinstance(stop.code, int) else ExitCode.ERROR


def _report_usage(app: AppContext, error: typer.TyperException) -> int:
    from typer._click.exceptions import NoArgsIsHelpError
    from typer._click.exceptions import UsageError as ClickUsageError

    if isinstance(error, NoArgsIsHelpError) and error.ctx is not None:
        if app.output.json_mode:  # the envelope, not the help text on stderr
            hint = f"see `{error.ctx.command_path} --help`"
            app.output.error(UsageError("a command is missing", hint=hint))
        else:
            app.output.stderr.write(error.ctx.get_help() + "\n")
        return ExitCode.USAGE
    command_path = "joyctl"
    if isinstance(error, ClickUsageError) and error.ctx is not None:
        command_path = error.ctx.command_path
    usage = UsageError(error.format_message(), hint=f"see `{command_path} --help`")
    app.output.error(usage)
    return int(getattr(error, "exit_code", ExitCode.USAGE)) or ExitCode.USAGE


def _report_internal(app: AppContext, error: Exception) -> int:
    if app.options.debug:
        import traceback

        # Plain traceback: frames and lines, never local variables (they may hold secrets).
        app.output.stderr.write("".join(traceback.format_exception(error)))
    app.output.error(
        JoyctlError(
            f"internal error: {type(error).__name__}",
            code="internal",
            hint="this is a bug in joyctl; rerun with --debug and report the traceback",
        )
    )
    return ExitCode.ERROR


def main() -> None:
    sys.exit(run())
