//! The simulator as a card in vsmartcard's virtual reader: connects to
//! `vpcd` (a PC/SC reader driver loaded by pcscd, listening on TCP
//! 127.0.0.1:35963 by default) and answers its requests with an
//! [`NfcCard`]. So the whole stack is real: a PC/SC client → pcscd → vpcd →
//! this card.
//!
//! vpcd's protocol: each frame is a 2-byte big-endian length and a payload.
//! A 1-byte payload is a control request: 0x00 power off, 0x01 power on,
//! 0x02 reset, 0x04 "send your ATR" (answered with the ATR). Anything longer
//! is a command APDU, answered with the response APDU.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::SimError;
use super::nfc_card::{ATR, NfcCard};
use super::presence::Presence;
use super::scenario::Scenario;

/// Where vpcd listens for its card by default.
pub const DEFAULT_VPCD: &str = "127.0.0.1:35963";
/// Largest frame accepted from vpcd (an extended APDU and its header).
pub const MAX_FRAME: usize = 65_536 + 16;
/// Control byte: power off.
pub const CTRL_OFF: u8 = 0x00;
/// Control byte: power on.
pub const CTRL_ON: u8 = 0x01;
/// Control byte: reset.
pub const CTRL_RESET: u8 = 0x02;
/// Control byte: send the ATR.
pub const CTRL_ATR: u8 = 0x04;

/// How a session with vpcd ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Stopped from outside (Ctrl-C).
    Stopped,
    /// vpcd closed the connection (pcscd stopped).
    Closed,
    /// The scenario took the card off the reader.
    CardRemoved,
}

/// Connects to vpcd at `addr`, retrying for up to `wait` (pcscd may still
/// be starting).
pub fn connect(addr: SocketAddr, wait: Duration) -> Result<TcpStream, SimError> {
    let until = Instant::now() + wait;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => {
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) if Instant::now() >= until => {
                return Err(SimError::Io(std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot reach vpcd at {addr} (is pcscd with vsmartcard-vpcd running?): {e}"
                    ),
                )));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn read_frame(s: &mut TcpStream, stop: &AtomicBool) -> Result<Option<Vec<u8>>, SimError> {
    let mut len = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        if stop.load(Ordering::SeqCst) {
            return Ok(None);
        }
        match s.read(&mut len[got..]) {
            Ok(0) => return Ok(None),
            Ok(n) => got += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let len = usize::from(u16::from_be_bytes(len));
    if len > MAX_FRAME {
        return Err(SimError::Io(std::io::Error::other(
            "oversized frame from vpcd",
        )));
    }
    let mut buf = vec![0u8; len];
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let r = s.read_exact(&mut buf);
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    match r {
        Ok(()) => Ok(Some(buf)),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn write_frame(s: &mut TcpStream, payload: &[u8]) -> Result<(), SimError> {
    let len = u16::try_from(payload.len())
        .map_err(|_| SimError::Io(std::io::Error::other("answer too long for vpcd")))?;
    let mut out = Vec::with_capacity(2 + payload.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    s.write_all(&out)?;
    Ok(())
}

/// Serves `card` on an open connection until `stop`, vpcd closing, or the
/// scenario removing the card (then the connection is dropped, which vpcd
/// reports to PC/SC clients as a card taken off the reader).
pub fn serve_card(
    mut card: NfcCard,
    mut stream: TcpStream,
    stop: &AtomicBool,
) -> Result<Ended, SimError> {
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    loop {
        let Some(frame) = read_frame(&mut stream, stop)? else {
            return Ok(if stop.load(Ordering::SeqCst) {
                Ended::Stopped
            } else {
                Ended::Closed
            });
        };
        match frame.as_slice() {
            [CTRL_OFF] | [CTRL_ON] | [CTRL_RESET] => card.reset(),
            [CTRL_ATR] => write_frame(&mut stream, &ATR)?,
            [_] | [] => {}
            apdu => {
                let answer = card.apdu(apdu);
                if card.is_gone() {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    return Ok(Ended::CardRemoved);
                }
                write_frame(&mut stream, &answer)?;
            }
        }
    }
}

/// `fido-doctor simulate --vpcd`: plays `scenario` as the card in vpcd's
/// reader at `addr` until `stop` is set or the session ends.
pub fn serve(
    scenario: &Scenario,
    presence: Box<dyn Presence>,
    addr: SocketAddr,
    stop: &AtomicBool,
) -> Result<Ended, SimError> {
    let card = NfcCard::new(scenario, presence)?;
    let stream = connect(addr, Duration::from_secs(10))?;
    serve_card(card, stream, stop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{AutoTouch, scenario};
    use std::net::TcpListener;

    /// Plays vpcd's side over a real socket.
    fn exchange(s: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
        let mut out = (payload.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(payload);
        s.write_all(&out).unwrap();
        let mut len = [0u8; 2];
        s.read_exact(&mut len).unwrap();
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut buf).unwrap();
        buf
    }

    #[test]
    fn speaks_the_vpcd_protocol() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let card = std::thread::spawn(move || {
            serve(
                scenario::find("modern").unwrap(),
                Box::new(AutoTouch),
                addr,
                &flag,
            )
        });
        let (mut vpcd, _) = listener.accept().unwrap();
        vpcd.write_all(&[0, 1, CTRL_ON]).unwrap();
        assert_eq!(exchange(&mut vpcd, &[CTRL_ATR]), ATR);
        let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x08];
        select.extend_from_slice(&super::super::nfc_card::FIDO_AID);
        let answer = exchange(&mut vpcd, &select);
        assert_eq!(&answer[answer.len() - 2..], &[0x90, 0x00]);
        drop(vpcd);
        assert_eq!(card.join().unwrap().unwrap(), Ended::Closed);
        stop.store(true, Ordering::SeqCst);
    }

    #[test]
    fn unreachable_vpcd_is_a_clear_error() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let err = connect(addr, Duration::from_millis(10))
            .unwrap_err()
            .to_string();
        assert!(err.contains("vpcd"), "{err}");
    }
}
