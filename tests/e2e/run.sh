#!/usr/bin/env bash
# End-to-end test of the real Offbeat app: Xvfb + a private PulseAudio + WebKitWebDriver,
# the app launched by WebKitWebDriver, its audio captured by the ALSA `file` plugin.
# The steps themselves are in tests/e2e/*.test.mjs (run one file at a time); this script owns
# the processes.
#
# Usage: bash tests/e2e/run.sh   (OFFBEAT_BIN overrides the binary, default target/debug/offbeat)
# Exits non-zero with the reason on failure. Logs and screenshots go to tests/artifacts/.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

fail() {
    echo "e2e: FAIL: $*" >&2
    exit 1
}
log() { echo "e2e: $*" >&2; }

# --- Prerequisites ------------------------------------------------------------------------
BIN=${OFFBEAT_BIN:-target/debug/offbeat}
case "$BIN" in /*) ;; *) BIN="$REPO/$BIN" ;; esac
[ -f "$BIN" ] && [ -x "$BIN" ] || fail "the app binary $BIN does not exist or is not executable (build it with 'make', or set OFFBEAT_BIN)"
for tool in Xvfb xauth mcookie pulseaudio pactl WebKitWebDriver import node curl; do
    command -v "$tool" >/dev/null || fail "'$tool' is not installed (needs: xvfb xauth pulseaudio pulseaudio-utils webkit2gtk-driver imagemagick nodejs curl)"
done
[ -e /usr/lib/x86_64-linux-gnu/alsa-lib/libasound_module_pcm_pulse.so ] || ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so >/dev/null 2>&1 ||
    fail "the ALSA pulse plugin is missing (apt install libasound2-plugins)"

MANIFEST="$REPO/assets/demo/manifest.json"
[ -f "$MANIFEST" ] || fail "the demo library's manifest $MANIFEST is missing"
missing=$(node -e '
    const dir = require("path").dirname(process.argv[1]);
    const tracks = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const t of tracks) if (!require("fs").existsSync(require("path").join(dir, t.path))) console.log(t.path);
' "$MANIFEST") || fail "cannot read $MANIFEST"
[ -z "$missing" ] || fail "demo tracks listed in $MANIFEST are missing: $missing"

ARTIFACTS="$REPO/tests/artifacts"
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/e2e-*.png "$ARTIFACTS/e2e-capture.raw"
LOGS="$ARTIFACTS/e2e-logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/offbeat-e2e.XXXXXX")
chmod 700 "$WORK"

# --- Cleanup: every process we start is a process-group leader (setsid) and is killed by
# its id, group first so the app and WebKit's helpers that WebKitWebDriver launched go too.
PIDS=()
cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "$rc" -ne 0 ]; then
        echo "e2e: logs are in $LOGS; last lines of each:" >&2
        for f in "$LOGS"/*.log; do
            [ -s "$f" ] || continue
            echo "----- $(basename "$f") -----" >&2
            tail -n 25 "$f" >&2
        done
        # The reason again, last, where a reader of only the output's end sees it.
        if [ -s "$LOGS/tests.out" ]; then
            echo "----- why the end-to-end test failed (repeated from above) -----" >&2
            if grep -q 'failing tests:' "$LOGS/tests.out"; then
                sed -n '/failing tests:/,$p' "$LOGS/tests.out" | head -n 60 >&2
            else
                tail -n 30 "$LOGS/tests.out" >&2
            fi
        fi
    fi
    [ -f "$WORK/capture.raw" ] && cp "$WORK/capture.raw" "$ARTIFACTS/e2e-capture.raw"
    # A process that was just killed may still be finishing a write in $WORK.
    rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts "$@" in the background as its own process group; its pid goes to PIDS and $LAST_PID.
start() {
    local logfile=$1
    shift
    setsid "$@" >"$logfile" 2>&1 </dev/null &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# Drops a pid that has exited (and was reaped) from PIDS, so cleanup never signals a reused id.
forget() {
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# Polls a shell condition every 0.1 s for at most $1 seconds; fails with $2 otherwise.
# $3 is a pid that must stay alive meanwhile (0 for none).
wait_until() {
    local seconds=$1 what=$2 pid=$3
    shift 3
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if [ "$pid" != 0 ] && ! kill -0 "$pid" 2>/dev/null; then
            return 2
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail "timed out after ${seconds}s waiting for $what"
        fi
        sleep 0.1
    done
}

# --- Xvfb on a free display (91 and up), with its own auth cookie ----------------------------
export XAUTHORITY="$WORK/Xauthority"
: >"$XAUTHORITY"
DISPLAY_NUM=
for n in $(seq 91 140); do
    [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] && continue
    xauth -q -f "$XAUTHORITY" add ":$n" . "$(mcookie)"
    rm -f "$WORK/displayfd"
    start "$LOGS/xvfb.log" Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp -auth "$XAUTHORITY" -displayfd 3 3>"$WORK/displayfd"
    xvfb_pid=$LAST_PID
    # -displayfd: Xvfb writes the display number once it accepts connections.
    if wait_until 15 "Xvfb :$n to start" "$xvfb_pid" test -s "$WORK/displayfd"; then
        DISPLAY_NUM=$n
        break
    fi
    wait "$xvfb_pid" 2>/dev/null || true # taken by someone else meanwhile: try the next one
    forget "$xvfb_pid"
done
[ -n "$DISPLAY_NUM" ] || fail "could not start Xvfb on any display from :91 to :140 (see $LOGS/xvfb.log)"
export DISPLAY=":$DISPLAY_NUM"
log "Xvfb on $DISPLAY (pid $xvfb_pid)"

# --- A private PulseAudio with a null sink (paces playback in real time) -------------------
export XDG_RUNTIME_DIR="$WORK/runtime"
mkdir -p -m 700 "$XDG_RUNTIME_DIR/pulse" "$WORK/pulse-home"
PULSE_SOCKET="$XDG_RUNTIME_DIR/pulse/native"
export PULSE_SERVER="unix:$PULSE_SOCKET"
# HOME only for the daemon, so its cookie and state stay in $WORK. As root it warns that it
# is "not intended to be run as root"; that is harmless for a --system=false instance.
# No D-Bus: without a session bus it would try to autolaunch one on the X display.
start "$LOGS/pulseaudio.log" env -u DISPLAY HOME="$WORK/pulse-home" XDG_CONFIG_HOME="$WORK/pulse-home" \
    DBUS_SESSION_BUS_ADDRESS=disabled: \
    pulseaudio --system=false --daemonize=no --exit-idle-time=-1 -n --use-pid-file=false \
    --log-target=stderr \
    --load="module-null-sink sink_name=cap" \
    --load="module-native-protocol-unix auth-anonymous=1 socket=$PULSE_SOCKET"
pulse_pid=$LAST_PID
pulse_ready() { [ -S "$PULSE_SOCKET" ] && timeout 5 pactl info >/dev/null 2>&1; }
wait_until 20 "PulseAudio to answer on $PULSE_SOCKET" "$pulse_pid" pulse_ready ||
    fail "PulseAudio exited at startup (see $LOGS/pulseaudio.log)"
log "PulseAudio on $PULSE_SERVER (pid $pulse_pid)"

# --- The app's environment (WebKitWebDriver launches the app, which inherits this) ---------
# The demo library the app scans on first launch: a copy of assets/demo plus one damaged
# file (the first 60 bytes of a demo FLAC), which the scan must report as a problem.
DEMO="$WORK/demo"
cp -r "$REPO/assets/demo" "$DEMO"
first_flac=$(find "$DEMO" -name '*.flac' -print -quit)
[ -n "$first_flac" ] || fail "the demo library has no FLAC file to make broken.flac from"
head -c 60 "$first_flac" >"$DEMO/broken.flac"

export OFFBEAT_DATA_DIR="$WORK/data" # empty: the app scans the demo library on first launch
export OFFBEAT_DEMO_DIR="$DEMO"
mkdir -p "$OFFBEAT_DATA_DIR" "$WORK/xdg/config" "$WORK/xdg/cache" "$WORK/xdg/data"
export XDG_CONFIG_HOME="$WORK/xdg/config" XDG_CACHE_HOME="$WORK/xdg/cache" XDG_DATA_HOME="$WORK/xdg/data"
export ALSA_CONFIG_PATH="/usr/share/alsa/alsa.conf:$REPO/tests/support/alsa-capture.conf"
export AUDIO_CAPTURE_FILE="$WORK/capture.raw"
export AUDIO_SLAVE_PCM=pulse
# While a PulseAudio is reachable, the pulse ALSA plugin's hook (/etc/alsa/conf.d/99-pulse.conf)
# replaces pcm.default with "type pulse" after our config is read, bypassing the capture;
# the hook stands down when PULSE_INTERNAL is set. See tests/support/alsa-capture.conf.
export PULSE_INTERNAL=1
export TAURI_WEBVIEW_AUTOMATION=true
export NO_AT_BRIDGE=1
# No session bus. Where dbus-launch is installed (as on CI), GTK (registering the app) and
# the media controls would each autolaunch one on the X display; in one CI run such an
# autolaunch "terminated abnormally" and GTK then failed to start the app ("Failed to
# initialize gtk backend"). With none, GTK runs the app unregistered and the media controls
# say they are off, as on machines without dbus-launch. (The media controls have their own
# test, on a private bus: src-tauri/tests/mpris.rs.)
export DBUS_SESSION_BUS_ADDRESS=disabled:

# --- WebKitWebDriver on a free port, 127.0.0.1 only -----------------------------------------
free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
WD_PORT=
for _ in 1 2 3; do
    port=$(free_port)
    start "$LOGS/webdriver.log" WebKitWebDriver "--port=$port" --host=127.0.0.1
    wd_pid=$LAST_PID
    wd_ready() { curl -fsS --max-time 2 "http://127.0.0.1:$port/status" >/dev/null 2>&1; }
    if wait_until 20 "WebKitWebDriver to answer on 127.0.0.1:$port" "$wd_pid" wd_ready; then
        WD_PORT=$port
        break
    fi
    wait "$wd_pid" 2>/dev/null || true # the port was taken meanwhile: try another
    forget "$wd_pid"
done
[ -n "$WD_PORT" ] || fail "WebKitWebDriver did not start (see $LOGS/webdriver.log)"
log "WebKitWebDriver on 127.0.0.1:$WD_PORT (pid $wd_pid)"

# --- The test ----------------------------------------------------------------------------
export E2E_WEBDRIVER_URL="http://127.0.0.1:$WD_PORT"
export E2E_WEBDRIVER_PID="$wd_pid"
export E2E_APP_BINARY="$BIN"
export E2E_CAPTURE_FILE="$AUDIO_CAPTURE_FILE"
export E2E_ARTIFACTS="$ARTIFACTS"
export E2E_REPO="$REPO"
started=$SECONDS
if [ -n "${E2E_COMMAND:-}" ]; then
    # Debugging aid: run something else in the prepared environment instead of the test.
    bash -c "$E2E_COMMAND"
    exit
fi
# The tests bound each of their own waits; `timeout` only guards against a hung runner.
# --test-concurrency=1: one test file (one app instance) at a time. They share the data
# folder: whichever runs first launches the app on an empty one and it scans the demo.
if ! timeout -k 5 540 node --test --test-concurrency=1 --test-reporter=spec "$REPO/tests/e2e/" 2>&1 | tee "$LOGS/tests.out"; then
    fail "the end-to-end test failed after $((SECONDS - started))s (reason above; screenshots in $ARTIFACTS, logs in $LOGS)"
fi
log "PASS in $((SECONDS - started))s (screenshots: $ARTIFACTS/e2e-*.png)"
