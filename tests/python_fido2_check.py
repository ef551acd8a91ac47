#!/usr/bin/env python3
"""Third-party check of fido-doctor's simulated key with Yubico's python-fido2.

Talks CTAPHID over UDP (one datagram = one 64-byte report) to a running
`fido-doctor simulate --scenario modern --auto-touch` and performs, through
python-fido2's own client and server classes: getInfo, a PIN-verified
discoverable registration with packed attestation, and assertions (with and
without an allow list) whose signatures the server verifies, and
prf (hmac-secret) outputs.

Usage: python_fido2_check.py --device 127.0.0.1:8111 --listen 127.0.0.1:7112 [--pin 1234]
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import socket
import sys
import traceback

from fido2.attestation import PackedAttestation
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2 import Ctap2
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="127.0.0.1:8111", help="simulator address")
    ap.add_argument("--listen", default="127.0.0.1:7112", help="where replies arrive")
    ap.add_argument("--pin", default="1234")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per report")
    ap.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the simulator")
    args = ap.parse_args()

    conn = UdpConnection(addr(args.device), addr(args.listen), 1.0)
    desc = HidDescriptor(f"udp:{args.device}", 0, 0, REPORT, REPORT, "fido-doctor simulator", None)
    dev = None
    for _ in range(int(args.wait)):  # the simulator may still be starting
        try:
            dev = CtapHidDevice(desc, conn)
            break
        except (OSError, socket.timeout):
            continue
    if dev is None:
        print(f"no simulator answered at {args.device} within {args.wait:.0f} s")
        return 1
    conn.sock.settimeout(args.timeout)
    c = Checks()
    state: dict = {}

    def get_info():
        info = Ctap2(dev).get_info()
        c.check("FIDO_2_1" in info.versions, f"versions {info.versions}")
        c.check(info.options.get("clientPin") is True, f"options {info.options}")
        c.check(info.options.get("rk") is True, "rk")
        c.check(2 in info.pin_uv_protocols and 1 in info.pin_uv_protocols, "PIN protocols")
        c.check("hmac-secret" in info.extensions, f"extensions {info.extensions}")
        c.check(len(bytes(info.aaguid)) == 16, "aaguid")
        state["info"] = info

    interaction = PinInteraction(args.pin)
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

    c.run("getInfo", get_info)
    if "info" in state:
        c.run("makeCredential (rk, PIN, packed attestation)", register)
    if "cred" in state:
        c.run("getAssertion with allow list", assert_with_allow_list)
        c.run("getAssertion discoverable", assert_discoverable)
        c.run("prf / hmac-secret outputs", prf_outputs)
    c.run("makeCredential (non-resident, no UV)", register_without_uv)
    conn.close()
    print(f"python-fido2: {c.passed} passed, {c.failed} failed")
    return 0 if c.failed == 0 and c.passed == 6 else 1


if __name__ == "__main__":
    sys.exit(main())
