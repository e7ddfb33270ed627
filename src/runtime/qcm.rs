//! The election connections (Java's `QuorumCnxManager`) on tokio: listen on this server's
//! election address, dial the others, one TCP connection per pair of servers chosen by the
//! larger-sid-wins rule, length-prefixed frames, and per peer a send queue of one message (a
//! newer one replaces it) plus the last message sent, repeated first on every new connection.
//! It moves bytes and decides nothing: notifications go out through [`QcmHandle::send`] and
//! come in, decoded, on the receiver [`start`] returns.
//!
//! Tasks: one manager task owns all per-peer state; a listener task per bound address; per
//! accepted socket a short handshake task; per dial a dial task; per live connection a reader
//! and a writer task. A task that fails only ends its own connection (with a log line).
//!
//! Differences from Java 3.8, on purpose:
//! - The listener never blocks on one slow handshake (Java reads initial messages on its
//!   accept thread, so one silent client stalls all accepts for the socket timeout).
//! - An acceptor whose peer has the smaller sid dials back to the address in the initial
//!   message only if that sid is in the configuration (Java dials any address it is told).
//!   Unknown larger sids are kept, as in Java: they are answered like observers.
//! - A malformed address (port out of range) closes that connection; in Java the exception
//!   escapes and stops the election listener for good.
//! - Peers with a queued message are redialled with backoff (100 ms doubling to 5 s); Java
//!   redials only when the election sends again.
//! - The inbound queue is a bounded channel: when it is full the newest message is dropped and
//!   logged (Java's 100-entry queue drops the oldest).
//! - A frame whose state is unknown is dropped here, so a non-voter sending one gets no reply
//!   (Java answers it before looking at the state).

use crate::config::Config;
use crate::quorum::election::wire::{
    self, InitialMessage, PeerAddress, MAX_FRAME_LEN, OBSERVER_ID, PROTOCOL_V1, PROTOCOL_V2,
};
use crate::quorum::election::Notification;
use crate::types::ServerId;
use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// `QuorumCnxManager.RECV_CAPACITY`.
pub const INBOUND_CAPACITY: usize = 100;
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Everything the connection manager needs, resolved from zoo.cfg and `-D` properties.
#[derive(Clone, Debug)]
pub struct QcmConfig {
    pub my_id: i64,
    /// Where to listen (`quorumListenOnAllIPs` makes these wildcard addresses).
    pub listen: Vec<SocketAddr>,
    /// My election address(es) as the initial message carries them (resolved, Java-formatted).
    pub advertise: Vec<PeerAddress>,
    /// `PROTOCOL_V1`, or `PROTOCOL_V2` with `multiAddress.enabled`.
    pub protocol: i64,
    /// Every other server of the configuration: its election addresses.
    pub peers: BTreeMap<i64, Vec<PeerAddress>>,
    /// `zookeeper.cnxTimeout`: connect timeout when dialling.
    pub cnx_timeout: Duration,
    /// `zookeeper.quorumCnxnTimeoutMs`, else tickTime × syncLimit: how long an accepted socket
    /// may take to send its initial message.
    pub handshake_timeout: Duration,
    /// `zookeeper.electionPortBindRetry` (0: forever), one second apart.
    pub bind_retry: u32,
    /// `zookeeper.tcpKeepAlive`.
    pub tcp_keep_alive: bool,
}

impl QcmConfig {
    /// Resolves this server's addresses (host names with DNS, as Java does at start).
    pub async fn from_config(c: &Config) -> anyhow::Result<QcmConfig> {
        let my_id = c.server_id.context("no myid")?;
        let me = c.servers.get(&my_id).with_context(|| format!("myid {my_id} has no server.{my_id} line"))?;
        let mut listen = Vec::new();
        let mut advertise = Vec::new();
        for a in &me.addrs {
            let resolved = resolve(&a.host, a.election_port).await?;
            advertise.push(java_format(resolved));
            // `getWildcardAddresses`: the same port on every interface (of the address's family).
            listen.push(match (c.quorum_listen_on_all_ips, resolved) {
                (false, r) => r,
                (true, SocketAddr::V4(_)) => SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), a.election_port),
                (true, SocketAddr::V6(_)) => SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), a.election_port),
            });
        }
        let peers = c
            .servers
            .iter()
            .filter(|(id, _)| **id != my_id)
            .map(|(id, s)| {
                (*id, s.addrs.iter().map(|a| PeerAddress { host: a.host.clone(), port: a.election_port }).collect())
            })
            .collect();
        let int = |name: &str| c.props.get(name).and_then(|v| v.trim().parse::<i64>().ok());
        let socket_timeout = match int("zookeeper.quorumCnxnTimeoutMs") {
            Some(v) if v > 0 => v as u64,
            _ => (c.tick_time_ms.max(0) as u64) * (c.sync_limit.max(0) as u64),
        };
        Ok(QcmConfig {
            my_id,
            listen,
            advertise,
            protocol: if c.multi_address_enabled { PROTOCOL_V2 } else { PROTOCOL_V1 },
            peers,
            cnx_timeout: Duration::from_millis(int("zookeeper.cnxTimeout").map_or(5000, |v| v.max(0) as u64)),
            handshake_timeout: Duration::from_millis(socket_timeout.max(1)),
            bind_retry: int("zookeeper.electionPortBindRetry").filter(|v| *v >= 0).map_or(3, |v| v as u32),
            tcp_keep_alive: c
                .props
                .get("zookeeper.tcpKeepAlive")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
        })
    }
}

async fn resolve(host: &str, port: u16) -> anyhow::Result<SocketAddr> {
    tokio::net::lookup_host((host, port))
        .await
        .with_context(|| format!("cannot resolve {host}:{port}"))?
        .next()
        .with_context(|| format!("{host}:{port} resolves to nothing"))
}

/// `NetUtils.formatInetAddr` of a resolved address: IPv6 in Java's uncompressed form.
fn java_format(a: SocketAddr) -> PeerAddress {
    let host = match a {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => v6.ip().segments().iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":"),
    };
    PeerAddress { host, port: a.port() }
}

/// The handle the election driver uses. Cheap to clone; dropping every clone stops the manager.
#[derive(Clone)]
pub struct QcmHandle {
    cmd: mpsc::UnboundedSender<Cmd>,
    local_addrs: Arc<Vec<SocketAddr>>,
}

impl QcmHandle {
    /// `toSend`: queue `n` for `to` (replacing anything still queued) and connect if needed.
    /// To myself it comes straight back on the inbound channel.
    pub fn send(&self, to: ServerId, n: &Notification) {
        let _ = self.cmd.send(Cmd::Send { to: to.0, frame: wire::encode_notification(n) });
    }

    /// `connectAll`: dial every peer that has a queue and no connection.
    pub fn connect_all(&self) {
        let _ = self.cmd.send(Cmd::ConnectAll);
    }

    /// Closes every connection and the listeners.
    pub fn shutdown(&self) {
        let _ = self.cmd.send(Cmd::Shutdown);
    }

    /// The addresses actually bound (useful with port 0 in tests).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }
}

enum Cmd {
    Send { to: i64, frame: Vec<u8> },
    ConnectAll,
    Shutdown,
}

/// What the tasks report to the manager.
enum Event {
    Handshaken { stream: TcpStream, from: SocketAddr, msg: InitialMessage, leftover: Vec<u8> },
    Dialed { sid: i64, result: DialResult },
    Closed { sid: i64, conn: u64, why: String },
}

enum DialResult {
    Connected(TcpStream),
    /// We sent our initial message and closed: the peer has the larger sid and dials back.
    LostChallenge,
    Failed(String),
}

/// The capacity-1 send queue and `lastMessageSent` of one peer, shared with its writer task.
#[derive(Default)]
struct SendSlot {
    state: Mutex<SlotState>,
    notify: Notify,
}

#[derive(Default)]
struct SlotState {
    queued: Option<Arc<Vec<u8>>>,
    last_sent: Option<Arc<Vec<u8>>>,
}

impl SendSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        // A writer that panicked while holding the lock leaves plain data behind; keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Conn {
    id: u64,
    tasks: [JoinHandle<()>; 2],
}

impl Conn {
    fn close(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

struct Peer {
    slot: Arc<SendSlot>,
    conn: Option<Conn>,
    dialing: bool,
    backoff: Duration,
    next_dial: Option<Instant>,
}

impl Peer {
    fn new() -> Peer {
        Peer { slot: Arc::new(SendSlot::default()), conn: None, dialing: false, backoff: BACKOFF_MIN, next_dial: None }
    }
}

/// Binds the election listener(s) and starts the manager. Returns the handle and the inbound
/// notifications, `(sender sid, notification)`, at most [`INBOUND_CAPACITY`] waiting.
pub async fn start(cfg: QcmConfig) -> anyhow::Result<(QcmHandle, mpsc::Receiver<(ServerId, Notification)>)> {
    let mut listeners = Vec::new();
    for addr in &cfg.listen {
        listeners.push(bind_with_retry(*addr, cfg.bind_retry).await?);
    }
    let local_addrs: Vec<SocketAddr> = listeners.iter().filter_map(|l| l.local_addr().ok()).collect();
    for a in &local_addrs {
        tracing::info!("{} is accepting connections now, my election bind port: {a}", cfg.my_id);
    }
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let (in_tx, in_rx) = mpsc::channel(INBOUND_CAPACITY);
    let mut listener_tasks = Vec::new();
    for l in listeners {
        listener_tasks.push(tokio::spawn(accept_loop(l, ev_tx.clone(), cfg.handshake_timeout, cfg.tcp_keep_alive)));
    }
    let manager = Manager {
        cfg,
        peers: BTreeMap::new(),
        next_conn: 1,
        next_observer_id: -1,
        inbound: in_tx,
        inbound_dropped: 0,
        events: ev_tx,
        listener_tasks,
    };
    tokio::spawn(manager.run(cmd_rx, ev_rx));
    Ok((QcmHandle { cmd: cmd_tx, local_addrs: Arc::new(local_addrs) }, in_rx))
}

/// `Listener.ListenerHandler.acceptConnections`' bind: SO_REUSEADDR, up to `retries` attempts
/// (0: forever) one second apart.
async fn bind_with_retry(addr: SocketAddr, retries: u32) -> anyhow::Result<TcpListener> {
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let r = (|| {
            let s = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
            s.set_reuseaddr(true)?;
            s.bind(addr)?;
            s.listen(50)
        })();
        match r {
            Ok(l) => return Ok(l),
            Err(e) if retries == 0 || attempt < retries => {
                tracing::error!("Exception while listening to address {addr}: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("Leaving listener thread for address {addr} after {attempt} errors. Use zookeeper.electionPortBindRetry property to increase retry count.")
                })
            }
        }
    }
}

fn set_sock_opts(s: &TcpStream, keep_alive: bool) {
    let _ = s.set_nodelay(true);
    if keep_alive {
        let _ = socket2::SockRef::from(s).set_keepalive(true);
    }
}

async fn accept_loop(l: TcpListener, events: mpsc::UnboundedSender<Event>, timeout: Duration, keep_alive: bool) {
    loop {
        match l.accept().await {
            Ok((stream, from)) => {
                set_sock_opts(&stream, keep_alive);
                tracing::info!("Received connection request from {from}");
                tokio::spawn(handshake(stream, from, events.clone(), timeout));
            }
            Err(e) => {
                tracing::warn!("election accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads an initial message (`handleConnection`), within the socket timeout.
async fn handshake(mut stream: TcpStream, from: SocketAddr, events: mpsc::UnboundedSender<Event>, timeout: Duration) {
    let read = async {
        let mut buf = Vec::with_capacity(64);
        let mut chunk = [0u8; 512];
        loop {
            match wire::decode_initial_message(&buf) {
                Ok(Some((msg, used))) => return Ok((msg, buf.split_off(used))),
                Ok(None) => {}
                Err(e) => return Err(format!("Initial message parsing error! {e}")),
            }
            let n =
                stream.read(&mut chunk).await.map_err(|e| format!("Exception reading or writing challenge: {e}"))?;
            if n == 0 {
                return Err(format!("connection closed after {} bytes of the initial message", buf.len()));
            }
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok((msg, leftover))) => {
            let _ = events.send(Event::Handshaken { stream, from, msg, leftover });
        }
        Ok(Err(why)) => tracing::warn!("closing election connection from {from}: {why}"),
        Err(_) => tracing::warn!("closing election connection from {from}: no initial message within {timeout:?}"),
    }
}

struct Manager {
    cfg: QcmConfig,
    peers: BTreeMap<i64, Peer>,
    next_conn: u64,
    /// `observerCounter`: ids handed to anonymous observers.
    next_observer_id: i64,
    inbound: mpsc::Sender<(ServerId, Notification)>,
    inbound_dropped: u64,
    events: mpsc::UnboundedSender<Event>,
    listener_tasks: Vec<JoinHandle<()>>,
}

impl Manager {
    async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<Cmd>, mut events: mpsc::UnboundedReceiver<Event>) {
        loop {
            let retry_at =
                self.peers.values().filter(|p| p.conn.is_none() && !p.dialing).filter_map(|p| p.next_dial).min();
            let retry = async {
                match retry_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Send { to, frame }) => self.send(to, frame),
                    Some(Cmd::ConnectAll) => {
                        let ids: Vec<i64> = self.peers.keys().copied().collect();
                        for sid in ids {
                            self.connect_one(sid, None);
                        }
                    }
                    Some(Cmd::Shutdown) | None => break,
                },
                Some(ev) = events.recv() => self.event(ev),
                () = retry => self.retry_due(),
            }
        }
        for t in &self.listener_tasks {
            t.abort();
        }
        for p in self.peers.values_mut() {
            if let Some(c) = p.conn.take() {
                c.close();
            }
        }
        tracing::info!("election connection manager stopped");
    }

    fn send(&mut self, to: i64, frame: Vec<u8>) {
        if to == self.cfg.my_id {
            match wire::decode_notification(&frame) {
                Ok(n) => self.deliver(to, n),
                Err(e) => tracing::warn!("dropping a loopback notification: {e}"),
            }
            return;
        }
        if !self.cfg.peers.contains_key(&to) && !self.peers.contains_key(&to) {
            // An unknown server that is no longer connected: nowhere to send it (Java would
            // keep it queued forever).
            tracing::debug!("dropping a notification for {to}: not connected and not in the configuration");
            return;
        }
        let peer = self.peers.entry(to).or_insert_with(Peer::new);
        peer.slot.lock().queued = Some(Arc::new(frame));
        peer.slot.notify.notify_one();
        self.connect_one(to, None);
    }

    fn deliver(&mut self, from: i64, n: Notification) {
        match self.inbound.try_send((ServerId(from), n)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.inbound_dropped += 1;
                if self.inbound_dropped % 100 == 1 {
                    tracing::warn!(
                        "election inbound queue full: dropped a notification from {from} ({} so far)",
                        self.inbound_dropped
                    );
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// `connectOne`: dial `sid` unless connected or already dialling, at the given addresses
    /// (from its initial message) or else the configured ones.
    fn connect_one(&mut self, sid: i64, addrs: Option<Vec<PeerAddress>>) {
        let peer = self.peers.entry(sid).or_insert_with(Peer::new);
        if peer.conn.is_some() || peer.dialing {
            return;
        }
        if peer.next_dial.is_some_and(|t| Instant::now() < t) {
            return; // the retry timer will dial
        }
        let Some(configured) = self.cfg.peers.get(&sid) else {
            peer.next_dial = None;
            tracing::warn!("Invalid server id: {sid}");
            return;
        };
        let addrs = addrs.filter(|a| !a.is_empty()).unwrap_or_else(|| configured.clone());
        peer.dialing = true;
        let (my_id, protocol, timeout) = (self.cfg.my_id, self.cfg.protocol, self.cfg.cnx_timeout);
        let advertise: Vec<PeerAddress> = if protocol == PROTOCOL_V2 {
            self.cfg.advertise.clone()
        } else {
            self.cfg.advertise.iter().take(1).cloned().collect()
        };
        let keep_alive = self.cfg.tcp_keep_alive;
        let events = self.events.clone();
        tokio::spawn(async move {
            let result = dial(my_id, sid, &addrs, protocol, &advertise, timeout, keep_alive).await;
            let _ = events.send(Event::Dialed { sid, result });
        });
    }

    fn retry_due(&mut self) {
        let now = Instant::now();
        let due: Vec<i64> = self
            .peers
            .iter()
            .filter(|(_, p)| p.conn.is_none() && !p.dialing && p.next_dial.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for sid in due {
            if let Some(p) = self.peers.get_mut(&sid) {
                p.next_dial = None;
                if p.slot.lock().queued.is_some() {
                    self.connect_one(sid, None);
                }
            }
        }
    }

    fn event(&mut self, ev: Event) {
        match ev {
            Event::Handshaken { stream, from, msg, leftover } => self.accepted(stream, from, msg, leftover),
            Event::Dialed { sid, result } => {
                let peer = self.peers.entry(sid).or_insert_with(Peer::new);
                peer.dialing = false;
                match result {
                    DialResult::Connected(stream) => {
                        peer.backoff = BACKOFF_MIN;
                        peer.next_dial = None;
                        self.register(sid, stream, Vec::new());
                    }
                    DialResult::LostChallenge => {
                        peer.backoff = BACKOFF_MIN;
                        tracing::info!(
                            "Have smaller server identifier, so dropping the connection: (myId:{} --> sid:{sid})",
                            self.cfg.my_id
                        );
                    }
                    DialResult::Failed(why) => {
                        tracing::warn!("Cannot open channel to {sid} at election address: {why}");
                        peer.next_dial = Some(Instant::now() + peer.backoff);
                        peer.backoff = (peer.backoff * 2).min(BACKOFF_MAX);
                    }
                }
            }
            Event::Closed { sid, conn, why } => {
                if let Some(peer) = self.peers.get_mut(&sid) {
                    if peer.conn.as_ref().is_some_and(|c| c.id == conn) {
                        tracing::warn!("Connection broken for id {sid}, my id = {}: {why}", self.cfg.my_id);
                        if let Some(c) = peer.conn.take() {
                            c.close();
                        }
                        if peer.slot.lock().queued.is_some() {
                            peer.next_dial = Some(Instant::now() + peer.backoff);
                        }
                    }
                }
                // Unknown servers leave no state behind once their connection is gone.
                if !self.cfg.peers.contains_key(&sid) && self.peers.get(&sid).is_some_and(|p| p.conn.is_none()) {
                    self.peers.remove(&sid);
                }
            }
        }
    }

    /// `handleConnection` after the initial message: the larger sid's connection survives.
    fn accepted(&mut self, stream: TcpStream, from: SocketAddr, msg: InitialMessage, leftover: Vec<u8>) {
        let mut sid = msg.sid;
        if sid == OBSERVER_ID {
            sid = self.next_observer_id;
            self.next_observer_id -= 1;
            tracing::info!("Setting arbitrary identifier to observer: {sid}");
        }
        let my_id = self.cfg.my_id;
        if sid < my_id {
            // Drop it and dial back: my outgoing connection is the one that counts.
            if let Some(c) = self.peers.get_mut(&sid).and_then(|p| p.conn.take()) {
                c.close();
            }
            drop(stream);
            if self.cfg.peers.contains_key(&sid) {
                tracing::debug!("Create new connection to server: {sid}");
                if let Some(p) = self.peers.get_mut(&sid) {
                    p.next_dial = None;
                }
                self.connect_one(sid, Some(msg.addresses));
            } else {
                tracing::warn!("closing election connection from {from}: server id {sid} is not in the configuration");
            }
        } else if sid == my_id {
            tracing::warn!(
                "We got a connection request from a server with our own ID ({from}). This should be either a configuration error, or a bug."
            );
        } else {
            if !self.cfg.peers.contains_key(&sid) {
                tracing::info!("election connection from {from} with server id {sid}, which is not in the configuration: treated as a non-voter");
            }
            self.register(sid, stream, leftover);
        }
    }

    /// Starts the reader and writer of a new connection to `sid`, replacing any older one.
    fn register(&mut self, sid: i64, stream: TcpStream, leftover: Vec<u8>) {
        let id = self.next_conn;
        self.next_conn += 1;
        let peer = self.peers.entry(sid).or_insert_with(Peer::new);
        if let Some(old) = peer.conn.take() {
            old.close();
        }
        let (rd, wr) = stream.into_split();
        let reader = tokio::spawn(read_frames(sid, id, rd, leftover, self.inbound.clone(), self.events.clone()));
        let writer = tokio::spawn(write_frames(sid, id, wr, peer.slot.clone(), self.events.clone()));
        peer.conn = Some(Conn { id, tasks: [reader, writer] });
    }
}

/// `initiateConnection` + `startConnection`: connect, send the initial message, and keep the
/// socket only if the peer's sid is smaller than mine.
async fn dial(
    my_id: i64,
    sid: i64,
    addrs: &[PeerAddress],
    protocol: i64,
    advertise: &[PeerAddress],
    timeout: Duration,
    keep_alive: bool,
) -> DialResult {
    let mut last_err = String::from("no address");
    for a in addrs {
        let attempt = async {
            let target = resolve(&a.host, a.port).await.map_err(|e| format!("{e:#}"))?;
            TcpStream::connect(target).await.map_err(|e| format!("{}: {e}", a.to_java_string()))
        };
        let mut stream = match tokio::time::timeout(timeout, attempt).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                last_err = e;
                continue;
            }
            Err(_) => {
                last_err = format!("{}: connect timed out after {timeout:?}", a.to_java_string());
                continue;
            }
        };
        set_sock_opts(&stream, keep_alive);
        let hello = wire::encode_initial_message(protocol, my_id, advertise);
        if let Err(e) = stream.write_all(&hello).await {
            last_err = format!("Ignoring exception reading or writing challenge: {e}");
            continue;
        }
        if sid > my_id {
            let _ = stream.shutdown().await;
            return DialResult::LostChallenge;
        }
        return DialResult::Connected(stream);
    }
    DialResult::Failed(last_err)
}

/// `RecvWorker`: `int len` (1..=512 KiB) + body, decoded and handed to the election.
async fn read_frames(
    sid: i64,
    conn: u64,
    mut rd: tokio::net::tcp::OwnedReadHalf,
    leftover: Vec<u8>,
    inbound: mpsc::Sender<(ServerId, Notification)>,
    events: mpsc::UnboundedSender<Event>,
) {
    let mut src = std::io::Cursor::new(leftover).chain(&mut rd);
    let mut dropped = 0u64;
    let why = loop {
        let len = match src.read_i32().await {
            Ok(l) => l,
            Err(e) => break format!("{e}"),
        };
        if len <= 0 || len as usize > MAX_FRAME_LEN {
            break format!("Received packet with invalid packet: {len}");
        }
        let mut body = vec![0u8; len as usize];
        if let Err(e) = src.read_exact(&mut body).await {
            break format!("{e}");
        }
        match wire::decode_notification(&body) {
            Ok(n) => match inbound.try_send((ServerId(sid), n)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    dropped += 1;
                    if dropped % 100 == 1 {
                        tracing::warn!("election inbound queue full: dropped a notification from {sid} ({dropped} so far)");
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => break "election stopped".to_string(),
            },
            Err(e) => tracing::warn!(
                "Skipping the processing of a partial / malformed response message sent by sid={sid} (message length: {len}): {e}"
            ),
        }
    };
    let _ = events.send(Event::Closed { sid, conn, why });
}

/// `SendWorker`: first the last message sent (only if nothing newer is queued), then every
/// message put in the slot.
async fn write_frames(
    sid: i64,
    conn: u64,
    mut wr: tokio::net::tcp::OwnedWriteHalf,
    slot: Arc<SendSlot>,
    events: mpsc::UnboundedSender<Event>,
) {
    let first = {
        let s = slot.lock();
        if s.queued.is_none() {
            s.last_sent.clone()
        } else {
            None
        }
    };
    let mut next = first;
    let why = loop {
        if let Some(frame) = next.take() {
            let mut buf = Vec::with_capacity(4 + frame.len());
            buf.extend_from_slice(&(frame.len() as i32).to_be_bytes());
            buf.extend_from_slice(&frame);
            if let Err(e) = wr.write_all(&buf).await {
                break format!("{e}");
            }
            continue;
        }
        let queued = {
            let mut s = slot.lock();
            let q = s.queued.take();
            if let Some(q) = &q {
                s.last_sent = Some(q.clone());
            }
            q
        };
        match queued {
            Some(q) => next = Some(q),
            None => slot.notify.notified().await,
        }
    };
    let _ = events.send(Event::Closed { sid, conn, why });
}

#[cfg(test)]
#[path = "qcm_tests.rs"]
mod tests;
