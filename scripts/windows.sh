#!/usr/bin/env bash
# The Windows job: cross-builds fido-doctor's tests for x86_64-pc-windows-gnu
# on Debian and runs every test executable under wine, then runs the built
# fido-doctor.exe as a user would (guide, check, probe against the built-in
# simulator and over UDP against `simulate`) and checks what it prints.
#
# Toolchain: Debian's rustc-web/cargo-web/rust-web-src (their std source lets
# -Zbuild-std compile std for Windows) with the mingw-w64 linker. Wine 8.0
# lacks bcryptprimitives.dll (Rust's std imports ProcessPrng from it), so a
# stand-in built from scripts/windows/bcryptprimitives.c goes into the
# throw-away wine prefix under target/windows/.
#
# One release build serves the tests and the smoke run: `cargo test
# --release` builds every test executable and, for the integration tests,
# the release fido-doctor.exe a user would get; a separate build of the exe
# would double the time.
# Needs root for apt-get when the packages are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
PKGS="rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64"
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
export CARGO_TARGET_DIR="$PWD/target/windows"
export RUSTC=/usr/bin/rustc
export RUSTC_BOOTSTRAP=1
export WINEPREFIX="$CARGO_TARGET_DIR/wine-prefix"
export WINEDEBUG=-all
CARGO=(/usr/bin/cargo)
BUILD_ARGS=(--release --target "$TARGET" -Zbuild-std=std,panic_abort)
start=$(date +%s)
stamp() { echo "   [$(($(date +%s) - start)) s]"; }

echo "== windows: packages ($PKGS)"
if ! dpkg -s $PKGS >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
fi
"${CARGO[@]}" --version
stamp

echo "== windows: wine prefix with the bcryptprimitives.dll stand-in"
mkdir -p "$CARGO_TARGET_DIR"
if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
  "$WINE" cmd /c exit >/dev/null 2>&1 || true
fi
x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/windows/bcryptprimitives.c scripts/windows/bcryptprimitives.def -ladvapi32
stamp

echo "== windows: cargo test --release --no-run --target $TARGET"
"${CARGO[@]}" test --no-run "${BUILD_ARGS[@]}" --message-format=json >"$CARGO_TARGET_DIR/tests.json"
# The project's own code builds for Windows without warnings (the Linux
# clippy run does not see Windows-only code).
python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-message" and m["package_id"].find("fido-doctor") >= 0 \
            and m["message"]["level"] in ("warning", "error"):
        print(m["message"]["rendered"]); bad += 1
sys.exit(1 if bad else 0)
' "$CARGO_TARGET_DIR/tests.json"
mapfile -t TEST_EXES < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["executable"])
' "$CARGO_TARGET_DIR/tests.json" | sort -u)
EXE="$CARGO_TARGET_DIR/$TARGET/release/fido-doctor.exe"
[ -f "$EXE" ] || { echo "fido-doctor.exe was not built"; exit 1; }
echo "${#TEST_EXES[@]} test executables"
stamp

# Everything wine starts is stopped when this script ends, pass or fail.
trap '"$WINESERVER" -k >/dev/null 2>&1 || true' EXIT

echo "== windows: every test executable under wine"
failed=()
for t in "${TEST_EXES[@]}"; do
  echo "-- $(basename "$t")"
  if ! "$WINE" "$t" --test-threads=2 </dev/null; then
    failed+=("$(basename "$t")")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed under wine: ${failed[*]}"
  exit 1
fi
stamp

echo "== windows: fido-doctor.exe smoke run"
run() { LANG=en_US.UTF-8 "$WINE" "$EXE" "$@"; }
expect() { # expect WHAT TEXT
  if ! grep -qF -- "$1" <<<"$2"; then
    printf 'expected %q in:\n%s\n' "$1" "$2"
    exit 1
  fi
}
out=$(run guide --print --lang en)
expect "FIDO security keys for UTokyo Account" "$out"
out=$(run check --os windows --browser edge --json)
expect '"id": "ok-combination"' "$out"
out=$(run check --os windows --browser edge)
expect "Microsoft Edge on Windows" "$out"
# A key that is not there is named so, and `list` reaches the readers even
# though wine cannot list HID devices.
out=$(run check --device 'hid:\\?\hid#nope' 2>&1 || true)
expect "There is no key at" "$out"
out=$(run list 2>&1 || true)
expect "NFC support not built" "$out"
# Wine cannot list HID devices: the check says so instead of "no key".
out=$(run check 2>&1 || true)
expect "The list of USB security keys could not be read" "$out"
out=$(printf '1234\n' | run probe --device sim:modern --pin-stdin --json)
expect '"kind": "fido2"' "$out"
expect '"result": "ok"' "$out"
port=$((20000 + RANDOM % 20000))
run simulate --scenario modern --auto-touch --listen "127.0.0.1:$port" </dev/null >/dev/null 2>&1 &
sim=$!
out=""
for _ in $(seq 1 50); do
  if out=$(printf '1234\n' | run probe --device "udp:127.0.0.1:$port" --pin-stdin --json 2>/dev/null); then
    break
  fi
  sleep 0.2
done
kill "$sim" 2>/dev/null || true
expect '"kind": "fido2"' "$out"
expect '"result": "ok"' "$out"
# Wine has no webauthn.dll: the WebAuthn-API path must say so and fail cleanly.
if [ ! -f "$WINEPREFIX/drive_c/windows/system32/webauthn.dll" ]; then
  if out=$(run probe --device webauthn: 2>&1); then
    echo "probe --device webauthn: succeeded without webauthn.dll:"; echo "$out"; exit 1
  fi
  expect "WebAuthn API is not available" "$out"
fi
stamp
echo "windows job passed"
