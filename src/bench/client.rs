//! The load generator's side of the client protocol: connect handshake, 4-byte big-endian
//! framing, and a pipelined per-connection driver that keeps up to `inflight` requests
//! outstanding. ZooKeeper answers a session's requests in order, so a FIFO of what was sent
//! is enough to pair replies with requests; watch notifications (xid -1) and ping replies
//! (xid -2) are the only frames that arrive out of that order.

use super::stats::{ConnStats, BAD_REPLY};
use super::workload::{Generator, Kind};
use crate::jute::opcode::op;
use crate::jute::records::{
    ConnectRequest, ConnectResponse, GetDataRequest, GetDataResponse, ReplyHeader, RequestHeader,
};
use crate::jute::Jute;
use anyhow::{bail, Context};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

/// Replies larger than this are treated as a broken stream rather than allocated: the
/// biggest thing a bench reply carries is a children list or a 1 MB value.
const MAX_FRAME: usize = 64 << 20;
/// Requests are coalesced into one write up to about this many bytes.
const WRITE_BATCH: usize = 64 << 10;
const XID_NOTIFICATION: i32 = -1;
/// xid (4) + zxid (8) + err (4).
const REPLY_HEADER_LEN: usize = 16;
const XID_PING: i32 = -2;

/// One established session.
pub struct Conn {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
    next_xid: i32,
    /// The negotiated session timeout; pings go out at a third of it, as Java's client does.
    pub timeout: Duration,
    pub session_id: i64,
}

/// Appends `len · header · body` to `out`.
pub fn frame_request<J: Jute>(out: &mut Vec<u8>, xid: i32, op_code: i32, body: &J) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    RequestHeader { xid, type_: op_code }.encode(out);
    body.encode(out);
    patch_len(out, start);
}

/// Appends a frame whose body is already encoded.
fn frame_raw(out: &mut Vec<u8>, xid: i32, op_code: i32, body: &[u8]) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    RequestHeader { xid, type_: op_code }.encode(out);
    out.extend_from_slice(body);
    patch_len(out, start);
}

fn patch_len(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 4) as u32;
    if let Some(slot) = out.get_mut(start..start + 4) {
        slot.copy_from_slice(&len.to_be_bytes());
    }
}

async fn read_frame(r: &mut BufReader<OwnedReadHalf>) -> anyhow::Result<Bytes> {
    let len = r.read_u32().await.context("reading frame length")? as usize;
    if len > MAX_FRAME {
        bail!("reply frame of {len} bytes is beyond {MAX_FRAME}");
    }
    let mut v = vec![0u8; len];
    r.read_exact(&mut v).await.context("reading frame body")?;
    Ok(Bytes::from(v))
}

impl Conn {
    /// Opens a TCP connection and a fresh session.
    pub async fn connect(addr: &str, timeout_ms: i32) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::with_capacity(64 << 10, r);
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: timeout_ms,
            session_id: 0,
            passwd: Some(Bytes::from_static(&[0; 16])),
            read_only: Some(false),
        };
        let body = req.to_bytes();
        let mut out = Vec::with_capacity(body.len() + 4);
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        w.write_all(&out).await?;
        let reply = read_frame(&mut r).await.context("reading the connect response")?;
        let resp = ConnectResponse::from_slice(&reply).context("decoding the connect response")?;
        if resp.session_id == 0 || resp.time_out <= 0 {
            bail!("server refused the session (timeout {})", resp.time_out);
        }
        Ok(Conn {
            r,
            w,
            next_xid: 1,
            timeout: Duration::from_millis(resp.time_out as u64),
            session_id: resp.session_id,
        })
    }

    /// One request, waited for; used for setup steps and readiness probes. Notifications and
    /// ping replies that arrive first are skipped.
    pub async fn call<J: Jute>(&mut self, op_code: i32, body: &J) -> anyhow::Result<(ReplyHeader, Bytes)> {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        let mut out = Vec::new();
        frame_request(&mut out, xid, op_code, body);
        self.w.write_all(&out).await?;
        loop {
            let frame = read_frame(&mut self.r).await?;
            let mut rest = &frame[..];
            let hdr = ReplyHeader::decode(&mut rest)?;
            if hdr.xid == XID_NOTIFICATION || hdr.xid == XID_PING {
                continue;
            }
            if hdr.xid != xid {
                bail!("reply xid {} for request xid {xid}", hdr.xid);
            }
            return Ok((hdr, Bytes::copy_from_slice(rest)));
        }
    }

    /// Ends the session politely so ephemerals go at once rather than at timeout.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.call(op::CLOSE_SESSION, &())).await;
    }
}

/// True once `getData(path)` succeeds on a fresh session: "the server is serving". A server
/// that accepts the connection but is still loading its data answers late, so `wait` bounds
/// the whole attempt.
pub async fn probe(addr: &str, path: &str, wait: Duration) -> bool {
    let attempt = async {
        let mut c = Conn::connect(addr, 10_000).await?;
        let (h, _) = c.call(op::GET_DATA, &GetDataRequest { path: path.to_string(), watch: false }).await?;
        c.close().await;
        anyhow::Ok(h.err == 0)
    };
    matches!(tokio::time::timeout(wait, attempt).await, Ok(Ok(true)))
}

/// What all connections of one run share.
pub struct Shared {
    /// Ops completed by every connection, warmup included (progress and CPU-per-op).
    pub completed: AtomicU64,
    /// Remaining op budget for `--ops`; negative once exhausted. `i64::MAX` means none.
    pub budget: AtomicI64,
    /// Set on a fatal error anywhere, so the other connections stop too.
    pub abort: AtomicBool,
}

impl Shared {
    pub fn new(budget: Option<u64>) -> Arc<Shared> {
        Arc::new(Shared {
            completed: AtomicU64::new(0),
            budget: AtomicI64::new(budget.map_or(i64::MAX, |b| b.min(i64::MAX as u64) as i64)),
            abort: AtomicBool::new(false),
        })
    }
}

/// How one connection is driven during one phase.
#[derive(Clone, Copy, Debug)]
pub struct Drive {
    pub inflight: usize,
    /// Latencies and counts are kept only for replies that arrive at or after this instant.
    pub record_from: Instant,
    /// No request is sent at or after this instant.
    pub deadline: Option<Instant>,
    /// Fixed-rate mode: one request every `interval`; requests delayed by a full in-flight
    /// window are timed from their scheduled send time.
    pub interval: Option<Duration>,
    /// Watch notifications to wait for after the last reply (zk-latencies' watch phase).
    pub expect_notifications: u64,
    /// Check that every successful getData reply decodes and carries exactly this many
    /// data bytes; a reply that does not counts as error [`BAD_REPLY`].
    pub verify_get_len: Option<usize>,
}

struct Pending {
    xid: i32,
    kind: Kind,
    start: Instant,
}

/// Runs `gen` on `conn` until the generator ends, the deadline passes or the budget is spent,
/// then waits for every outstanding reply. Returns the connection for the next phase.
pub async fn drive(
    mut conn: Conn,
    mut gen: Box<dyn Generator>,
    cfg: Drive,
    shared: Arc<Shared>,
) -> anyhow::Result<(Conn, ConnStats)> {
    let permits = Semaphore::new(cfg.inflight.max(1));
    let (tx, rx) = mpsc::unbounded_channel::<Pending>();
    let ping_every = conn.timeout / 3;
    let mut stats = ConnStats::new();
    let (wres, rres) = {
        let Conn { r, w, next_xid, .. } = &mut conn;
        let writer = write_loop(w, next_xid, gen.as_mut(), &permits, tx, cfg, &shared, ping_every);
        let reader = read_loop(r, rx, &permits, cfg, &shared, &mut stats);
        tokio::join!(writer, reader)
    };
    if wres.is_err() || rres.is_err() {
        shared.abort.store(true, Ordering::Relaxed);
    }
    wres?;
    rres?;
    Ok((conn, stats))
}

#[allow(clippy::too_many_arguments)]
async fn write_loop(
    w: &mut OwnedWriteHalf,
    next_xid: &mut i32,
    gen: &mut dyn Generator,
    permits: &Semaphore,
    tx: mpsc::UnboundedSender<Pending>,
    cfg: Drive,
    shared: &Shared,
    ping_every: Duration,
) -> anyhow::Result<()> {
    let mut out = Vec::with_capacity(WRITE_BATCH * 2);
    let mut body = Vec::with_capacity(4096);
    let mut next_send = Instant::now();
    let far = Instant::now() + Duration::from_secs(365 * 86_400);
    let deadline = cfg.deadline.unwrap_or(far);
    loop {
        if shared.abort.load(Ordering::Relaxed) || Instant::now() >= deadline {
            return Ok(());
        }
        if cfg.interval.is_some() && next_send > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(next_send) => {}
                _ = tokio::time::sleep_until(deadline) => return Ok(()),
                _ = tokio::time::sleep(ping_every) => {
                    send_ping(w, &mut out).await?;
                    continue;
                }
            }
        }
        // In fixed-rate mode a request that had to wait for an in-flight slot is timed from
        // its scheduled send time, so a stalled server is not hidden (coordinated omission);
        // otherwise from the actual send, so the 1 ms timer granularity does not count.
        let blocked = permits.available_permits() == 0;
        let permit = tokio::select! {
            p = permits.acquire() => p?,
            _ = tokio::time::sleep_until(deadline) => return Ok(()),
            _ = tokio::time::sleep(ping_every) => {
                send_ping(w, &mut out).await?;
                continue;
            }
        };
        permit.forget();
        let now = Instant::now();
        let mut more = true;
        loop {
            if shared.budget.fetch_sub(1, Ordering::Relaxed) <= 0 {
                more = false;
                break;
            }
            body.clear();
            let Some((kind, code)) = gen.next(&mut body) else {
                more = false;
                break;
            };
            let xid = *next_xid;
            *next_xid = next_xid.wrapping_add(1).max(1);
            frame_raw(&mut out, xid, code, &body);
            let start = if cfg.interval.is_some() && blocked { next_send.min(now) } else { now };
            // The reader may only look for a reply after its entry is queued.
            if tx.send(Pending { xid, kind, start }).is_err() {
                bail!("reply reader ended early");
            }
            if let Some(iv) = cfg.interval {
                // Every op already due goes out in this write; the timer is too coarse
                // (1 ms) to wake once per op at high rates.
                next_send += iv;
                if next_send > Instant::now() {
                    break;
                }
            }
            if out.len() >= WRITE_BATCH {
                break;
            }
            match permits.try_acquire() {
                Ok(p) => p.forget(),
                Err(_) => break,
            }
        }
        if !out.is_empty() {
            w.write_all(&out).await?;
            out.clear();
        }
        if !more {
            // The permit taken for the op that was never generated is simply dropped.
            return Ok(());
        }
    }
}

/// Keeps an idle session alive; the reply (xid -2) is skipped by the reader.
async fn send_ping(w: &mut OwnedWriteHalf, out: &mut Vec<u8>) -> anyhow::Result<()> {
    out.clear();
    frame_raw(out, XID_PING, op::PING, &[]);
    w.write_all(out).await?;
    out.clear();
    Ok(())
}

async fn read_loop(
    r: &mut BufReader<OwnedReadHalf>,
    mut rx: mpsc::UnboundedReceiver<Pending>,
    permits: &Semaphore,
    cfg: Drive,
    shared: &Shared,
    stats: &mut ConnStats,
) -> anyhow::Result<()> {
    while let Some(p) = rx.recv().await {
        let (mut hdr, frame) = loop {
            let frame = read_frame(r).await?;
            let hdr = ReplyHeader::from_slice(&frame).context("decoding a reply header")?;
            match hdr.xid {
                XID_NOTIFICATION => stats.notifications += 1,
                XID_PING => {}
                _ => break (hdr, frame),
            }
        };
        if let (Kind::Get, 0, Some(want)) = (p.kind, hdr.err, cfg.verify_get_len) {
            let body = frame.get(REPLY_HEADER_LEN..).unwrap_or_default();
            match GetDataResponse::from_slice(body) {
                Ok(g) if g.data.as_ref().map(|d| d.len()) == Some(want) => {}
                _ => hdr.err = BAD_REPLY,
            }
        }
        if hdr.xid != p.xid {
            bail!("reply xid {} where {} was expected (replies out of order)", hdr.xid, p.xid);
        }
        let now = Instant::now();
        shared.completed.fetch_add(1, Ordering::Relaxed);
        stats.total += 1;
        if now >= cfg.record_from {
            stats.record(p.kind, hdr.err, now.saturating_duration_since(p.start));
        }
        permits.add_permits(1);
    }
    if stats.notifications < cfg.expect_notifications {
        let until = Instant::now() + Duration::from_secs(5);
        while stats.notifications < cfg.expect_notifications {
            match tokio::time::timeout_at(until, read_frame(r)).await {
                Ok(Ok(frame)) => {
                    if ReplyHeader::from_slice(&frame).map(|h| h.xid) == Ok(XID_NOTIFICATION) {
                        stats.notifications += 1;
                    }
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => break,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::jute::records::GetDataRequest;

    #[test]
    fn request_frame_is_length_header_body() {
        let mut out = Vec::new();
        frame_request(&mut out, 7, op::GET_DATA, &GetDataRequest { path: "/a".into(), watch: true });
        // 4 (xid) + 4 (type) + 4 (len) + 2 ("/a") + 1 (watch)
        assert_eq!(&out[..4], &15u32.to_be_bytes());
        assert_eq!(&out[4..8], &7i32.to_be_bytes());
        assert_eq!(&out[8..12], &4i32.to_be_bytes());
        assert_eq!(&out[16..18], b"/a");
        assert_eq!(out.len(), 19);
        assert_eq!(out[18], 1);
    }

    #[test]
    fn ping_frame_matches_java_client() {
        let mut out = Vec::new();
        frame_raw(&mut out, XID_PING, op::PING, &[]);
        assert_eq!(out, vec![0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]);
    }
}
