#!/usr/bin/env python3
"""Builds src/sim/data/mds_getinfo.cbor, the declared authenticatorGetInfo of
every hardware FIDO2 model in the FIDO Metadata Service (MDS3) payload, for
the simulator's `model:` scenarios.

Usage: scripts/gen_mds_getinfo.py [PAYLOAD_JSON] [OUTPUT]
  PAYLOAD_JSON defaults to ../shared/reference/data/mds3/metadata-291.json
  (the decoded payload of MDS BLOB no. 291), OUTPUT to
  src/sim/data/mds_getinfo.cbor.

Output: one canonical CBOR map
  {"blob": <BLOB number>,
   "skipped": [<GetInfo member names left out>],
   "getinfo": [<bytes: a CTAP2 GetInfo response map, canonical CBOR>, ...],
   "models": [[<AAGUID, 16 bytes>, <description>, <index into getinfo>], ...]}
Identical GetInfo answers are stored once. A model is "hardware" when its
keyProtection names hardware and not software and it is not a platform
(attachmentHint not just "internal"). Only members with CTAP 2.1 numbers
(0x01-0x18) are encoded; any other member name is listed under "skipped".
Deterministic: the same payload gives the same bytes.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_IN = ROOT.parent / "shared/reference/data/mds3/metadata-291.json"
DEFAULT_OUT = ROOT / "src/sim/data/mds_getinfo.cbor"

# authenticatorGetInfo member names -> CTAP 2.1 response keys.
KEYS = {
    "versions": 0x01,
    "extensions": 0x02,
    "aaguid": 0x03,
    "options": 0x04,
    "maxMsgSize": 0x05,
    "pinUvAuthProtocols": 0x06,
    "maxCredentialCountInList": 0x07,
    "maxCredentialIdLength": 0x08,
    "transports": 0x09,
    "algorithms": 0x0A,
    "maxSerializedLargeBlobArray": 0x0B,
    "forcePINChange": 0x0C,
    "minPINLength": 0x0D,
    "firmwareVersion": 0x0E,
    "maxCredBlobLength": 0x0F,
    "maxRPIDsForSetMinPINLength": 0x10,
    "preferredPlatformUvAttempts": 0x11,
    "uvModality": 0x12,
    "certifications": 0x13,
    "remainingDiscoverableCredentials": 0x14,
    "vendorPrototypeConfigCommands": 0x15,
    "attestationFormats": 0x16,
    "uvCountSinceLastPinEntry": 0x17,
    "longTouchForReset": 0x18,
}


def head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError(f"integer too large: {n}")


def cbor(v) -> bytes:
    """Canonical CBOR (CTAP2 order: major type, then length, then bytes)."""
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if v is None:
        return b"\xf6"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, (list, tuple)):
        return head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        items = sorted(((cbor(k), cbor(x)) for k, x in v.items()),
                       key=lambda kv: (kv[0][0] >> 5, len(kv[0]), kv[0]))
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(f"cannot encode {type(v).__name__}")


def hardware(ms: dict) -> bool:
    kp = ms.get("keyProtection", [])
    return "hardware" in kp and "software" not in kp and ms.get("attachmentHint") != ["internal"]


def getinfo_map(gi: dict, skipped: set) -> dict:
    out = {}
    for name, value in gi.items():
        key = KEYS.get(name)
        if key is None:
            skipped.add(name)
            continue
        if name == "aaguid":
            value = bytes.fromhex(value.replace("-", ""))
        out[key] = value
    return out


def main() -> int:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_IN
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUT
    payload = json.loads(src.read_text())
    skipped: set = set()
    bodies: list[bytes] = []
    index: dict[bytes, int] = {}
    models = []
    for e in payload["entries"]:
        ms = e.get("metadataStatement") or {}
        gi = ms.get("authenticatorGetInfo")
        if not e.get("aaguid") or not gi or not hardware(ms):
            continue
        aaguid = bytes.fromhex(e["aaguid"].replace("-", ""))
        m = getinfo_map(gi, skipped)
        # The AAGUID lives in the model row; the body is shared between
        # models that declare the same answer otherwise.
        m.pop(0x03, None)
        body = cbor(m)
        if body not in index:
            index[body] = len(bodies)
            bodies.append(body)
        models.append([aaguid, ms.get("description", ""), index[body]])
    models.sort(key=lambda r: (r[1].lower(), r[0]))
    out = cbor({
        "blob": payload["no"],
        "skipped": sorted(skipped),
        "getinfo": bodies,
        "models": models,
    })
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(out)
    print(f"{dst}: BLOB {payload['no']}, {len(models)} models, "
          f"{len(bodies)} distinct GetInfo answers, {len(out)} bytes; "
          f"skipped members: {', '.join(sorted(skipped)) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
