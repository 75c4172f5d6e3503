#!/usr/bin/env bash
# Real-browser checks: starts `tollgate serve --demo` on a free port with a
# throwaway SQLite database, then drives it in headless Chromium:
# - docs_authorize.mjs: /docs → Authorize with the authorization code flow
#   and PKCE, sign in with the printed demo credentials in the popup, and
#   "Try it out" on GET /api/v1/posts, which must answer 200;
# - oidc_rp.mjs: a relying party built on openid-client, registered with
#   `tollgate client create`, signs the demo user in (form_post, consent,
#   UserInfo) and out again (end session, back-channel logout), with
#   JavaScript on and off;
# - account.mjs: /account at 1280 px and 390x844: sign in, allow an app,
#   revoke it, sign out, with no console error nor sideways scrolling.
#
# Run it from anywhere as `bash tests/browser/run.sh`; it needs no input.
# It installs what is missing: Debian's chromium (apt-get, as root) and the
# locked npm packages (`npm ci` in tests/browser). Screenshots and the
# server's log stay in a temp directory, printed at the end, when the check
# fails (or always, with TOLLGATE_BROWSER_KEEP=1).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BROWSER_DIR=$ROOT/tests/browser
CHROMIUM=/usr/bin/chromium
READY_SECONDS=60
started_at=$SECONDS

note() {
    printf '    %s\n' "$*"
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "root is needed to run: $*"
    fi
}

# --- What the check needs ----------------------------------------------------

if [ ! -x "$CHROMIUM" ]; then
    note "Chromium is not installed; installing Debian's chromium with apt-get"
    as_root apt-get update -q </dev/null
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends chromium </dev/null
fi
command -v node >/dev/null 2>&1 || die "node is needed (Node.js 20 or later)"
note "$("$CHROMIUM" --version 2>/dev/null), node $(node --version)"

# npm ci when a locked package is missing or not the locked version.
locked_and_installed='
    const dir = process.argv[1];
    const lock = require(dir + "/package-lock.json");
    const same = Object.entries(lock.packages)
        .filter(([path]) => path.startsWith("node_modules/"))
        .every(([path, locked]) => {
            try { return require(`${dir}/${path}/package.json`).version === locked.version; }
            catch { return false; }
        });
    process.exit(same ? 0 : 1);'
if ! node -e "$locked_and_installed" "$BROWSER_DIR"; then
    note "npm ci in tests/browser"
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
fi

note "cargo build --bin tollgate"
cargo build --bin tollgate
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/tollgate
[ -x "$BIN" ] || die "$BIN was not built"

# --- The server --------------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-browser.XXXXXX")
server_pid=
phase='start-up'

cleanup() {
    local rc=$?
    trap - EXIT
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ "$rc" -eq 0 ] && [ -z "${TOLLGATE_BROWSER_KEEP:-}" ]; then
        rm -rf "$WORK"
    elif [ "$rc" -eq 0 ]; then
        note "screenshots and logs kept in $WORK"
    else
        printf '\nThe browser check failed (exit %d) in: %s\n' "$rc" "$phase" >&2
        printf 'The server log ends with:\n' >&2
        tail -n 30 "$WORK/server.log" >&2 2>/dev/null || true
        printf '\nScreenshots and logs are kept in %s\n' "$WORK" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

phase='picking a free port'
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
base=http://127.0.0.1:$port

phase="starting tollgate serve --demo on $base"
note "tollgate serve --demo on $base"
export TOLLGATE_DATABASE_URL="sqlite://$WORK/tollgate.db?mode=rwc"
TOLLGATE_LOG=info \
    "$BIN" serve --demo --bind "127.0.0.1:$port" --issuer "$base" \
    </dev/null >"$WORK/stdout.txt" 2>"$WORK/server.log" &
server_pid=$!

# `serve --demo` prints "  user:      demo / PASSWORD" once it has bound.
credentials=
for ((i = 0; i < READY_SECONDS * 10; i++)); do
    # The background shell may not have opened stdout.txt yet.
    credentials=$(sed -n 's#^ *user: *\([^ ]*\) / \([^ ]*\) *$#\1 \2#p' "$WORK/stdout.txt" 2>/dev/null || true)
    if [ -n "$credentials" ] && (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || die "the server exited during start-up"
    sleep 0.1
done
[ -n "$credentials" ] || die "no demo credentials in the output of serve --demo within ${READY_SECONDS}s"
read -r demo_user demo_password <<<"$credentials"

# --- The check ---------------------------------------------------------------

phase='the browser check (docs_authorize.mjs)'
note "Chromium: /docs → Authorize (authorization code + PKCE) → Try it out"
TOLLGATE_BASE=$base DEMO_USERNAME=$demo_user DEMO_PASSWORD=$demo_password \
    ARTIFACTS_DIR=$WORK CHROMIUM_PATH=$CHROMIUM SCREENSHOT_ON_SUCCESS=${TOLLGATE_BROWSER_KEEP:-} \
    node "$BROWSER_DIR/docs_authorize.mjs" </dev/null

phase='/docs at phone and desktop widths (docs_layout.mjs)'
TOLLGATE_BASE=$base ARTIFACTS_DIR=$WORK CHROMIUM_PATH=$CHROMIUM SCREENSHOT_ON_SUCCESS=${TOLLGATE_BROWSER_KEEP:-} node "$BROWSER_DIR/docs_layout.mjs" </dev/null

phase='registering the relying party with tollgate client create'
rp_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
rp=http://127.0.0.1:$rp_port
# The real CLI against the server's own database (TOLLGATE_DATABASE_URL).
"$BIN" client create --name "Browser RP" \
    --redirect-uri "$rp/callback" \
    --post-logout-redirect-uri "$rp/signed-out" \
    --backchannel-logout-uri "$rp/backchannel" \
    --json </dev/null >"$WORK/rp-client.json"

phase='the relying-party check (oidc_rp.mjs)'
note "Chromium: relying party on $rp → sign in (form_post) → UserInfo → sign out (back-channel)"
TOLLGATE_BASE=$base DEMO_USERNAME=$demo_user DEMO_PASSWORD=$demo_password \
    RP_PORT=$rp_port RP_CLIENT_FILE=$WORK/rp-client.json \
    ARTIFACTS_DIR=$WORK CHROMIUM_PATH=$CHROMIUM SCREENSHOT_ON_SUCCESS=${TOLLGATE_BROWSER_KEEP:-} \
    node "$BROWSER_DIR/oidc_rp.mjs" </dev/null
phase='the account page check (account.mjs)'
note "Chromium: /account → sign in → allow an app → revoke it → sign out, at 1280 px and 390 px"
app_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
"$BIN" client create --name "Account Check App" --redirect-uri "http://127.0.0.1:$app_port/callback" \
    --json </dev/null >"$WORK/account-client.json"
TOLLGATE_BASE=$base DEMO_USERNAME=$demo_user DEMO_PASSWORD=$demo_password \
    ACCOUNT_CLIENT_FILE=$WORK/account-client.json \
    ARTIFACTS_DIR=$WORK CHROMIUM_PATH=$CHROMIUM SCREENSHOT_ON_SUCCESS=${TOLLGATE_BROWSER_KEEP:-} \
    node "$BROWSER_DIR/account.mjs" </dev/null
note "browser check took $((SECONDS - started_at))s in all"
