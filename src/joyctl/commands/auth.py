"""`joyctl auth`: where the profile's secrets are kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from joyctl.commands._common import app_context, exit_after
from joyctl.errors import CredentialStoreError, ExitCode
from joyctl.output import Output

if TYPE_CHECKING:
    from joyctl.services.connection.migrate import MigrationResult

app = typer.Typer(help="Manage where the profile's secrets are kept.", no_args_is_help=True)


@app.command("migrate")
def migrate(ctx: typer.Context) -> int:
    """Move the profile's secrets from the insecure file into the OS keyring.

    Each secret is read back from the keyring before it leaves the file, and the profile
    moves with them: its later writes (refreshed tokens, webhook secrets) go to the keyring.
    A different value already in the keyring is a conflict: both copies are kept, the profile
    stays on the file and the exit status is 4.

    Example: joyctl --profile mystore auth migrate
    """
    from joyctl.services.connection.migrate import migrate_secrets

    context = app_context(ctx)
    result = migrate_secrets(context.credentials())
    context.output.emit(result, _render)
    if result.conflicts:
        return exit_after(
            context,
            CredentialStoreError(
                f"{len(result.conflicts)} secrets differ between the file and the keyring",
                hint="delete the stale copy (in the keyring or the file), then rerun",
            ),
        )
    return ExitCode.OK


def _render(out: Output, data: MigrationResult) -> None:
    if not data.moved and not data.conflicts:
        out.success(
            f"nothing to move: profile {data.profile} has no secrets in an insecure file;"
            f" it keeps its secrets in the {data.secret_storage.value}"
        )
        return
    for name in data.moved:
        out.success(f"moved {name} into the keyring ({data.keyring_backend})")
    for name in data.conflicts:
        out.warn(f"{name} differs in the keyring; both copies were kept")
    if data.file_removed:
        out.info(f"removed {data.insecure_file}")
    if data.secret_storage.value == "keyring" and not data.conflicts:
        out.info(f"profile {data.profile} now keeps its secrets in the keyring")
