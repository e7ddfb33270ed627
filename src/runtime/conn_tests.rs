//! The connection tasks over an in-memory stream (the generic path TLS takes): batching in
//! both directions, backpressure by awaited capacity, and Java's reactions to bad input.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncReadExt, DuplexStream, ReadBuf};

/// Counts `poll_write` calls that wrote something: the writes a socket would see.
struct Counting {
    inner: DuplexStream,
    writes: Arc<AtomicUsize>,
}

impl AsyncRead for Counting {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            if *n > 0 {
                self.writes.fetch_add(1, Ordering::Relaxed);
            }
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

struct Setup {
    client: DuplexStream,
    core: mpsc::Receiver<CoreMsg>,
    handle: ConnHandle,
    writes: Arc<AtomicUsize>,
}

async fn setup(pipe: usize, max_frame: usize) -> Setup {
    let (client, server) = tokio::io::duplex(pipe);
    let writes = Arc::new(AtomicUsize::new(0));
    let (core_tx, mut core) = mpsc::channel(64);
    let stream = Shared(Counting { inner: server, writes: writes.clone() });
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    assert!(start(7, addr, stream, &core_tx, &ConnConfig { max_frame }).await);
    let handle = match core.recv().await {
        Some(CoreMsg::Register { conn: 7, handle, .. }) => handle,
        _ => panic!("expected Register for connection 7 first"),
    };
    Setup { client, core, handle, writes }
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

async fn next_core(core: &mut mpsc::Receiver<CoreMsg>) -> CoreMsg {
    tokio::time::timeout(Duration::from_secs(5), core.recv())
        .await
        .expect("the core heard nothing from the connection within 5 s")
        .expect("the connection's core sender is gone")
}

#[tokio::test]
async fn frames_that_arrive_together_reach_the_core_as_one_message() {
    let mut s = setup(64 * 1024, 1024).await;
    let mut bytes = framed(b"one");
    bytes.extend(framed(b""));
    bytes.extend(framed(b"three"));
    s.client.write_all(&bytes).await.unwrap();
    match next_core(&mut s.core).await {
        CoreMsg::Frames { conn: 7, frames } => {
            assert_eq!(frames, vec![Bytes::from_static(b"one"), Bytes::new(), Bytes::from_static(b"three")])
        }
        _ => panic!("expected one Frames message"),
    }
    drop(s.client);
    assert!(matches!(next_core(&mut s.core).await, CoreMsg::Client(Input::Closed { conn: 7 })));
}

#[tokio::test]
async fn replies_handed_over_together_leave_in_one_write() {
    let mut s = setup(64 * 1024, 1024).await;
    let replies: Vec<Bytes> = (0u8..3).map(|i| Bytes::from(framed(&[i; 10]))).collect();
    assert!(s.handle.send(replies.clone(), false));
    assert!(s.handle.send(vec![Bytes::from(framed(b"next"))], false));
    let mut want: Vec<u8> = replies.concat();
    want.extend(framed(b"next"));
    let mut got = vec![0u8; want.len()];
    s.client.read_exact(&mut got).await.unwrap();
    assert_eq!(got, want);
    // both batches were queued before the writer ran: one write for the four replies
    assert_eq!(s.writes.load(Ordering::Relaxed), 1);
    assert_eq!(s.handle.backlog.queued.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn a_bad_length_closes_without_a_reply() {
    for head in [(-1i32).to_be_bytes(), 1025i32.to_be_bytes()] {
        let mut s = setup(64 * 1024, 1024).await;
        s.client.write_all(&head).await.unwrap();
        assert!(matches!(next_core(&mut s.core).await, CoreMsg::Client(Input::Closed { conn: 7 })));
        // a reply the core produced meanwhile is dropped with the connection, as Java drops it
        let _ = s.handle.send(vec![Bytes::from(framed(b"late"))], false);
        let mut rest = Vec::new();
        s.client.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"");
    }
}

#[tokio::test]
async fn a_four_letter_word_is_answered_then_closed() {
    let mut s = setup(64 * 1024, 1024).await;
    s.client.write_all(b"ruok").await.unwrap();
    match next_core(&mut s.core).await {
        CoreMsg::Client(Input::FourLetter { conn: 7, word, .. }) => assert_eq!(&word, b"ruok"),
        _ => panic!("expected FourLetter"),
    }
    assert!(s.handle.send(vec![Bytes::from_static(b"imok")], true));
    let mut got = Vec::new();
    s.client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"imok");
    assert!(matches!(next_core(&mut s.core).await, CoreMsg::Client(Input::Closed { conn: 7 })));
}

#[tokio::test]
async fn replies_past_the_bound_are_refused_and_abort_drops_the_connection() {
    let mut s = setup(64 * 1024, 1024).await;
    let big = Bytes::from(vec![0u8; close_bytes(1024) + 1]);
    assert!(!s.handle.send(vec![big], false));
    s.handle.abort();
    let mut got = Vec::new();
    s.client.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"");
    assert!(matches!(next_core(&mut s.core).await, CoreMsg::Client(Input::Closed { conn: 7 })));
}

#[test]
fn close_bound_follows_jute_maxbuffer() {
    assert_eq!(close_bytes(1 << 20), 32 << 20);
    assert_eq!(close_bytes(4 << 20), 64 << 20);
}
