//! Gathering [`Environment`] facts from a [`System`]: the OS and session
//! kind ([`os`]), installed browsers ([`browsers`]) and FIDO device access
//! ([`hid`]); NFC readers ([`nfc`]) only on request. Every probe is bounded; anything that cannot be read is simply
//! left unknown.

pub mod browsers;
pub mod browsers_windows;
pub mod hid;
pub mod nfc;
pub mod os;

use super::facts::Environment;
use super::system::System;

/// Collects every environment fact from `sys`.
pub fn gather_environment(sys: &dyn System) -> Environment {
    let os = os::os_facts(sys);
    let session = os::session_facts(sys, os.family);
    let browsers = browsers::find_browsers(sys, os.family);
    let hid = hid::hid_access(sys, os.family);
    Environment {
        os,
        session,
        browsers,
        hid,
        nfc: None,
    }
}
