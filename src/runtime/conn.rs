//! Client connections: the accept loop, `maxbuffer`-checked 4-byte-length framing, four-letter
//! words on the first 4 bytes, and a writer that batches queued frames into few syscalls.
//! These tasks only move bytes; every decision is the core's.

use super::core::CoreMsg;
use crate::server::Input;
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub(crate) enum Out {
    Bytes(Bytes),
    Close,
}

pub(crate) struct ConnConfig {
    pub max_frame: usize,
}

/// Per-connection outbound queue. Large, because Java buffers replies for a client that is
/// slow to read; the reader stops taking requests well before it fills.
const OUT_QUEUE: usize = 65536;
/// The reader pauses while this many frames wait to be written.
const READ_PAUSE: usize = 4096;

const FOUR_LETTER_WORDS: [&[u8; 4]; 18] = [
    b"ruok", b"srvr", b"stat", b"mntr", b"conf", b"cons", b"envi", b"wchs", b"wchc", b"wchp", b"dump", b"isro",
    b"dirs", b"crst", b"srst", b"hash", b"gtmk", b"stmk",
];

/// Whether a connection's first four bytes are a four-letter word rather than a frame length.
pub(crate) fn is_four_letter_word(first: &[u8; 4]) -> bool {
    FOUR_LETTER_WORDS.contains(&first)
}

pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let sock = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    TcpListener::from_std(sock.into())
}

pub(crate) async fn accept_loop(listener: TcpListener, core: mpsc::Sender<CoreMsg>, cfg: Arc<ConnConfig>) {
    let next = AtomicU64::new(1);
    let mut backoff = Duration::from_millis(1);
    loop {
        match listener.accept().await {
            Ok((sock, addr)) => {
                backoff = Duration::from_millis(1);
                let _ = sock.set_nodelay(true);
                let id = next.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = mpsc::channel(OUT_QUEUE);
                if core.send(CoreMsg::Register { conn: id, addr, tx: tx.clone() }).await.is_err() {
                    return;
                }
                let (r, w) = sock.into_split();
                tokio::spawn(writer(w, rx));
                tokio::spawn(reader(id, r, tx, core.clone(), cfg.clone()));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off rather than spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

async fn writer(mut w: tokio::net::tcp::OwnedWriteHalf, mut rx: mpsc::Receiver<Out>) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    'outer: while let Some(first) = rx.recv().await {
        let mut close = false;
        let mut next = Some(first);
        while let Some(m) = next.take() {
            match m {
                Out::Bytes(b) => buf.extend_from_slice(&b),
                Out::Close => {
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

async fn reader(
    id: u64,
    mut r: tokio::net::tcp::OwnedReadHalf,
    out: mpsc::Sender<Out>,
    core: mpsc::Sender<CoreMsg>,
    cfg: Arc<ConnConfig>,
) {
    let mut first = true;
    loop {
        while out.max_capacity() - out.capacity() > READ_PAUSE {
            if out.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut len_buf = [0u8; 4];
        if r.read_exact(&mut len_buf).await.is_err() {
            break;
        }
        if first {
            first = false;
            if is_four_letter_word(&len_buf) {
                let _ = core
                    .send(CoreMsg::Client(Input::FourLetter { conn: id, word: len_buf, io: Default::default() }))
                    .await;
                // Keep the socket until the writer has answered and closed it.
                let mut sink = [0u8; 64];
                while let Ok(n) = r.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
                break;
            }
        }
        let len = i32::from_be_bytes(len_buf);
        if len < 0 || len as usize > cfg.max_frame {
            tracing::warn!("Len error {len} from connection {id}; closing it");
            let _ = out.try_send(Out::Close);
            break;
        }
        let mut frame = vec![0u8; len as usize];
        if r.read_exact(&mut frame).await.is_err() {
            break;
        }
        if core.send(CoreMsg::Client(Input::Frame { conn: id, frame: Bytes::from(frame) })).await.is_err() {
            break;
        }
    }
    let _ = core.send(CoreMsg::Client(Input::Closed { conn: id })).await;
}
