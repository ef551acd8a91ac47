//! The NFC rules on hand-made facts.

use super::*;
use crate::content::ContentSource;
use crate::diagnose::facts::{BrowserId, OsFamily};
use crate::diagnose::gather::nfc::NfcReader;
use crate::diagnose::rules::evaluate;
use crate::transport::TransportError;

fn compat() -> CompatMatrix {
    CompatMatrix::load(&ContentSource::Embedded).unwrap()
}

fn reader(card: bool, applet: Option<bool>) -> NfcReader {
    NfcReader {
        device: "pcsc:Reader 0".into(),
        card_present: card,
        fido_applet: applet,
        applet_version: applet.filter(|a| *a).map(|_| "FIDO_2_0".into()),
    }
}

fn env(os: OsFamily, browsers: &[BrowserId], nfc: Option<NfcFacts>) -> Environment {
    Environment {
        nfc,
        ..Environment::bare(os, browsers)
    }
}

fn chosen(service: NfcService, readers: Vec<NfcReader>) -> Option<NfcFacts> {
    Some(NfcFacts {
        chosen: true,
        service,
        readers,
    })
}

fn ids(env: &Environment, keys: &[KeyFacts]) -> Vec<FindingId> {
    let aaguids = crate::content::aaguid::AaguidTable::load(&ContentSource::Embedded).unwrap();
    evaluate(env, keys, &compat(), &aaguids)
        .into_iter()
        .map(|f| f.id)
        .collect()
}

#[test]
fn nfc_chosen_without_a_reader_says_so() {
    let e = env(
        OsFamily::Windows,
        &[BrowserId::Edge],
        chosen(NfcService::Running, vec![]),
    );
    assert!(ids(&e, &[]).contains(&FindingId::NfcNoReader));
    let down = env(
        OsFamily::Windows,
        &[BrowserId::Edge],
        chosen(NfcService::NotRunning, vec![]),
    );
    let got = ids(&down, &[]);
    assert!(got.contains(&FindingId::NfcServiceDown) && !got.contains(&FindingId::NfcNoReader));
    let not_built = env(
        OsFamily::Windows,
        &[BrowserId::Edge],
        chosen(NfcService::NotBuilt, vec![]),
    );
    assert!(ids(&not_built, &[]).contains(&FindingId::NfcNotBuilt));
}

#[test]
fn reader_without_key_and_card_without_applet() {
    let empty = env(
        OsFamily::Windows,
        &[BrowserId::Chrome],
        chosen(NfcService::Running, vec![reader(false, None)]),
    );
    assert!(ids(&empty, &[]).contains(&FindingId::NfcNoCard));
    let bank_card = env(
        OsFamily::Windows,
        &[BrowserId::Chrome],
        chosen(NfcService::Running, vec![reader(true, Some(false))]),
    );
    let got = ids(&bank_card, &[]);
    assert!(got.contains(&FindingId::NfcNoFidoApplet), "{got:?}");
    assert!(!got.contains(&FindingId::NfcNoCard));
}

#[test]
fn usb_users_hear_nothing_about_nfc() {
    let not_chosen = Some(NfcFacts {
        chosen: false,
        service: NfcService::NotRunning,
        readers: vec![],
    });
    let got = ids(&env(OsFamily::Linux, &[BrowserId::Chrome], not_chosen), &[]);
    assert!(
        !got.iter().any(|id| id.as_str().starts_with("nfc-")),
        "{got:?}"
    );
}

#[test]
fn a_key_taken_off_the_reader_is_its_own_finding() {
    let gone = TransportError::Gone("pcsc:Reader 0".into());
    let nfc_key = KeyFacts::open_failed("pcsc:Reader 0", &gone);
    let got = ids(
        &env(OsFamily::Windows, &[BrowserId::Edge], None),
        &[nfc_key],
    );
    assert!(got.contains(&FindingId::NfcCardRemoved), "{got:?}");
    assert!(!got.contains(&FindingId::DeviceUnplugged), "{got:?}");
    let usb_key = KeyFacts::open_failed("hid:/dev/hidraw0", &TransportError::Gone("x".into()));
    let got = ids(
        &env(OsFamily::Windows, &[BrowserId::Edge], None),
        &[usb_key],
    );
    assert!(got.contains(&FindingId::DeviceUnplugged) && !got.contains(&FindingId::NfcCardRemoved));
}

#[test]
fn compat_rows_say_where_nfc_keys_are_not_taken() {
    let ready = || chosen(NfcService::Running, vec![reader(true, Some(true))]);
    // Microsoft's transport table: no NFC for Chrome on Linux, yes on Windows.
    let linux = ids(&env(OsFamily::Linux, &[BrowserId::Chrome], ready()), &[]);
    assert!(linux.contains(&FindingId::NfcComboUnsupported), "{linux:?}");
    let windows = ids(&env(OsFamily::Windows, &[BrowserId::Chrome], ready()), &[]);
    assert!(
        !windows.contains(&FindingId::NfcComboUnsupported),
        "{windows:?}"
    );
}
