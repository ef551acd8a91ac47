#!/usr/bin/env bash
# Third-party check over NFC: Yubico's python-fido2 (fido2.pcsc, on Debian's
# python3-pyscard) registers and signs in against `fido-doctor simulate
# --vpcd`, through a running pcscd with vsmartcard's vpcd reader.
# Builds the binary with --features nfc, installs fido2 into a venv under
# target/ that sees the system's pyscard, puts the simulated card on the
# reader, runs tests/python_fido2_nfc.py, takes the card away.
# Exits 0 with a SKIP message when no system python3 with pyscard is there.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c 'import smartcard, venv, ensurepip' >/dev/null 2>&1; then
    echo "SKIP python-fido2 NFC check: /usr/bin/python3 with pyscard (python3-pyscard) and venv is not installed"
    exit 0
fi

VENV=target/pyfido2-nfc-venv
if ! "$VENV/bin/python" -c 'import fido2, smartcard' >/dev/null 2>&1; then
    rm -rf "$VENV"
    "$PY" -m venv --system-site-packages "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'fido2>=2,<3'
fi

cargo build --quiet --features nfc --bin fido-doctor
BIN=target/debug/fido-doctor

LOG=target/python_fido2_nfc_simulate.log
"$BIN" simulate --vpcd --scenario modern --auto-touch >"$LOG" 2>&1 &
SIM_PID=$!
cleanup() { kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; }
trap cleanup EXIT

sleep 1
if ! kill -0 "$SIM_PID" 2>/dev/null; then
    echo "fido-doctor simulate --vpcd exited early:"
    cat "$LOG"
    exit 1
fi

"$VENV/bin/python" tests/python_fido2_nfc.py --reader "Virtual PCD 00 00" --pin 1234
