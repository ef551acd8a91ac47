//! CTAPHID over UDP, the convention of existing FIDO authenticator
//! simulators: one datagram carries one 64-byte report with no report-ID
//! byte; the authenticator listens on 127.0.0.1:8111 and the client on
//! 127.0.0.1:7112.
//!
//! Datagrams from any address other than the configured remote are
//! dropped, and so are datagrams that are not exactly 64 bytes long: the
//! wait simply continues until a proper report arrives or the timeout
//! ends, so a stray packet can neither crash nor confuse the client.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{REPORT_LEN, Report, Transport, TransportError, deadline_after};

/// Largest datagram read; bigger ones are truncated by the OS and dropped here.
const DATAGRAM_BUF: usize = 2048;
/// Shortest read timeout handed to the OS (a zero timeout means "block
/// forever" to `set_read_timeout`, so it is never passed).
const MIN_WAIT: Duration = Duration::from_millis(1);

fn io_err(addr: SocketAddr, source: std::io::Error) -> TransportError {
    TransportError::Io {
        path: format!("udp:{addr}"),
        source,
    }
}

/// Receives one datagram of exactly 64 bytes from `from` (or from anyone if
/// `from` is `None`) within `timeout`. Returns the report and its sender.
/// `ConnectionRefused` (nobody listens at a connected peer) is returned as is.
fn recv_report(
    sock: &UdpSocket,
    from: Option<SocketAddr>,
    timeout: Duration,
    name: SocketAddr,
) -> Result<(Report, SocketAddr), RecvError> {
    let deadline = deadline_after(timeout);
    let mut buf = [0u8; DATAGRAM_BUF];
    let timed_out = || RecvError::Transport(TransportError::Timeout(timeout));
    // Always try at least once (a zero timeout still picks up a queued datagram).
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        sock.set_read_timeout(Some(left.max(MIN_WAIT)))
            .map_err(|e| RecvError::Transport(io_err(name, e)))?;
        match sock.recv_from(&mut buf) {
            Ok((n, src)) => {
                if from.is_none_or(|f| f == src) && n == REPORT_LEN {
                    let mut r = [0u8; REPORT_LEN];
                    r.copy_from_slice(&buf[..REPORT_LEN]);
                    return Ok((r, src));
                }
                // Skipped: a stranger or a wrong size.
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            // An ICMP "port unreachable" answered an earlier send (Windows
            // reports it as a reset).
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
                ) =>
            {
                return Err(RecvError::Refused);
            }
            Err(e) => return Err(RecvError::Transport(io_err(name, e))),
        }
        if Instant::now() >= deadline {
            return Err(timed_out());
        }
    }
}

enum RecvError {
    Transport(TransportError),
    Refused,
}

/// True when nothing on this machine has bound `remote`'s port: both
/// `remote` itself and the wildcard address on that port can be bound (and
/// are released at once). Asked for loopback addresses only; a bind that
/// fails for any reason (in use, not allowed) counts as "someone may be
/// there". Unlike an ICMP "port unreachable", which some systems never pass
/// on to a UDP socket (wine), this answers before anything is sent.
pub fn nobody_bound(remote: SocketAddr) -> bool {
    if !remote.ip().is_loopback() || remote.port() == 0 {
        return false;
    }
    let wildcard = match remote {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], remote.port())),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], remote.port())),
    };
    [remote, wildcard]
        .iter()
        .all(|a| UdpSocket::bind(a).is_ok())
}

/// A UDP link to a simulated authenticator.
///
/// The socket is connected to the remote address, so the OS itself drops
/// datagrams from other senders and reports "connection refused" when no
/// simulator listens there: [`TransportError::NotFound`] if the simulator
/// never answered, [`TransportError::Gone`] if it answered before (it stopped).
pub struct UdpTransport {
    sock: UdpSocket,
    remote: SocketAddr,
    heard: bool,
}

impl UdpTransport {
    /// Binds `listen` and sends to `remote`. Use port 0 in `listen` for an
    /// ephemeral port (the simulator then answers to the sender address).
    ///
    /// A loopback `remote` whose port nothing on this machine has bound is
    /// [`TransportError::NotFound`] at once (see [`nobody_bound`]).
    pub fn open(remote: SocketAddr, listen: SocketAddr) -> Result<Self, TransportError> {
        let sock = UdpSocket::bind(listen).map_err(|e| io_err(listen, e))?;
        sock.connect(remote).map_err(|e| io_err(remote, e))?;
        let t = UdpTransport {
            sock,
            remote,
            heard: false,
        };
        if nobody_bound(remote) {
            return Err(t.refused());
        }
        Ok(t)
    }

    fn refused(&self) -> TransportError {
        if self.heard {
            TransportError::Gone(self.name())
        } else {
            TransportError::NotFound(self.name())
        }
    }

    /// The address actually bound (useful when `listen` used port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        self.sock.local_addr().map_err(|e| io_err(self.remote, e))
    }

    /// The authenticator's address.
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }
}

impl Transport for UdpTransport {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        match self.sock.send(report) {
            Ok(n) if n == REPORT_LEN => Ok(()),
            Ok(n) => Err(io_err(
                self.remote,
                std::io::Error::new(ErrorKind::WriteZero, format!("sent {n} of 64 bytes")),
            )),
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => Err(self.refused()),
            Err(e) => Err(io_err(self.remote, e)),
        }
    }

    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        match recv_report(&self.sock, Some(self.remote), timeout, self.remote) {
            Ok((r, _)) => {
                self.heard = true;
                Ok(r)
            }
            Err(RecvError::Refused) => Err(self.refused()),
            Err(RecvError::Transport(e)) => Err(e),
        }
    }

    fn name(&self) -> String {
        let listen = self
            .sock
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into());
        format!("udp:{},listen={listen}", self.remote)
    }
}

/// The authenticator side of the UDP convention, for simulators and tests:
/// receives reports from any client and answers the last sender.
pub struct UdpPeer {
    sock: UdpSocket,
    client: Option<SocketAddr>,
}

impl UdpPeer {
    /// Binds `addr` (port 0 for an ephemeral port).
    pub fn bind(addr: SocketAddr) -> Result<Self, TransportError> {
        let sock = UdpSocket::bind(addr).map_err(|e| io_err(addr, e))?;
        Ok(UdpPeer { sock, client: None })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr, TransportError> {
        let fallback = SocketAddr::from(([0, 0, 0, 0], 0));
        self.sock.local_addr().map_err(|e| io_err(fallback, e))
    }

    /// Waits at most `timeout` for a 64-byte report from any client and
    /// remembers the sender for [`UdpPeer::send`].
    pub fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        let me = self.local_addr()?;
        let deadline = deadline_after(timeout);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match recv_report(&self.sock, None, left, me) {
                Ok((r, src)) => {
                    self.client = Some(src);
                    return Ok(r);
                }
                // A client that went away made an earlier reply bounce; keep listening.
                Err(RecvError::Refused) if Instant::now() < deadline => continue,
                Err(RecvError::Refused) => return Err(TransportError::Timeout(timeout)),
                Err(RecvError::Transport(TransportError::Timeout(_))) => {
                    return Err(TransportError::Timeout(timeout));
                }
                Err(RecvError::Transport(e)) => return Err(e),
            }
        }
    }

    /// Sends a report to the client last heard from ([`TransportError::NotFound`]
    /// if none has spoken yet).
    pub fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        let to = self
            .client
            .ok_or_else(|| TransportError::NotFound("no UDP client has spoken yet".into()))?;
        self.send_to(report, to)
    }

    /// Sends a report to an explicit address.
    pub fn send_to(&self, report: &Report, to: SocketAddr) -> Result<(), TransportError> {
        self.sock
            .send_to(report, to)
            .map(|_| ())
            .map_err(|e| io_err(to, e))
    }

    /// Sends arbitrary bytes (tests use it for wrong-sized datagrams).
    pub fn send_raw(&self, bytes: &[u8], to: SocketAddr) -> Result<(), TransportError> {
        self.sock
            .send_to(bytes, to)
            .map(|_| ())
            .map_err(|e| io_err(to, e))
    }

    /// The client last heard from.
    pub fn client(&self) -> Option<SocketAddr> {
        self.client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lo() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }

    fn report(tag: u8) -> Report {
        let mut r = [0u8; REPORT_LEN];
        r[0] = tag;
        r[63] = tag ^ 0xFF;
        r
    }

    #[test]
    fn reports_cross_both_ways() {
        let mut dev = UdpPeer::bind(lo()).unwrap();
        let mut client = UdpTransport::open(dev.local_addr().unwrap(), lo()).unwrap();
        client.send(&report(1)).unwrap();
        assert_eq!(dev.recv(Duration::from_secs(5)).unwrap(), report(1));
        assert_eq!(dev.client(), Some(client.local_addr().unwrap()));
        dev.send(&report(2)).unwrap();
        assert_eq!(client.recv(Duration::from_secs(5)).unwrap(), report(2));
        assert!(
            client
                .name()
                .starts_with(&format!("udp:{}", dev.local_addr().unwrap()))
        );
    }

    #[test]
    fn strangers_and_wrong_sizes_are_skipped() {
        let dev = UdpPeer::bind(lo()).unwrap();
        let stranger = UdpPeer::bind(lo()).unwrap();
        let mut client = UdpTransport::open(dev.local_addr().unwrap(), lo()).unwrap();
        let me = client.local_addr().unwrap();
        stranger.send_to(&report(9), me).unwrap();
        dev.send_raw(&[1, 2, 3], me).unwrap();
        dev.send_raw(&[0u8; 65], me).unwrap();
        dev.send_to(&report(3), me).unwrap();
        assert_eq!(client.recv(Duration::from_secs(5)).unwrap(), report(3));
        // Only junk left: the wait ends with a timeout.
        stranger.send_to(&report(9), me).unwrap();
        dev.send_raw(&[0u8; 63], me).unwrap();
        assert!(matches!(
            client.recv(Duration::from_millis(200)),
            Err(TransportError::Timeout(_))
        ));
    }

    #[test]
    fn zero_timeout_does_not_block() {
        let dev = UdpPeer::bind(lo()).unwrap();
        let mut client = UdpTransport::open(dev.local_addr().unwrap(), lo()).unwrap();
        assert!(matches!(
            client.recv(Duration::ZERO),
            Err(TransportError::Timeout(d)) if d == Duration::ZERO
        ));
        // A datagram already queued is still picked up.
        dev.send_to(&report(4), client.local_addr().unwrap())
            .unwrap();
        assert_eq!(client.recv(Duration::ZERO).unwrap(), report(4));
        // An absurdly long timeout neither overflows nor delays a queued report.
        dev.send_to(&report(5), client.local_addr().unwrap())
            .unwrap();
        assert_eq!(client.recv(Duration::MAX).unwrap(), report(5));
    }

    #[test]
    fn peer_send_before_any_client_is_an_error() {
        let mut dev = UdpPeer::bind(lo()).unwrap();
        assert!(matches!(
            dev.send(&report(0)),
            Err(TransportError::NotFound(_))
        ));
    }

    #[test]
    fn nobody_listening_on_loopback_is_not_found_before_anything_is_sent() {
        let gone = UdpPeer::bind(lo()).unwrap();
        let addr = gone.local_addr().unwrap();
        drop(gone);
        let err = UdpTransport::open(addr, lo()).err().expect("not found");
        assert!(matches!(err, TransportError::NotFound(_)), "{err:?}");
    }

    #[test]
    fn a_bound_port_is_someone_there_whichever_address_holds_it() {
        let peer = UdpPeer::bind(lo()).unwrap();
        let addr = peer.local_addr().unwrap();
        assert!(!nobody_bound(addr));
        // A simulator on every address answers 127.0.0.1 too.
        let wide = UdpSocket::bind("0.0.0.0:0").unwrap();
        let port = wide.local_addr().unwrap().port();
        assert!(!nobody_bound(SocketAddr::from(([127, 0, 0, 1], port))));
        // Not loopback, or no port: never claimed.
        assert!(!nobody_bound("192.0.2.1:8111".parse().unwrap()));
        assert!(!nobody_bound("127.0.0.1:0".parse().unwrap()));
    }

    #[test]
    // Under wine 8.0 no ICMP "port unreachable" reaches a UDP socket
    // (Linux reports ECONNREFUSED, Windows WSAECONNRESET): this path is
    // what a peer that stops after `open` looks like elsewhere.
    #[cfg_attr(
        windows,
        ignore = "wine does not report ICMP port unreachable on UDP sockets"
    )]
    fn a_peer_that_stops_after_open_is_refused_on_send_or_receive() {
        let gone = UdpPeer::bind(lo()).unwrap();
        let addr = gone.local_addr().unwrap();
        let mut client = UdpTransport::open(addr, lo()).unwrap();
        drop(gone);
        // The refusal shows up on the send or on the following receive.
        let err = match client.send(&report(1)) {
            Err(e) => e,
            Ok(()) => client.recv(Duration::from_secs(5)).unwrap_err(),
        };
        assert!(matches!(err, TransportError::NotFound(_)), "{err:?}");
    }

    #[test]
    fn bind_failure_is_io_error() {
        let taken = UdpPeer::bind(lo()).unwrap();
        let addr = taken.local_addr().unwrap();
        assert!(matches!(
            UdpTransport::open(addr, addr),
            Err(TransportError::Io { .. })
        ));
    }
}
