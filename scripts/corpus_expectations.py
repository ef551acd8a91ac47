#!/usr/bin/env python3
"""Computes, independently of fido-doctor's code, the expected judgement of a
real attestation object for tests/data/verify/real_vectors.toml: its AAGUID,
the model name the FIDO metadata gives it, whether Microsoft lists it, and
whether `openssl verify` (at a given time) chains its certificates to a trust
anchor the metadata lists for that AAGUID (maker-root), to another known
anchor (other-maker-root / known-root), only when dates are ignored
(invalid-chain), or to none (unknown-issuer).

Python 3 standard library plus the `openssl` command.

  python3 scripts/corpus_expectations.py --mds MDS.json --roots DIR \
      --entra entra_eligible_keys_mds77.md --at 1767225600 HEX_ATTESTATION_OBJECT
prints a JSON object with the expectations.
"""

import argparse
import base64
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile


def cbor(buf, pos=0):
    """Minimal CBOR decoder (definite lengths; enough for attestation objects)."""
    ib = buf[pos]
    pos += 1
    major, info = ib >> 5, ib & 31
    if info < 24:
        val = info
    elif info in (24, 25, 26, 27):
        n = 1 << (info - 24)
        val = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    else:
        raise ValueError("indefinite length not supported")
    if major == 0:
        return val, pos
    if major == 1:
        return -1 - val, pos
    if major == 2:
        return bytes(buf[pos : pos + val]), pos + val
    if major == 3:
        return buf[pos : pos + val].decode(), pos + val
    if major == 4:
        out = []
        for _ in range(val):
            item, pos = cbor(buf, pos)
            out.append(item)
        return out, pos
    if major == 5:
        out = {}
        for _ in range(val):
            k, pos = cbor(buf, pos)
            v, pos = cbor(buf, pos)
            out[k] = v
        return out, pos
    if major == 6:
        return cbor(buf, pos)
    return {20: False, 21: True, 22: None}.get(val), pos


def pem(der):
    b = base64.b64encode(der).decode()
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(
        b[i : i + 64] for i in range(0, len(b), 64)
    ) + "\n-----END CERTIFICATE-----\n"


def chains(leaf, intermediates, anchors, at):
    """True when openssl builds a path from leaf to one of anchors, checking
    validity at `at` (Unix seconds; None: dates not checked)."""
    with tempfile.TemporaryDirectory() as d:
        files = {}
        for name, data in (("leaf", [leaf]), ("untrusted", intermediates), ("ca", anchors)):
            p = os.path.join(d, name + ".pem")
            with open(p, "w") as f:
                f.write("".join(pem(c) for c in data))
            files[name] = p
        when = ["-no_check_time"] if at is None else ["-attime", str(at)]
        cmd = ["openssl", "verify", "-partial_chain", *when, "-CAfile", files["ca"]]
        if intermediates:
            cmd += ["-untrusted", files["untrusted"]]
        cmd.append(files["leaf"])
        r = subprocess.run(cmd, capture_output=True, text=True)
        return r.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mds", required=True)
    ap.add_argument("--roots", required=True)
    ap.add_argument("--entra", required=True)
    ap.add_argument("--at", type=int, required=True)
    ap.add_argument("attestation_object")
    a = ap.parse_args()
    obj, _ = cbor(bytes.fromhex(a.attestation_object))
    auth = obj.get("authData", obj.get(2))
    stmt = obj.get("attStmt", obj.get(3))
    aaguid = auth[37:53].hex()
    aaguid = f"{aaguid[:8]}-{aaguid[8:12]}-{aaguid[12:16]}-{aaguid[16:20]}-{aaguid[20:]}"
    mds = json.load(open(a.mds))["entries"]
    entry = next((e for e in mds if e.get("aaguid") == aaguid), None)
    listed = [base64.b64decode(c) for c in (entry or {}).get("metadataStatement", {}).get("attestationRootCertificates", [])]
    every = []
    for e in mds:
        every += [base64.b64decode(c) for c in e.get("metadataStatement", {}).get("attestationRootCertificates", [])]
    for p in glob.glob(os.path.join(a.roots, "*.pem")):
        text = open(p, encoding="utf-8").read()
        for b in re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S):
            every.append(base64.b64decode("".join(b.split())))
    entra = open(a.entra, encoding="utf-8").read().lower()
    x5c = stmt.get("x5c") if isinstance(stmt, dict) else None
    if not x5c:
        trust = "self" if stmt else "none"
    elif listed and chains(x5c[0], x5c[1:], listed, a.at):
        trust = "maker-root"
    elif chains(x5c[0], x5c[1:], every, a.at):
        trust = "other-maker-root" if entry else "known-root"
    elif chains(x5c[0], x5c[1:], every, None):
        # A path exists, but a certificate on it (or the root) is not valid then.
        trust = "invalid-chain"
    else:
        trust = "unknown-issuer"
    print(json.dumps({
        "aaguid": aaguid,
        "model": entry["metadataStatement"]["description"] if entry else None,
        "eligible": aaguid in entra,
        "trust": trust,
    }))


if __name__ == "__main__":
    sys.exit(main())
