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

ensure_packages() {
    # dbus-run-session comes from the dbus package (dbus-daemon on newer releases, which dbus
    # depends on), so checking the commands rather than package names covers both.
    if command -v gnome-keyring-daemon >/dev/null && command -v dbus-run-session >/dev/null; then
        return
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
}

if [[ $# -eq 0 ]]; then
    usage
    exit 2
fi

if [[ "$1" == "--inside-session" ]]; then
    shift
    start_unlocked_keyring
    export JOYCTL_TEST_REAL_KEYRING=1
    # Not exec: the EXIT trap must still remove the throwaway keyring directory.
    status=0
    "$@" || status=$?
    exit "$status"
fi

ensure_packages
exec dbus-run-session -- bash "${BASH_SOURCE[0]}" --inside-session "$@"
