//! Device selection strings: `hid:PATH`, `udp:HOST:PORT[,listen=HOST:PORT]`, `sim:SCENARIO`,
//! `pcsc:READER`.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use super::TransportError;

/// Default address a UDP simulator listens on (the convention of existing FIDO simulators).
pub const DEFAULT_UDP_REMOTE: &str = "127.0.0.1:8111";
/// Default address the client listens on for the simulator's replies.
pub const DEFAULT_UDP_LISTEN: &str = "127.0.0.1:7112";

/// Which authenticator to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// A real key, by hidapi path.
    Hid {
        /// Platform path as hidapi reports it (e.g. `/dev/hidraw3`).
        path: String,
    },
    /// A CTAPHID-over-UDP simulator.
    Udp {
        /// Where the authenticator listens.
        remote: SocketAddr,
        /// Where this client listens for replies.
        listen: SocketAddr,
    },
    /// The built-in simulator running a named scenario.
    Sim {
        /// Scenario name (see `sim::scenario`).
        scenario: String,
    },
    /// An NFC key on a PC/SC reader.
    Pcsc {
        /// Reader name, or part of it; empty: the only reader with a key on it.
        reader: String,
    },
}

fn bad(input: &str, reason: impl Into<String>) -> TransportError {
    TransportError::BadSpec {
        input: input.to_string(),
        reason: reason.into(),
    }
}

fn resolve(input: &str, addr: &str) -> Result<SocketAddr, TransportError> {
    addr.to_socket_addrs()
        .map_err(|e| bad(input, format!("{addr:?} is not HOST:PORT ({e})")))?
        .next()
        .ok_or_else(|| bad(input, format!("{addr:?} resolves to no address")))
}

impl FromStr for DeviceSpec {
    type Err = TransportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, rest) = s.split_once(':').ok_or_else(|| {
            bad(
                s,
                "expected hid:PATH, udp:HOST:PORT, sim:SCENARIO or pcsc:READER",
            )
        })?;
        match kind {
            "hid" if !rest.is_empty() => Ok(DeviceSpec::Hid {
                path: rest.to_string(),
            }),
            "hid" => Err(bad(s, "missing device path after hid:")),
            "sim" if !rest.is_empty() => Ok(DeviceSpec::Sim {
                scenario: rest.to_string(),
            }),
            "sim" => Err(bad(s, "missing scenario name after sim:")),
            "pcsc" | "nfc" => Ok(DeviceSpec::Pcsc {
                reader: rest.to_string(),
            }),
            "udp" => {
                let mut parts = rest.split(',');
                let remote = match parts.next() {
                    Some("") | None => DEFAULT_UDP_REMOTE,
                    Some(r) => r,
                };
                let mut listen = DEFAULT_UDP_LISTEN;
                for opt in parts {
                    match opt.split_once('=') {
                        Some(("listen", v)) => listen = v,
                        _ => return Err(bad(s, format!("unknown option {opt:?}"))),
                    }
                }
                Ok(DeviceSpec::Udp {
                    remote: resolve(s, remote)?,
                    listen: resolve(s, listen)?,
                })
            }
            other => Err(bad(s, format!("unknown device kind {other:?}"))),
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Hid { path } => write!(f, "hid:{path}"),
            DeviceSpec::Udp { remote, listen } => write!(f, "udp:{remote},listen={listen}"),
            DeviceSpec::Sim { scenario } => write!(f, "sim:{scenario}"),
            DeviceSpec::Pcsc { reader } => write!(f, "pcsc:{reader}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind() {
        assert_eq!(
            "hid:/dev/hidraw3".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Hid {
                path: "/dev/hidraw3".into()
            }
        );
        assert_eq!(
            "sim:modern".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Sim {
                scenario: "modern".into()
            }
        );
        let udp: DeviceSpec = "udp:127.0.0.1:9000,listen=127.0.0.1:9001".parse().unwrap();
        assert_eq!(udp.to_string(), "udp:127.0.0.1:9000,listen=127.0.0.1:9001");
        let nfc: DeviceSpec = "pcsc:Virtual PCD 00 00".parse().unwrap();
        assert_eq!(
            nfc,
            DeviceSpec::Pcsc {
                reader: "Virtual PCD 00 00".into()
            }
        );
        assert_eq!(nfc.to_string(), "pcsc:Virtual PCD 00 00");
        let default: DeviceSpec = "udp:".parse().unwrap();
        assert_eq!(
            default.to_string(),
            "udp:127.0.0.1:8111,listen=127.0.0.1:7112"
        );
    }

    #[test]
    fn rejects_garbage_with_reason() {
        for s in [
            "",
            "usb:x",
            "hid:",
            "sim:",
            "udp:nonsense",
            "udp:127.0.0.1:1,foo=bar",
        ] {
            let err = s.parse::<DeviceSpec>().unwrap_err();
            assert!(matches!(err, TransportError::BadSpec { .. }), "{s}: {err}");
        }
    }
}
