#!/usr/bin/env bash
# Third-party check: Yubico's python-fido2 drives `fido-doctor simulate` over UDP.
# Builds the binary, installs fido2 into a venv under target/, starts one
# simulator per scenario the check needs (auto-touch, each on free ports) in
# the background, runs tests/python_fido2_check.py, stops the simulators.
# Non-zero exit on failure; exits 0 with a SKIP message when python3 (with
# venv) is not available. Takes about 15 s: one check waits for the 10-second
# reset window to close.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "SKIP python-fido2 check: python3 with venv/ensurepip is not installed"
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

SCENARIOS=(pin-blocked modern registered no-pin bio pin-protocol-1 cred-mgmt-preview)
PIDS=()
SIM_ARGS=()
USED=" "
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

for name in "${SCENARIOS[@]}"; do
    DEV_PORT=$(free_port)
    while [[ "$USED" == *" $DEV_PORT "* ]]; do DEV_PORT=$(free_port); done
    USED="$USED$DEV_PORT "
    REPLY_PORT=$(free_port)
    while [[ "$USED" == *" $REPLY_PORT "* ]]; do REPLY_PORT=$(free_port); done
    USED="$USED$REPLY_PORT "
    LOG="target/python_fido2_simulate_$name.log"
    "$BIN" simulate --scenario "$name" --auto-touch \
        --listen "127.0.0.1:$DEV_PORT" --reply "127.0.0.1:$REPLY_PORT" </dev/null >"$LOG" 2>&1 &
    PIDS+=($!)
    SIM_ARGS+=(--sim "$name=127.0.0.1:$DEV_PORT/127.0.0.1:$REPLY_PORT")
done

sleep 1
for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
        echo "fido-doctor simulate --scenario ${SCENARIOS[$i]} exited early:"
        cat "target/python_fido2_simulate_${SCENARIOS[$i]}.log"
        exit 1
    fi
done

"$VENV/bin/python" tests/python_fido2_check.py "${SIM_ARGS[@]}" --pin 1234
