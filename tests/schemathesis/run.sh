#!/usr/bin/env bash
# Fuzzes the API against its own /openapi.json with schemathesis, every
# check on: serves the debug binary on a free loopback port with a fresh
# SQLite file, creates a user and an API key with the CLI, runs `st run
# --checks all`, and fails on any finding.
#
#   bash tests/schemathesis/run.sh [ST_RUN_ARGUMENTS...]
#
# ST_SCOPES picks the key's scopes (default: blog:read blog:write
# blog:admin); further arguments go to `st run`, e.g. a second run for
# another API: ST_SCOPES=admin bash tests/schemathesis/run.sh
# --include-path-regex '^/admin/'. ST_MAX_EXAMPLES sets the cases per
# operation and phase (default 60).
#
# schemathesis comes from PyPI, pinned, into a venv under the target dir;
# it is installed only when missing or of another version.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
ST_VERSION=4.32.5
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$TARGET/schemathesis-venv
READY_SECONDS=60
read -r -a SCOPES <<<"${ST_SCOPES:-blog:read blog:write blog:admin}"
started_at=$SECONDS

note() {
    printf '    %s\n' "$*"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# --- What the run needs --------------------------------------------------------

installed_version() {
    "$VENV/bin/python" -c \
        'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true
}

if [ "$(installed_version)" != "$ST_VERSION" ]; then
    note "installing schemathesis $ST_VERSION into $VENV"
    command -v python3 >/dev/null 2>&1 || die "python3 is needed (3.9 or later)"
    if ! python3 -m venv "$VENV" </dev/null; then
        note "python3 has no venv module; installing python3-venv with apt-get"
        if [ "$(id -u)" -eq 0 ]; then
            apt-get update -q </dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv </dev/null
        else
            sudo -n apt-get update -q </dev/null
            sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv </dev/null
        fi
        python3 -m venv "$VENV" </dev/null
    fi
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION" </dev/null
    [ "$(installed_version)" = "$ST_VERSION" ] || die "schemathesis $ST_VERSION did not install"
fi

note "cargo build --bin tollgate"
cargo build --bin tollgate
BIN=$TARGET/debug/tollgate
[ -x "$BIN" ] || die "$BIN was not built"

# --- The server ----------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-schemathesis.XXXXXX")
server_pid=

cleanup() {
    local rc=$?
    trap - EXIT
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ]; then
        printf '\nThe schemathesis run failed (exit %d). The server log ends with:\n' "$rc" >&2
        tail -n 20 "$WORK/server.log" >&2 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Everything the server and the CLI read comes from here, not from the
# caller's environment or a tollgate.toml in the current directory.
for name in $(compgen -e); do
    case $name in TOLLGATE_*) unset "$name" ;; esac
done
export TOLLGATE_DATABASE_URL="sqlite://$WORK/tollgate.db?mode=rwc"

# Port 0: the server takes a free port and, with no issuer set, advertises
# the one it got (in /openapi.json's servers too).
TOLLGATE_LOG=info "$BIN" serve --bind 127.0.0.1:0 \
    </dev/null >/dev/null 2>"$WORK/server.log" &
server_pid=$!
base=
for ((i = 0; i < READY_SECONDS * 10; i++)); do
    # The background shell may not have opened server.log yet.
    addr=$(sed -n 's#.*addr=socket://\([0-9.]*:[0-9]*\).*#\1#p' "$WORK/server.log" 2>/dev/null | head -n 1 || true)
    if [ -n "$addr" ] && (: >"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
        base=http://$addr
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || die "the server exited during start-up"
    sleep 0.1
done
[ -n "$base" ] || die "the server did not listen within ${READY_SECONDS}s"
note "tollgate serve on $base"

"$BIN" user create schemathesis --password-stdin <<<"schemathesis-password" >/dev/null
key=$("$BIN" api-key create --name schemathesis --owner schemathesis \
    --scope "${SCOPES[@]}" --json </dev/null |
    "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["key"])')
note "API key with scopes: ${SCOPES[*]}"

# --- The run -------------------------------------------------------------------

# From the work directory, so that nothing (.hypothesis, reports) lands in
# the repository.
(
    cd "$WORK"
    "$VENV/bin/st" run "$base/openapi.json" \
        --checks all \
        --header "X-API-Key: $key" \
        --max-examples "${ST_MAX_EXAMPLES:-60}" \
        --generation-database none \
        --no-color \
        "$@" </dev/null
)
note "schemathesis took $((SECONDS - started_at))s in all"
