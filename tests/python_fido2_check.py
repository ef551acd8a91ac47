#!/usr/bin/env python3
"""Third-party check of fido-doctor's simulated keys with Yubico's python-fido2.

Talks CTAPHID over UDP (one datagram = one 64-byte report) to running
`fido-doctor simulate --scenario NAME --auto-touch` processes and performs,
through python-fido2's own classes:
- modern: getInfo, a PIN-verified discoverable registration with packed
  attestation, assertions (with and without an allow list) whose signatures
  the server verifies, prf (hmac-secret) outputs; the CTAP 2.1 error codes for
  misused tokens and ill-typed input; authenticatorReset refused after 10 s;
- registered: credential management (metadata, RPs, credentials, update, delete);
- no-pin: setPIN and changePIN through ClientPin;
- pin-blocked: authenticatorReset right after power-up clears the PIN;
- bio: getUVRetries, a token by built-in UV, a registration verified by finger;
- pin-protocol-1 and cred-mgmt-preview: the older protocol and command.
A scenario whose simulator is not given is skipped (and counted as such).

Usage: python_fido2_check.py --sim modern=127.0.0.1:8111/127.0.0.1:7112 [--sim NAME=DEV/LISTEN ...]
   or: python_fido2_check.py --device 127.0.0.1:8111 --listen 127.0.0.1:7112 (modern only)
Exit status 0 when every check of every given simulator passed.
"""

from __future__ import annotations

import argparse
import hashlib
import socket
import sys
import time
import traceback

from fido2.attestation import PackedAttestation
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap import CtapError
from fido2.ctap2 import ClientPin, CredentialManagement, Ctap2
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestationConveyancePreference,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

REPORT = 64
RP = PublicKeyCredentialRpEntity(id="example.com", name="Example RP")
ORIGIN = "https://example.com"


def addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


class UdpConnection(CtapHidConnection):
    """CTAPHID reports over UDP, the convention of FIDO simulators."""

    def __init__(self, device: tuple[str, int], listen: tuple[str, int], timeout: float):
        self.device = device
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(listen)
        self.sock.settimeout(timeout)

    def write_packet(self, data: bytes) -> None:
        self.sock.sendto(bytes(data).ljust(REPORT, b"\0")[:REPORT], self.device)

    def read_packet(self) -> bytes:
        while True:
            data, _ = self.sock.recvfrom(1024)
            if len(data) == REPORT:
                return data

    def close(self) -> None:
        self.sock.close()


class PinInteraction(UserInteraction):
    def __init__(self, pin: str):
        self.pin = pin
        self.pin_requests = 0

    def prompt_up(self) -> None:
        pass

    def request_pin(self, permissions, rp_id):
        self.pin_requests += 1
        return self.pin

    def request_uv(self, permissions, rp_id):
        return True


class Checks:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def run(self, name: str, fn) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - report every failure and go on
            self.failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        else:
            self.passed += 1
            print(f"ok   {name}")

    def check(self, cond: bool, what: str) -> None:
        if not cond:
            raise AssertionError(what)


def expect_error(c: Checks, code: int, fn, what: str) -> None:
    """Runs `fn`, which must fail with CTAP status `code`."""
    try:
        fn()
    except CtapError as e:
        c.check(e.code == code, f"{what}: expected 0x{code:02X}, got 0x{int(e.code):02X}")
    else:
        raise AssertionError(f"{what}: expected 0x{code:02X}, but it succeeded")


def connect(spec: str, wait: float, timeout: float):
    device, _, listen = spec.partition("/")
    conn = UdpConnection(addr(device), addr(listen), 1.0)
    desc = HidDescriptor(f"udp:{device}", 0, 0, REPORT, REPORT, "fido-doctor simulator", None)
    for _ in range(int(wait)):  # the simulator may still be starting
        try:
            dev = CtapHidDevice(desc, conn)
        except (OSError, socket.timeout):
            continue
        conn.sock.settimeout(timeout)
        return dev, conn
    conn.close()
    return None, None


PERM = ClientPin.PERMISSION
CDH = hashlib.sha256(b"python-fido2 client data").digest()
ES256 = [{"type": "public-key", "alg": -7}]
RES = CredentialManagement.RESULT


def uv_registration(c: Checks, dev, interaction, user_id: bytes):
    """A discoverable registration with UV required through Fido2Client."""
    client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN), user_interaction=interaction)
    server = Fido2Server(RP, attestation=AttestationConveyancePreference.DIRECT)
    options, reg_state = server.register_begin(
        PublicKeyCredentialUserEntity(id=user_id, name="carol", display_name="Carol"),
        resident_key_requirement=ResidentKeyRequirement.REQUIRED,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    result = client.make_credential(options.public_key)
    auth_data = server.register_complete(reg_state, result)
    c.check(auth_data.is_user_verified(), "UV flag")
    return auth_data


def modern_checks(c: Checks, dev, pin: str) -> None:
    """The original end-to-end flow plus the CTAP 2.1 error codes."""
    state: dict = {}

    def get_info():
        info = Ctap2(dev).get_info()
        c.check("FIDO_2_1" in info.versions, f"versions {info.versions}")
        c.check(info.options.get("clientPin") is True, f"options {info.options}")
        c.check(info.options.get("rk") is True, "rk")
        c.check(info.options.get("credMgmt") is True, "credMgmt")
        c.check(2 in info.pin_uv_protocols and 1 in info.pin_uv_protocols, "PIN protocols")
        c.check("hmac-secret" in info.extensions, f"extensions {info.extensions}")
        c.check(len(bytes(info.aaguid)) == 16, "aaguid")
        state["info"] = info

    interaction = PinInteraction(pin)
    client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN), user_interaction=interaction)
    server = Fido2Server(RP, attestation=AttestationConveyancePreference.DIRECT)
    user = PublicKeyCredentialUserEntity(id=b"user-0001", name="alice", display_name="Alice")

    def register():
        options, reg_state = server.register_begin(
            user,
            resident_key_requirement=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
            extensions={"prf": {}},
        )
        result = client.make_credential(options.public_key)
        auth_data = server.register_complete(reg_state, result)
        c.check(auth_data.is_user_present(), "UP flag")
        c.check(auth_data.is_user_verified(), "UV flag (PIN)")
        prf = (result.client_extension_results or {}).get("prf") or {}
        c.check(prf.get("enabled") is True, f"prf (hmac-secret) enabled: {prf}")
        c.check(interaction.pin_requests >= 1, "the PIN was asked for")
        att = result.response.attestation_object
        c.check(att.fmt == "packed", f"fmt {att.fmt}")
        cdh = result.response.client_data.hash
        PackedAttestation().verify(att.att_stmt, att.auth_data, cdh)
        c.check(bytes(auth_data.credential_data.aaguid) == bytes(state["info"].aaguid), "AAGUID")
        state["cred"] = auth_data.credential_data
        state["counter"] = auth_data.counter

    def assert_with_allow_list():
        options, auth_state = server.authenticate_begin(
            [state["cred"]], user_verification=UserVerificationRequirement.REQUIRED
        )
        selection = client.get_assertion(options.public_key)
        response = selection.get_response(0)
        server.authenticate_complete(auth_state, [state["cred"]], response)
        ad = response.response.authenticator_data
        c.check(ad.is_user_verified(), "UV flag")
        c.check(ad.counter > state["counter"], "signature counter increases")
        state["counter"] = ad.counter

    def assert_discoverable():
        options, auth_state = server.authenticate_begin(
            user_verification=UserVerificationRequirement.REQUIRED
        )
        selection = client.get_assertion(options.public_key)
        response = selection.get_response(0)
        server.authenticate_complete(auth_state, [state["cred"]], response)
        c.check(response.response.user_handle == b"user-0001", "user handle")

    def prf_eval(salt: bytes) -> bytes:
        options, auth_state = server.authenticate_begin(
            [state["cred"]],
            user_verification=UserVerificationRequirement.REQUIRED,
            extensions={"prf": {"eval": {"first": salt}}},
        )
        selection = client.get_assertion(options.public_key)
        response = selection.get_response(0)
        server.authenticate_complete(auth_state, [state["cred"]], response)
        results = (response.client_extension_results or {})["prf"]["results"]
        first = results["first"]
        return bytes(first) if not isinstance(first, str) else first.encode()

    def prf_outputs():
        a = prf_eval(b"salt one")
        c.check(len(a) > 0, "prf output present")
        c.check(prf_eval(b"salt one") == a, "same salt, same output")
        c.check(prf_eval(b"salt two") != a, "other salt, other output")

    def register_without_uv():
        options, reg_state = server.register_begin(
            PublicKeyCredentialUserEntity(id=b"user-0002", name="bob", display_name="Bob"),
            resident_key_requirement=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.DISCOURAGED,
        )
        result = client.make_credential(options.public_key)
        auth_data = server.register_complete(reg_state, result)
        c.check(auth_data.is_user_present(), "UP flag")

    ctap = Ctap2(dev)

    def make_credential(rp_id: str, cp: ClientPin, token: bytes):
        return ctap.make_credential(
            CDH,
            {"id": rp_id, "name": "Example"},
            {"id": b"user-0003", "name": "dave"},
            ES256,
            pin_uv_param=cp.protocol.authenticate(token, CDH),
            pin_uv_protocol=cp.protocol.VERSION,
        )

    def misused_tokens():
        cp = ClientPin(ctap)
        token = cp.get_pin_token(pin, PERM.MAKE_CREDENTIAL, "example.com")
        expect_error(c, 0x33, lambda: make_credential("other.example", cp, token), "other RP")
        token = cp.get_pin_token(pin, PERM.GET_ASSERTION, "example.com")
        expect_error(c, 0x33, lambda: make_credential("example.com", cp, token), "no mc")
        token = cp.get_pin_token(pin, PERM.MAKE_CREDENTIAL, "example.com")
        c.check(make_credential("example.com", cp, token).auth_data.is_user_verified(), "UV")
        expect_error(c, 0x33, lambda: make_credential("example.com", cp, token), "reused")
        expect_error(
            c, 0x40, lambda: cp.get_pin_token(pin, PERM.LARGE_BLOB_WRITE), "unsupported perm"
        )

    def ill_typed_input():
        def mc(rp, exclude=None):
            req = {1: CDH, 2: rp, 3: {"id": b"u"}, 4: ES256}
            if exclude is not None:
                req[5] = exclude
            return lambda: ctap.send_cbor(Ctap2.CMD.MAKE_CREDENTIAL, req)

        expect_error(c, 0x11, mc({"id": "example.com", "name": 7}), "integer rp.name")
        expect_error(c, 0x11, mc({"id": "example.com", "icon": 7}), "integer rp.icon")
        expect_error(c, 0x14, mc({"id": "example.com"}, [{"id": b"x" * 16}]), "no type")
        expect_error(
            c, 0x11, mc({"id": "example.com"}, [{"id": b"x" * 16, "type": b"public-key"}]),
            "bytes type",
        )

    c.run("modern: getInfo", get_info)
    c.run("modern: makeCredential (rk, PIN, packed attestation)", register)
    c.run("modern: getAssertion with allow list", assert_with_allow_list)
    c.run("modern: getAssertion discoverable", assert_discoverable)
    c.run("modern: prf / hmac-secret outputs", prf_outputs)
    c.run("modern: makeCredential (non-resident, no UV)", register_without_uv)
    c.run("modern: misused tokens answer 0x33, unknown permissions 0x40", misused_tokens)
    c.run("modern: ill-typed entities and descriptors", ill_typed_input)


def modern_reset_too_late(c: Checks, dev, started: float) -> None:
    def reset_refused():
        # The simulator started before this script: wait until its reset
        # window (10 s after power-up) has certainly closed.
        time.sleep(max(0.0, 10.5 - (time.monotonic() - started)))
        expect_error(c, 0x30, lambda: Ctap2(dev).reset(), "reset after 10 s")
        c.check(Ctap2(dev).get_info().options.get("clientPin") is True, "PIN still set")

    c.run("modern: authenticatorReset refused after 10 s", reset_refused)


def registered_checks(c: Checks, dev, pin: str) -> None:
    ctap = Ctap2(dev)

    def manage():
        cp = ClientPin(ctap)
        bound = cp.get_pin_token(pin, PERM.CREDENTIAL_MGMT, "github.com")
        expect_error(
            c, 0x33, lambda: CredentialManagement(ctap, cp.protocol, bound).get_metadata(),
            "cm token bound to an RP id, for metadata",
        )
        token = cp.get_pin_token(pin, PERM.CREDENTIAL_MGMT)
        cm = CredentialManagement(ctap, cp.protocol, token)
        meta = cm.get_metadata()
        c.check(meta[RES.EXISTING_CRED_COUNT] == 1, f"metadata {meta}")
        c.check(meta[RES.MAX_REMAINING_COUNT] == 24, f"metadata {meta}")
        rps = cm.enumerate_rps()
        c.check([r[RES.RP]["id"] for r in rps] == ["login.microsoft.com"], f"RPs {rps}")
        rp_hash = rps[0][RES.RP_ID_HASH]
        c.check(rp_hash == hashlib.sha256(b"login.microsoft.com").digest(), "rpIdHash")
        creds = cm.enumerate_creds(rp_hash)
        c.check(len(creds) == 1, f"credentials {creds}")
        user = creds[0][RES.USER]
        c.check(user["name"].endswith("@utac.u-tokyo.ac.jp"), f"user {user}")
        c.check(creds[0][RES.CRED_PROTECT] == 2, "credProtect")
        cred_id = creds[0][RES.CREDENTIAL_ID]
        cm.update_user_info(cred_id, {"id": user["id"], "name": "renamed"})
        renamed = cm.enumerate_creds(rp_hash)[0][RES.USER]
        c.check(renamed.get("name") == "renamed", f"updated user {renamed}")
        cm.delete_cred(cred_id)
        c.check(cm.get_metadata()[RES.EXISTING_CRED_COUNT] == 0, "deleted")
        c.check(cm.enumerate_rps() == [], "no RPs left")

    c.run("registered: credential management lists, updates and deletes", manage)


def no_pin_checks(c: Checks, dev) -> None:
    def set_and_change():
        ctap = Ctap2(dev)
        c.check(ctap.info.options.get("clientPin") is False, "no PIN yet")
        cp = ClientPin(ctap)
        cp.set_pin("246810")
        c.check(ctap.get_info().options.get("clientPin") is True, "PIN set")
        expect_error(c, 0x30, lambda: cp.set_pin("135790"), "setPIN twice")
        expect_error(c, 0x31, lambda: cp.change_pin("000000", "135790"), "wrong current PIN")
        c.check(cp.get_pin_retries()[0] == 7, "one attempt spent")
        cp.change_pin("246810", "135790")
        c.check(cp.get_pin_retries()[0] == 8, "retries restored")
        c.check(len(cp.get_pin_token("135790")) == 32, "token with the new PIN")
        expect_error(c, 0x31, lambda: cp.get_pin_token("246810"), "old PIN")

    c.run("no-pin: setPIN and changePIN", set_and_change)


def pin_blocked_checks(c: Checks, dev) -> None:
    def reset_in_window():
        ctap = Ctap2(dev)
        cp = ClientPin(ctap)
        c.check(cp.get_pin_retries()[0] == 0, "blocked")
        expect_error(c, 0x32, lambda: cp.get_pin_token("1234"), "blocked PIN")
        ctap.reset()
        info = ctap.get_info()
        c.check(info.options.get("clientPin") is False, "PIN cleared by reset")
        cp = ClientPin(ctap)
        cp.set_pin("8642")
        c.check(cp.get_pin_retries()[0] == 8, "retries reset")
        c.check(len(cp.get_pin_token("8642")) == 32, "new PIN works")

    c.run("pin-blocked: reset right after power-up, then a new PIN", reset_in_window)


def bio_checks(c: Checks, dev) -> None:
    def uv_token_and_registration():
        ctap = Ctap2(dev)
        c.check(ctap.info.options.get("uv") is True, "uv enrolled")
        cp = ClientPin(ctap)
        c.check(cp.get_uv_retries() == 3, "uvRetries")
        token = cp.get_uv_token(PERM.MAKE_CREDENTIAL | PERM.GET_ASSERTION, "example.com")
        c.check(len(token) == 32, "UV token")
        interaction = PinInteraction("1234")
        uv_registration(c, dev, interaction, b"user-bio")
        c.check(interaction.pin_requests == 0, "the finger, not the PIN, verified")

    c.run("bio: getUVRetries, UV token, registration by finger", uv_token_and_registration)


def protocol_one_checks(c: Checks, dev, pin: str) -> None:
    def protocol_one():
        ctap = Ctap2(dev)
        c.check(list(ctap.info.pin_uv_protocols) == [1], "only protocol 1")
        c.check(ClientPin(ctap).protocol.VERSION == 1, "python-fido2 picks protocol 1")
        uv_registration(c, dev, PinInteraction(pin), b"user-p1")

    c.run("pin-protocol-1: registration with PIN protocol 1", protocol_one)


def preview_checks(c: Checks, dev, pin: str) -> None:
    def preview():
        ctap = Ctap2(dev)
        c.check("FIDO_2_1_PRE" in ctap.info.versions, f"versions {ctap.info.versions}")
        c.check("credMgmt" not in ctap.info.options, "no credMgmt")
        uv_registration(c, dev, PinInteraction(pin), b"user-pre")
        cp = ClientPin(ctap)
        cm = CredentialManagement(ctap, cp.protocol, cp.get_pin_token(pin, PERM.CREDENTIAL_MGMT))
        c.check(cm.get_metadata()[RES.EXISTING_CRED_COUNT] == 1, "metadata")
        c.check([r[RES.RP]["id"] for r in cm.enumerate_rps()] == ["example.com"], "RPs")

    c.run("cred-mgmt-preview: credentialMgmtPreview with the legacy token", preview)


def main() -> int:
    started = time.monotonic()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", action="append", default=[], help="NAME=DEVICE/LISTEN")
    ap.add_argument("--device", help="the modern simulator's address (with --listen)")
    ap.add_argument("--listen", default="127.0.0.1:7112", help="where its replies arrive")
    ap.add_argument("--pin", default="1234")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per report")
    ap.add_argument("--wait", type=float, default=30.0, help="seconds to wait for a simulator")
    args = ap.parse_args()
    sims = dict(s.split("=", 1) for s in args.sim)
    if args.device:
        sims.setdefault("modern", f"{args.device}/{args.listen}")

    c = Checks()
    devices = {}
    for name, spec in sims.items():
        dev, conn = connect(spec, args.wait, args.timeout)
        if dev is None:
            print(f"FAIL {name}: no simulator answered at {spec} within {args.wait:.0f} s")
            c.failed += 1
            continue
        devices[name] = (dev, conn)

    # Order matters: the reset must come within 10 s of that simulator's start.
    plan = [
        ("pin-blocked", lambda d: pin_blocked_checks(c, d)),
        ("modern", lambda d: modern_checks(c, d, args.pin)),
        ("registered", lambda d: registered_checks(c, d, args.pin)),
        ("no-pin", lambda d: no_pin_checks(c, d)),
        ("bio", lambda d: bio_checks(c, d)),
        ("pin-protocol-1", lambda d: protocol_one_checks(c, d, args.pin)),
        ("cred-mgmt-preview", lambda d: preview_checks(c, d, args.pin)),
        ("modern", lambda d: modern_reset_too_late(c, d, started)),
    ]
    for name, checks in plan:
        if name in devices:
            checks(devices[name][0])
        elif name in sims:
            pass  # already counted as a failure
        else:
            print(f"SKIP {name}: no simulator given")
    for _, conn in devices.values():
        conn.close()
    print(f"python-fido2: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 and c.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
