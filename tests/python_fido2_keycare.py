#!/usr/bin/env python3
"""Third-party check of a PIN set by `fido-doctor pin set`, with Yubico's python-fido2.

Talks CTAPHID over UDP to a running `fido-doctor simulate` whose PIN was just
set through fido-doctor's command line, and checks with python-fido2's own
ClientPin class: GetInfo reports clientPin true, the retry counter is full,
the new PIN yields a pinUvAuthToken under PIN protocols one and two, and a
different PIN is refused with PIN_INVALID.

Usage: python_fido2_keycare.py --device 127.0.0.1:8111 --listen 127.0.0.1:7112 --pin NEW
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import socket
import sys

from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.hid import CtapHidDevice
from fido2.hid.base import HidDescriptor

from python_fido2_check import REPORT, Checks, UdpConnection, addr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="127.0.0.1:8111", help="simulator address")
    ap.add_argument("--listen", default="127.0.0.1:7112", help="where replies arrive")
    ap.add_argument("--pin", required=True, help="the PIN fido-doctor set")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per report")
    args = ap.parse_args()

    conn = UdpConnection(addr(args.device), addr(args.listen), args.timeout)
    desc = HidDescriptor(f"udp:{args.device}", 0, 0, REPORT, REPORT, "fido-doctor simulator", None)
    try:
        dev = CtapHidDevice(desc, conn)
    except (OSError, socket.timeout) as e:
        print(f"no simulator answered at {args.device}: {e}")
        return 1
    ctap = Ctap2(dev)
    c = Checks()

    def pin_is_set():
        info = ctap.get_info()
        c.check(info.options.get("clientPin") is True, f"options {info.options}")

    def retries_full():
        retries, _ = ClientPin(ctap).get_pin_retries()
        c.check(retries == 8, f"{retries} retries")

    def token_with(protocol):
        def run():
            client_pin = ClientPin(ctap, protocol=protocol())
            token = client_pin.get_pin_token(
                args.pin, ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com"
            )
            c.check(len(token) == 32, f"token of {len(token)} bytes")

        return run

    def other_pin_refused():
        try:
            ClientPin(ctap).get_pin_token(
                args.pin + "0", ClientPin.PERMISSION.MAKE_CREDENTIAL, "example.com"
            )
        except CtapError as e:
            c.check(e.code == CtapError.ERR.PIN_INVALID, f"error {e.code}")
        else:
            raise AssertionError("a different PIN got a token")

    c.run("GetInfo reports clientPin true", pin_is_set)
    c.run("retry counter is full", retries_full)
    c.run("token with the new PIN (protocol 2)", token_with(PinProtocolV2))
    c.run("token with the new PIN (protocol 1)", token_with(PinProtocolV1))
    c.run("a different PIN is refused", other_pin_refused)
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
