#!/usr/bin/env python3
"""Third-party check of fido-doctor's simulated NFC card with python-fido2.

Talks to `fido-doctor simulate --vpcd --scenario modern --auto-touch` through
PC/SC (pyscard -> pcscd -> vsmartcard's vpcd) with python-fido2's own
CtapPcscDevice, and performs getInfo, a PIN-verified discoverable
registration whose packed attestation the server verifies, and a sign-in
whose signature the server verifies.

Usage: python_fido2_nfc.py [--reader "Virtual PCD 00 00"] [--pin 1234]
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback

from fido2.attestation import PackedAttestation
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2 import Ctap2
from fido2.pcsc import CtapPcscDevice
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestationConveyancePreference,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

RP = PublicKeyCredentialRpEntity(id="example.com", name="Example RP")
ORIGIN = "https://example.com"


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reader", default="Virtual PCD 00 00", help="PC/SC reader name (or part)")
    ap.add_argument("--pin", default="1234")
    ap.add_argument("--wait", type=float, default=20.0, help="seconds to wait for the card")
    args = ap.parse_args()

    dev = None
    until = time.monotonic() + args.wait
    while dev is None and time.monotonic() < until:
        dev = next(iter(CtapPcscDevice.list_devices(args.reader)), None)
        if dev is None:
            time.sleep(0.5)
    if dev is None:
        print(f"no FIDO card on a reader named like {args.reader!r} within {args.wait:.0f} s")
        return 1

    failed = 0
    passed = 0
    state: dict = {}

    def run(name, fn):
        nonlocal failed, passed
        try:
            fn()
        except Exception:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
        else:
            passed += 1
            print(f"ok   {name}")

    def check(cond: bool, what: str) -> None:
        if not cond:
            raise AssertionError(what)

    interaction = PinInteraction(args.pin)
    client = Fido2Client(dev, DefaultClientDataCollector(ORIGIN), user_interaction=interaction)
    server = Fido2Server(RP, attestation=AttestationConveyancePreference.DIRECT)
    user = PublicKeyCredentialUserEntity(id=b"nfc-user-1", name="carol", display_name="Carol")

    def get_info():
        info = Ctap2(dev).get_info()
        check("FIDO_2_1" in info.versions, f"versions {info.versions}")
        check(info.options.get("clientPin") is True, f"options {info.options}")
        state["info"] = info

    def register():
        options, reg_state = server.register_begin(
            user,
            resident_key_requirement=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        result = client.make_credential(options.public_key)
        auth_data = server.register_complete(reg_state, result)
        check(auth_data.is_user_present(), "UP flag")
        check(auth_data.is_user_verified(), "UV flag (PIN)")
        check(interaction.pin_requests >= 1, "the PIN was asked for")
        att = result.response.attestation_object
        check(att.fmt == "packed", f"fmt {att.fmt}")
        PackedAttestation().verify(att.att_stmt, att.auth_data, result.response.client_data.hash)
        state["cred"] = auth_data.credential_data

    def sign_in():
        options, auth_state = server.authenticate_begin(
            [state["cred"]], user_verification=UserVerificationRequirement.REQUIRED
        )
        selection = client.get_assertion(options.public_key)
        response = selection.get_response(0)
        server.authenticate_complete(auth_state, [state["cred"]], response)
        check(response.response.authenticator_data.is_user_verified(), "UV flag")

    run("getInfo over NFC", get_info)
    if "info" in state:
        run("makeCredential over NFC (rk, PIN, packed attestation)", register)
    if "cred" in state:
        run("getAssertion over NFC", sign_in)
    dev.close()
    print(f"python-fido2 over PC/SC: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
