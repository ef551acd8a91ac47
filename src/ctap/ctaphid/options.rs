//! How long the CTAPHID layer waits for what ([`HidOptions`]) and the
//! classes of commands by how long a key may take ([`WaitClass`]).

use std::time::Duration;

use super::packet::MAX_MESSAGE;

/// How long to wait for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HidOptions {
    /// Longest wait for a complete response while the key keeps sending
    /// KEEPALIVE (a key waiting for a touch does; the wait ends at this
    /// limit). Also caps every other wait of a command. Default 30 s.
    pub response_timeout: Duration,
    /// Longest gap between the packets of one response. Default 1.5 s.
    pub packet_timeout: Duration,
    /// Longest silence for INIT and for commands without crypto or user
    /// action (GetInfo, PING, WINK). Default 900 ms.
    pub init_timeout: Duration,
    /// Longest silence before the first packet of a command that does crypto
    /// (ClientPIN, MakeCredential, GetAssertion, U2F). Default 3 s.
    pub command_timeout: Duration,
    /// Longest silence after a KEEPALIVE before the key counts as stopped
    /// (keys send one every 100 ms). Default 1 s.
    pub keepalive_gap: Duration,
    /// Largest response accepted, in bytes (capped at [`MAX_MESSAGE`], the
    /// default: 7609 = 57 + 128 × 59).
    pub max_message: usize,
}

impl Default for HidOptions {
    fn default() -> Self {
        HidOptions {
            response_timeout: Duration::from_secs(30),
            packet_timeout: Duration::from_millis(1500),
            init_timeout: Duration::from_millis(900),
            command_timeout: Duration::from_secs(3),
            keepalive_gap: Duration::from_secs(1),
            max_message: MAX_MESSAGE,
        }
    }
}

/// How long a command may take, by what the key has to do for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitClass {
    /// No crypto, no user action (GetInfo, PING, WINK): the first packet
    /// within [`HidOptions::init_timeout`].
    Quick,
    /// Crypto on a possibly slow secure element, or user action announced by
    /// KEEPALIVE: the first packet within [`HidOptions::command_timeout`],
    /// then up to [`HidOptions::response_timeout`] while keep-alives come.
    Slow,
}
