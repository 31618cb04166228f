#!/usr/bin/env bash
# Run a command against a real Secret Service: a private D-Bus session with gnome-keyring's
# secrets component started and its default collection unlocked.
#
#   bash .ci/keyring-session.sh python -m pytest tests/credentials -m keyring_real
#
# Debian's gnome-keyring and dbus are installed with apt-get only when missing. The keyring
# files and the daemon's runtime directory live in a throwaway directory, so running this on a
# workstation never touches the user's own login keyring. JOYCTL_TEST_REAL_KEYRING=1 is exported
# so that the keyring_real tests run instead of skipping.
set -euo pipefail

readonly PACKAGES=(gnome-keyring dbus)

usage() {
    echo "usage: $0 COMMAND [ARG...]" >&2
    echo "runs COMMAND inside a D-Bus session with an unlocked gnome-keyring" >&2
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    else
        sudo -n "$@"
    fi
}

have_commands() {
    local name
    for name in gnome-keyring-daemon dbus-run-session dbus-send; do
        command -v "$name" >/dev/null || return 1
    done
}

ensure_packages() {
    # The commands are checked rather than package names: dbus-run-session and dbus-send moved
    # from dbus into dbus-daemon and dbus-bin over Debian releases, and dbus depends on both.
    if have_commands; then
        return
    fi
    if ! command -v apt-get >/dev/null; then
        echo "keyring-session: install gnome-keyring and dbus (no apt-get here)" >&2
        exit 1
    fi
    echo "keyring-session: installing ${PACKAGES[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes
    as_root apt-get update -qq >/dev/null
    as_root apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
}

start_unlocked_keyring() {
    local password
    # Global, not local: the EXIT trap runs after this function has returned.
    scratch="$(mktemp -d -t joyctl-keyring.XXXXXX)"
    chmod 700 "$scratch"
    mkdir -m 700 "$scratch/data" "$scratch/runtime"
    # Removed when this shell exits; the daemon itself ends with the D-Bus session.
    trap 'rm -rf -- "$scratch"' EXIT
    password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"

    # With --unlock the daemon reads the password on stdin and, finding no keyring yet, creates
    # the "login" keyring with it, which becomes the unlocked default collection. Its output
    # is a list of NAME=value lines for the session; export them for the command.
    local line
    while IFS= read -r line; do
        [[ "$line" == *=* ]] && export "${line?}"
    done < <(printf '%s' "$password" \
        | XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/runtime" \
            gnome-keyring-daemon --daemonize --unlock --components=secrets)

    wait_for_secret_service
}

secret_service_is_up() {
    local reply
    reply="$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets)" || return 1
    [[ "$reply" == *"boolean true"* ]]
}

wait_for_secret_service() {
    # The daemon forks and returns before it owns its bus name, and a test that called in
    # that gap would make D-Bus activate a second, locked daemon. Its failures do not reach
    # this shell through the pipe either, so this wait is also the check that it started.
    local attempt
    for attempt in $(seq 1 100); do
        if secret_service_is_up; then
            return
        fi
        sleep 0.1
    done
    echo "keyring-session: gnome-keyring did not start a Secret Service (waited ${attempt}x0.1s)" >&2
    exit 1
}

if [[ $# -eq 0 ]]; then
    usage
    exit 2
fi

if [[ "$1" == "--inside-dbus-session" ]]; then
    shift
    start_unlocked_keyring
    export JOYCTL_TEST_REAL_KEYRING=1
    # Not exec: the EXIT trap must still remove the throwaway keyring directory.
    status=0
    "$@" || status=$?
    exit "$status"
fi

ensure_packages
exec dbus-run-session -- bash "${BASH_SOURCE[0]}" --inside-dbus-session "$@"
