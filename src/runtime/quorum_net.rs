//! Learner ↔ leader connections on the quorum port: the leader's accept loop, a learner's
//! connection to its leader, and the stream codec (`QuorumPacket`s back to back with no
//! length prefix; a SNAP packet followed by the raw snapshot body). These tasks only move
//! packets; the peer state machine decides everything.

use super::core::CoreMsg;
use crate::quorum::io::{Input, LinkId};
use crate::quorum::packet::{kind, PacketError, QuorumPacket, SnapScanner};
use bytes::{Buf, BytesMut};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Packets queued for one peer connection. A leader that cannot hand a learner this many
/// packets drops that learner, as Java's LearnerHandler would after its socket times out.
pub(crate) const LINK_QUEUE: usize = 1 << 16;

pub(crate) enum LinkOut {
    Packet(QuorumPacket),
    Close,
}

/// Which end of the quorum protocol a connection serves, for the messages it sends the core.
#[derive(Clone, Copy)]
enum End {
    /// A learner connected to us (we lead).
    Learner(LinkId),
    /// Our connection to the leader, with its generation (older ones are ignored).
    Leader(u64),
}

impl End {
    fn packet(self, packet: QuorumPacket) -> CoreMsg {
        match self {
            End::Learner(link) => CoreMsg::Input(Input::FromLearner { link, packet }),
            End::Leader(gen) => CoreMsg::FromLeader { gen, input: Input::FromLeader(packet) },
        }
    }
    fn closed(self) -> CoreMsg {
        match self {
            End::Learner(link) => CoreMsg::Input(Input::LearnerClosed { link }),
            End::Leader(gen) => CoreMsg::FromLeader { gen, input: Input::LeaderClosed },
        }
    }
}

/// Accepts learners on the quorum port for as long as the process runs; the peer closes
/// links it does not want (when it is not leading).
pub(crate) async fn accept_learners(listener: TcpListener, core: mpsc::Sender<CoreMsg>, max_packet: usize) {
    let mut next: LinkId = 1;
    let mut backoff = Duration::from_millis(1);
    loop {
        match listener.accept().await {
            Ok((sock, addr)) => {
                backoff = Duration::from_millis(1);
                let _ = sock.set_nodelay(true);
                let link = next;
                next += 1;
                tracing::info!("learner connection {link} from {addr}");
                let (tx, rx) = mpsc::channel(LINK_QUEUE);
                if core.send(CoreMsg::LearnerLink { link, tx }).await.is_err() {
                    return;
                }
                let (r, w) = sock.into_split();
                tokio::spawn(writer(w, rx));
                tokio::spawn(reader(r, End::Learner(link), core.clone(), max_packet));
            }
            Err(e) => {
                tracing::warn!("accepting a learner failed: {e}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Connects to the leader's quorum port (each of its addresses in turn); reports
/// `LeaderConnected` or `LeaderClosed` tagged with `gen`.
pub(crate) fn connect_leader(
    addrs: Vec<(String, u16)>,
    timeout: Duration,
    gen: u64,
    core: mpsc::Sender<CoreMsg>,
    max_packet: usize,
) {
    tokio::spawn(async move {
        let mut last_err = String::from("no address");
        for (host, port) in addrs {
            let resolved: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), port)).await {
                Ok(it) => it.collect(),
                Err(e) => {
                    last_err = format!("{host}:{port}: {e}");
                    continue;
                }
            };
            for addr in resolved {
                match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                    Ok(Ok(sock)) => {
                        let _ = sock.set_nodelay(true);
                        let (tx, rx) = mpsc::channel(LINK_QUEUE);
                        let (r, w) = sock.into_split();
                        if core.send(CoreMsg::LeaderLink { gen, tx }).await.is_err() {
                            return;
                        }
                        tokio::spawn(writer(w, rx));
                        let _ = core.send(CoreMsg::FromLeader { gen, input: Input::LeaderConnected }).await;
                        reader(r, End::Leader(gen), core, max_packet).await;
                        return;
                    }
                    Ok(Err(e)) => last_err = format!("{addr}: {e}"),
                    Err(_) => last_err = format!("{addr}: connect timed out"),
                }
            }
        }
        tracing::warn!("Unexpected exception, connecting to the leader: {last_err}");
        let _ = core.send(CoreMsg::FromLeader { gen, input: Input::LeaderClosed }).await;
    });
}

/// Encodes one packet for the stream: a SNAP's body goes raw after a packet with null data.
pub(crate) fn encode_packet(p: &QuorumPacket, out: &mut BytesMut) {
    if p.type_ == kind::SNAP {
        QuorumPacket::bare(kind::SNAP, p.zxid).encode(out);
        out.extend_from_slice(p.body());
    } else {
        p.encode(out);
    }
}

async fn writer(mut w: impl AsyncWrite + Unpin, mut rx: mpsc::Receiver<LinkOut>) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    'outer: while let Some(first) = rx.recv().await {
        let mut close = false;
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                LinkOut::Packet(p) => encode_packet(&p, &mut buf),
                LinkOut::Close => {
                    close = true;
                    break;
                }
            }
            if buf.len() >= 256 * 1024 {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !buf.is_empty() {
            if w.write_all(&buf).await.is_err() {
                break 'outer;
            }
            buf.clear();
        }
        if close {
            break;
        }
    }
    let _ = w.shutdown().await;
}

/// Splits the stream into packets; a SNAP packet is completed with the body that follows it.
#[derive(Default)]
pub(crate) struct StreamDecoder {
    buf: BytesMut,
    snap: Option<(QuorumPacket, SnapScanner)>,
}

impl StreamDecoder {
    pub(crate) fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The next complete packet, `Ok(None)` when more bytes are needed.
    pub(crate) fn next(&mut self, max_packet: usize) -> Result<Option<QuorumPacket>, PacketError> {
        if let Some((_, scanner)) = &mut self.snap {
            // A snapshot body is bounded by the whole database, not by jute.maxbuffer.
            return match scanner.scan(&self.buf, usize::MAX >> 1)? {
                None => Ok(None),
                Some(len) => {
                    let body = self.buf.split_to(len).freeze();
                    let Some((mut p, _)) = self.snap.take() else { return Ok(None) };
                    p.data = Some(body);
                    Ok(Some(p))
                }
            };
        }
        match QuorumPacket::decode_prefix(&self.buf, max_packet) {
            Err(PacketError::Incomplete) => Ok(None),
            Err(e) => Err(e),
            Ok((p, used)) => {
                self.buf.advance(used);
                if p.type_ == kind::SNAP {
                    self.snap = Some((p, SnapScanner::default()));
                    self.next(max_packet)
                } else {
                    Ok(Some(p))
                }
            }
        }
    }
}

async fn reader(mut r: impl AsyncReadExt + Unpin, end: End, core: mpsc::Sender<CoreMsg>, max_packet: usize) {
    let mut dec = StreamDecoder::default();
    'read: loop {
        loop {
            match dec.next(max_packet) {
                Ok(Some(p)) => {
                    if core.send(end.packet(p)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("closing quorum connection: {e}");
                    break 'read;
                }
            }
        }
        let buf = dec.buffer();
        buf.reserve(64 * 1024);
        match r.read_buf(buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let _ = core.send(end.closed()).await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::Zxid;
    use bytes::Bytes;

    #[test]
    fn a_snap_and_the_packets_around_it_come_out_whole_whatever_the_reads() {
        let tree = crate::tree::DataTree::new(false);
        let body = crate::quorum::snap::encode_body(&tree);
        let packets = vec![
            QuorumPacket::with_data(kind::LEADERINFO, Zxid::epoch_start(1), Bytes::from_static(&[0, 1, 0, 0])),
            QuorumPacket::with_data(kind::SNAP, Zxid(5), body),
            QuorumPacket::with_data(kind::NEWLEADER, Zxid::epoch_start(1), Bytes::from_static(b"version=0")),
            QuorumPacket::bare(kind::UPTODATE, Zxid::NONE),
        ];
        let mut wire = BytesMut::new();
        for p in &packets {
            encode_packet(p, &mut wire);
        }
        for chunk in [1usize, 7, 64, wire.len()] {
            let mut dec = StreamDecoder::default();
            let mut got = Vec::new();
            for piece in wire.chunks(chunk) {
                dec.buffer().extend_from_slice(piece);
                while let Some(p) = dec.next(1 << 20).unwrap() {
                    got.push(p);
                }
            }
            assert_eq!(got, packets, "chunk {chunk}");
        }
    }
}
