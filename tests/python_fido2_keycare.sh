#!/usr/bin/env bash
# Third-party check of `fido-doctor pin set`: the CLI sets a PIN over UDP on
# `fido-doctor simulate --scenario no-pin --auto-touch`, then Yubico's
# python-fido2 (tests/python_fido2_keycare.py) gets a token with that PIN.
# Shares the venv of tests/python_fido2_check.sh; exits 0 with a SKIP message
# when python3 (with venv) is not available.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "SKIP python-fido2 key-care check: python3 with venv/ensurepip is not installed"
    exit 0
fi

VENV=target/pyfido2-venv
if ! "$VENV/bin/python" -c 'import fido2' >/dev/null 2>&1; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'fido2>=2,<3'
fi

cargo build --quiet --bin fido-doctor
BIN=target/debug/fido-doctor

free_port() {
    "$VENV/bin/python" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
DEV_PORT=$(free_port)
REPLY_PORT=$(free_port)
while [ "$REPLY_PORT" = "$DEV_PORT" ]; do REPLY_PORT=$(free_port); done

LOG=target/python_fido2_keycare_simulate.log
"$BIN" simulate --scenario no-pin --auto-touch \
    --listen "127.0.0.1:$DEV_PORT" --reply "127.0.0.1:$REPLY_PORT" >"$LOG" 2>&1 &
SIM_PID=$!
cleanup() { kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }
trap cleanup EXIT

sleep 1
if ! kill -0 "$SIM_PID" 2>/dev/null; then
    echo "fido-doctor simulate exited early:"
    cat "$LOG"
    exit 1
fi

NEW_PIN=7391-ok
DEVICE="udp:127.0.0.1:$DEV_PORT,listen=127.0.0.1:$REPLY_PORT"
printf '%s\n%s\n' "$NEW_PIN" "$NEW_PIN" | "$BIN" pin set --device "$DEVICE" --pin-stdin --json

"$VENV/bin/python" tests/python_fido2_keycare.py \
    --device "127.0.0.1:$DEV_PORT" --listen "127.0.0.1:$REPLY_PORT" --pin "$NEW_PIN"
