#!/bin/sh
# with-keyring.sh - run a command under a private D-Bus session bus with an unlocked gnome-keyring
#
#   with-keyring.sh COMMAND [ARG...]
#
# The keyring lives in a temporary HOME and XDG_RUNTIME_DIR, so the user's own keyring and its
# control socket are never touched. gnome-keyring-daemon runs in the foreground as our child and
# is stopped at the end, the session bus goes with dbus-run-session, the directories are removed.
# Exits 77 (skip) when gnome-keyring-daemon, dbus-run-session or gdbus is missing.
set -u

for tool in dbus-run-session gnome-keyring-daemon gdbus; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (Debian packages dbus, gnome-keyring, libglib2.0-bin)" >&2
		exit 77
	fi
done

if [ "${WITH_KEYRING_INSIDE:-}" != 1 ]; then
	# dbus-run-session starts a bus, runs us inside it, stops the bus and passes our status on
	exec dbus-run-session -- env WITH_KEYRING_INSIDE=1 "$0" "$@"
fi
unset WITH_KEYRING_INSIDE

top=$(mktemp -d "${TMPDIR:-/tmp}/with-keyring.XXXXXX") || exit 1
export HOME="$top/home"
export XDG_RUNTIME_DIR="$top/run"
export XDG_DATA_HOME="$HOME/.local/share"
export XDG_CONFIG_HOME="$HOME/.config"
export XDG_CACHE_HOME="$HOME/.cache"
unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR" || exit 1

# the password on stdin creates and unlocks the login keyring (the default collection) without
# a prompt; an empty one creates no login keyring with gnome-keyring 42, and storing would then
# need a prompter. It guards only this throwaway keyring.
printf '%s' 'espfleet-test-keyring' | gnome-keyring-daemon --foreground --unlock --components=secrets >"$top/daemon.log" 2>&1 &
daemon=$!

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	kill "$daemon" 2>/dev/null
	wait "$daemon" 2>/dev/null
	rm -rf "$top"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

tries=0
until gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
	--method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true; do
	tries=$((tries + 1))
	if [ "$tries" -ge 100 ] || ! kill -0 "$daemon" 2>/dev/null; then
		echo "with-keyring.sh: gnome-keyring-daemon did not come up:" >&2
		cat "$top/daemon.log" >&2
		exit 1
	fi
	sleep 0.1
done

"$@"
status=$?
exit "$status"
