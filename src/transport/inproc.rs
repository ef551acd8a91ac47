//! In-process transport: a pair of channels joining a client to a simulated
//! authenticator running on another thread, report by report.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use super::{Report, Transport, TransportError};

/// The client end: implements [`Transport`].
pub struct InProcTransport {
    name: String,
    tx: Sender<Report>,
    rx: Receiver<Report>,
}

/// The authenticator end, handed to the simulator.
pub struct InProcPeer {
    /// Reports sent by the client.
    pub rx: Receiver<Report>,
    /// Reports going back to the client.
    pub tx: Sender<Report>,
}

/// Creates a connected client/authenticator pair; `name` is what
/// [`Transport::name`] reports (for example `sim:modern`).
pub fn pair(name: impl Into<String>) -> (InProcTransport, InProcPeer) {
    let (to_dev, from_client) = mpsc::channel();
    let (to_client, from_dev) = mpsc::channel();
    (
        InProcTransport {
            name: name.into(),
            tx: to_dev,
            rx: from_dev,
        },
        InProcPeer {
            rx: from_client,
            tx: to_client,
        },
    )
}

impl Transport for InProcTransport {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        self.tx
            .send(*report)
            .map_err(|_| TransportError::Gone(self.name.clone()))
    }

    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => Err(TransportError::Timeout(timeout)),
            Err(RecvTimeoutError::Disconnected) => Err(TransportError::Gone(self.name.clone())),
        }
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_cross_and_disconnect_is_gone() {
        let (mut client, peer) = pair("sim:test");
        let mut r = [0u8; 64];
        r[0] = 0xAB;
        client.send(&r).unwrap();
        let got = peer.rx.recv().unwrap();
        assert_eq!(got[0], 0xAB);
        peer.tx.send(got).unwrap();
        assert_eq!(client.recv(Duration::from_millis(100)).unwrap()[0], 0xAB);
        assert!(matches!(
            client.recv(Duration::from_millis(10)),
            Err(TransportError::Timeout(_))
        ));
        drop(peer);
        assert!(matches!(client.send(&r), Err(TransportError::Gone(_))));
        assert!(matches!(
            client.recv(Duration::from_millis(10)),
            Err(TransportError::Gone(_))
        ));
    }
}
