#!/usr/bin/env python3
"""Writes starting inputs (seed corpora) for the cargo-fuzz targets in fuzz/
into fuzz/corpus/<target>/ (not tracked: cargo-fuzz grows these folders).

Usage: scripts/gen_fuzz_seeds.py   (then: cd fuzz && cargo +nightly fuzz run TARGET)

Seeds come from the real key answers in tests/data/verify/real_vectors.toml
(attestation objects, GetInfo bodies, U2F register responses) and from small
hand-written sessions in each target's input format (see the target's module
comment). Deterministic: the same inputs give the same files.
"""

from __future__ import annotations

import hashlib
import struct
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz/corpus"
VECTORS = ROOT / "tests/data/verify/real_vectors.toml"


def write(target: str, data: bytes) -> None:
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def rec(op: int, body: bytes) -> bytes:
    return bytes([op, len(body)]) + body


def answer(b: bytes) -> bytes:
    return struct.pack(">H", len(b)) + b


def main() -> int:
    v = tomllib.loads(VECTORS.read_text())
    for e in v.get("vector", []):
        att = bytes.fromhex(e["attestation_object"]) if "attestation_object" in e else None
        if att:
            write("attestation", att)
            write("ctap2_responses", att)
    for e in v.get("get_info", []):
        write("ctap2_responses", bytes.fromhex(e["response"]))
    for e in v.get("u2f_register", []):
        write("ctap2_responses", bytes.fromhex(e["response"]))

    # sim_commands: [scenario, protocol flag] then [op, len, body] records.
    pin_cm = rec(1, b"\x04")  # PIN token with the cm permission
    pin_mc = rec(1, b"\x01login.microsoft.com")
    cm = rec(3, b"\x01") + rec(3, b"\x02") + rec(3, b"\x03")
    cm += rec(3, b"\x04\xa1\x01\x58\x20" + hashlib.sha256(b"login.microsoft.com").digest())
    cm += rec(3, b"\x05")
    mc_rk = rec(5, bytes([0x08]) + b"user-1")
    ga = rec(6, b"\x00")
    uv = rec(2, b"\x01login.microsoft.com")
    for pick in range(48):
        for proto in (0, 1):
            write("sim_commands", bytes([pick, proto]) + pin_cm + cm + rec(9, b"\x00"))
            write("sim_commands", bytes([pick, proto]) + pin_mc + mc_rk + pin_cm + cm + ga)
        write("sim_commands", bytes([pick, 0]) + uv + mc_rk + rec(4, b"\x01") + rec(9, b"\x01"))
        write("sim_commands", bytes([pick, 0]) + rec(1, b"\x84") * 4 + rec(8, b"\x05\x01") + pin_cm)

    # nfc_apdu: [mode, request length, request, answers...].
    ok = b"\x90\x00"
    req = b"\x04"
    write("nfc_apdu", bytes([0x02, 0]) + answer(b"FIDO_2_0" + ok))
    write("nfc_apdu", bytes([0x02, 0]) + answer(b"U2F_V2" + ok))
    write("nfc_apdu", bytes([0x0A, 0]) + answer(b"U2F_V2" + ok) + answer(b"\x00\xa1\x01\x81\x68FIDO_2_0" + ok))
    write("nfc_apdu", bytes([0x04, 1]) + req + answer(b"\x01\x91\x00") + answer(b"\x02\x91\x00") + answer(b"\x00" + ok))
    write("nfc_apdu", bytes([0x14, 1]) + req + answer(b"\x00\x61\x10") + answer(b"A" * 16 + b"\x61\x00") + answer(b"B" * 256 + ok))
    write("nfc_apdu", bytes([0x15, 1]) + req + answer(b"\x6c\x10") + answer(b"C" * 16 + ok))
    write("nfc_apdu", bytes([0x84, 1]) + req + answer(b"\x01\x91\x00") * 3 + answer(ok))
    write("nfc_apdu", bytes([0x08, 7]) + b"\x00\x01\x03\x00\x00\x00\x00" + answer(b"\x69\x85") + answer(ok))
    write("nfc_apdu", bytes([0x00, 0]) + answer(b"\x6a\x82"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
