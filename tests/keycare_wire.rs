//! authenticatorReset through the real CTAPHID client against a scripted
//! transport: the key's "waiting for touch" keep-alives reach the caller
//! (countdown), and its final answers — NOT_ALLOWED (too late after
//! plug-in), OPERATION_DENIED, USER_ACTION_TIMEOUT, or keep-alives that stop
//! without an answer — become distinct outcomes.

use std::collections::VecDeque;
use std::time::Duration;

use fido_doctor::ctap::ctaphid::{CancelHandle, CtapHid, HidEvent, HidOptions, fragment};
use fido_doctor::ctap::keycare::{self, KeycareError, ResetOutcome};
use fido_doctor::transport::{Report, Transport, TransportError};

const CHANNEL: u32 = 0x0102_0304;
const CMD_INIT: u8 = 0x06;
const CMD_CBOR: u8 = 0x10;
const CMD_KEEPALIVE: u8 = 0x3B;
const CMD_CANCEL: u8 = 0x11;

/// Answers INIT; answers a reset with `keepalives` touch prompts and then
/// `status` (or nothing at all when `status` is `None`).
struct ScriptedKey {
    keepalives: usize,
    status: Option<u8>,
    queue: VecDeque<Report>,
    commands: Vec<u8>,
}

impl ScriptedKey {
    fn new(keepalives: usize, status: Option<u8>) -> Self {
        Self {
            keepalives,
            status,
            queue: VecDeque::new(),
            commands: Vec::new(),
        }
    }

    fn reply(&mut self, cmd: u8, data: &[u8]) {
        self.queue
            .extend(fragment(CHANNEL, cmd, data).expect("small message"));
    }
}

impl Transport for ScriptedKey {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        let cmd = report[4] & 0x7F;
        let len = usize::from(u16::from_be_bytes([report[5], report[6]]));
        let data = report[7..7 + len.min(57)].to_vec();
        match cmd {
            CMD_INIT => {
                let mut resp = data[..8].to_vec();
                resp.extend_from_slice(&CHANNEL.to_be_bytes());
                resp.extend_from_slice(&[2, 1, 0, 0, 0x05]);
                self.queue
                    .extend(fragment(0xFFFF_FFFF, CMD_INIT, &resp).expect("small message"));
            }
            CMD_CBOR => {
                self.commands.push(data[0]);
                for _ in 0..self.keepalives {
                    self.reply(CMD_KEEPALIVE, &[2]);
                }
                if let Some(status) = self.status {
                    self.reply(CMD_CBOR, &[status]);
                }
            }
            CMD_CANCEL => self.commands.push(0xFF),
            _ => {}
        }
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        self.queue
            .pop_front()
            .ok_or(TransportError::Timeout(timeout))
    }

    fn name(&self) -> String {
        "scripted".into()
    }
}

fn reset_with(keepalives: usize, status: Option<u8>) -> (KeycareError, usize, Vec<u8>) {
    let options = HidOptions {
        response_timeout: Duration::from_millis(300),
        ..HidOptions::default()
    };
    let mut hid = CtapHid::open(
        ScriptedKey::new(keepalives, status),
        options,
        CancelHandle::default(),
    )
    .unwrap();
    let mut prompts = 0;
    let err = keycare::reset(&mut hid, &mut |e| {
        if e == HidEvent::UpNeeded {
            prompts += 1;
        }
    })
    .unwrap_err();
    let commands = hid.into_transport().commands;
    (err, prompts, commands)
}

#[test]
fn too_late_after_plug_in() {
    let (err, prompts, commands) = reset_with(0, Some(0x30));
    assert!(matches!(err, KeycareError::ResetTooLate), "{err:?}");
    assert_eq!(ResetOutcome::of(&err), ResetOutcome::TooLate);
    assert_eq!(prompts, 0);
    assert_eq!(commands, [0x07], "one reset, nothing else");
}

#[test]
fn refused_on_the_key() {
    let (err, prompts, _) = reset_with(3, Some(0x27));
    assert!(matches!(err, KeycareError::ResetDenied), "{err:?}");
    assert_eq!(prompts, 3);
}

#[test]
fn the_key_gave_up_waiting_for_the_touch() {
    let (err, _, _) = reset_with(5, Some(0x2F));
    assert_eq!(ResetOutcome::of(&err), ResetOutcome::NoTouch);
}

#[test]
fn touch_prompts_that_stop_without_an_answer_mean_no_touch() {
    let (err, prompts, commands) = reset_with(2, None);
    assert!(matches!(err, KeycareError::NoTouch), "{err:?}");
    assert_eq!(prompts, 2);
    assert_eq!(commands.first(), Some(&0x07), "{commands:?}");
}

#[test]
fn silence_without_a_prompt_is_a_device_failure_not_no_touch() {
    let (err, _, _) = reset_with(0, None);
    assert!(err.is_device_failure(), "{err:?}");
    assert_eq!(err.code(), "timeout");
}
