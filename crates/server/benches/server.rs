//! Server benchmark, against the real `offbeat-server` binary on loopback:
//!
//! - `stream_throughput_mb_s`: one client reading a 256 MiB file, against reading the
//!   same (cached) file from disk in this process.
//! - `sync_clients_held`, `server_rss_mb`: 2,000 clients, each a user of its own, connect
//!   at once, sync a small playlist of their own, and hold the connection for 30 s.
//! - `reconnect_storm_5000_converged_s`, `shed_503_count`, `lost_edits`, `server_exits`:
//!   5,000 clients synced and connected; the server is killed (SIGKILL) under them; each
//!   notices, makes one edit offline, and retries with jittered exponential backoff
//!   (refused while the server is down; honouring Retry-After once it is up); the server
//!   comes back on the same port after 2 s. The figure is the time from the restart until
//!   the server has every edit, within a 90 s deadline for the whole storm (past it, the
//!   figure misses its target rather than the benchmark hanging); then a new device of
//!   each user reads each edit back, and the server must still be running.
//!
//! The clients speak the automerge-repo protocol themselves (join, then sync messages for
//! one document) with one small Automerge document each, not a full repo per client, so
//! thousands fit in this process.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A benchmark: failing loudly is right.

#[path = "../../../benches/report.rs"]
mod report;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::sync::{Message as SyncMessage, State as SyncState, SyncDoc};
use automerge::Automerge;
use futures::{SinkExt, StreamExt};
use offbeat_playlists::doc::{self, Place, PlaylistKind, TrackRef};
use offbeat_playlists::pos::RandomJitter;
use report::{Figure, Target};
use samod::DocumentId;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const BIN: &str = env!("CARGO_BIN_EXE_offbeat-server");
const HELD: usize = 2_000;
const HOLD: Duration = Duration::from_secs(30);
const STORM: usize = 5_000;
/// The storm, from the first connections to the last edit reaching the restarted server.
const STORM_DEADLINE: Duration = Duration::from_secs(90);
/// How long the server stays dead.
const DOWN: Duration = Duration::from_secs(2);
const BIG_FILE: u64 = 256 << 20;

struct Server {
    child: Child,
    port: u16,
}

fn start(music: &Path, data: &Path, bind: &str) -> Server {
    let mut child = Command::new(BIN)
        .args(["--music"])
        .arg(music)
        .arg("--data")
        .arg(data)
        .args(["--bind", bind])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data.join("server.log")).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    Server { child, port }
}

fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}

/// A WAV file of `bytes` of silence (a real track the scanner lists).
fn big_wav(path: &Path, bytes: u64) {
    let data = bytes - 44;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut header = Vec::new();
    header.extend_from_slice(b"RIFF");
    header.extend_from_slice(&((data + 36) as u32).to_le_bytes());
    header.extend_from_slice(b"WAVEfmt ");
    header.extend_from_slice(&16u32.to_le_bytes());
    header.extend_from_slice(&1u16.to_le_bytes()); // PCM
    header.extend_from_slice(&2u16.to_le_bytes()); // stereo
    header.extend_from_slice(&44_100u32.to_le_bytes());
    header.extend_from_slice(&(44_100u32 * 4).to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&16u16.to_le_bytes());
    header.extend_from_slice(b"data");
    header.extend_from_slice(&(data as u32).to_le_bytes());
    f.write_all(&header).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = data;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
}

/// GET of the whole file over a plain socket; returns the bytes of body read.
fn fetch(port: u16, path: &str, token: &str) -> u64 {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    total
}

// --- A light automerge-repo client ------------------------------------------------------

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

fn cbor(fields: &[(&str, Value<'_>)]) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(fields.len() as u64).unwrap();
    for (k, v) in fields {
        e.str(k).unwrap();
        match v {
            Value::Str(s) => e.str(s).unwrap(),
            Value::Bytes(b) => e.bytes(b).unwrap(),
            Value::Versions => e.array(1).unwrap().str("1").unwrap(),
            Value::Meta => e
                .map(1)
                .unwrap()
                .str("isEphemeral")
                .unwrap()
                .bool(true)
                .unwrap(),
        };
    }
    e.into_writer()
}

enum Value<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    Versions,
    Meta,
}

/// (type, senderId, documentId, data) of a server message.
fn read_message(frame: &[u8]) -> Option<(String, String, Option<String>, Vec<u8>)> {
    let mut d = minicbor::Decoder::new(frame);
    let len = d.map().ok()??;
    let (mut kind, mut sender, mut doc, mut data) =
        (String::new(), String::new(), None, Vec::new());
    for _ in 0..len {
        match d.str().ok()? {
            "type" => kind = d.str().ok()?.to_owned(),
            "senderId" => sender = d.str().ok()?.to_owned(),
            "documentId" => doc = Some(d.str().ok()?.to_owned()),
            "data" => data = d.bytes().ok()?.to_vec(),
            _ => d.skip().ok()?,
        }
    }
    Some((kind, sender, doc, data))
}

#[derive(Debug)]
enum Failed {
    /// 503: wait this long.
    Shed(Duration),
    /// Refused, closed or timed out: retry with backoff.
    Down,
}

struct Client {
    peer: String,
    token: String,
    doc_id: DocumentId,
    doc: Automerge,
}

impl Client {
    fn new(i: usize, token: String) -> Client {
        let mut doc = Automerge::new();
        doc::init(&mut doc, PlaylistKind::Playlist, &format!("Client {i}"), 1).unwrap();
        let track = TrackRef {
            track_uid: format!("h:{i:032x}"),
            title: format!("Song {i}"),
            artist: "Artist".into(),
            album: "Album".into(),
            duration_ms: 200_000,
        };
        doc::add(
            &mut doc,
            &[track],
            Place::End,
            2,
            &mut RandomJitter::seeded(i as u64),
        )
        .unwrap();
        let bytes: [u8; 16] =
            std::array::from_fn(|k| ((i * 31 + k * 7 + 11) % 251) as u8 ^ (k as u8));
        let mut id = bytes;
        id[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        Client {
            peer: format!("bench-peer-{i}"),
            token,
            doc_id: DocumentId::try_from(id.to_vec()).unwrap(),
            doc,
        }
    }

    /// Connects, syncs the document until the server has all of it; returns the socket.
    async fn sync(&mut self, port: u16) -> Result<Socket, Failed> {
        let url = format!("ws://127.0.0.1:{port}/api/v1/sync?peer={}", self.peer);
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", self.token).parse().unwrap(),
        );
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|_| Failed::Down)?;
        tcp.set_nodelay(true).map_err(|_| Failed::Down)?;
        let mut ws = match tokio_tungstenite::client_async(request, tcp).await {
            Ok((ws, _)) => ws,
            Err(tungstenite::Error::Http(r)) if r.status() == 503 => {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                return Err(Failed::Shed(Duration::from_secs(wait)));
            }
            Err(_) => return Err(Failed::Down),
        };
        let step = async {
            ws.send(Message::Binary(
                cbor(&[
                    ("type", Value::Str("join")),
                    ("senderId", Value::Str(&self.peer)),
                    ("supportedProtocolVersions", Value::Versions),
                    ("peerMetadata", Value::Meta),
                ])
                .into(),
            ))
            .await
            .map_err(|_| Failed::Down)?;
            let server_peer = loop {
                let frame = match ws.next().await {
                    Some(Ok(Message::Binary(b))) => b,
                    Some(Ok(_)) => continue,
                    _ => return Err(Failed::Down),
                };
                match read_message(&frame) {
                    Some((kind, sender, _, _)) if kind == "peer" => break sender,
                    _ => return Err(Failed::Down),
                }
            };
            let doc_id = self.doc_id.to_string();
            let mut state = SyncState::new();
            let heads = self.doc.get_heads();
            loop {
                if let Some(message) = self.doc.generate_sync_message(&mut state) {
                    let data = message.encode();
                    ws.send(Message::Binary(
                        cbor(&[
                            ("type", Value::Str("sync")),
                            ("senderId", Value::Str(&self.peer)),
                            ("targetId", Value::Str(&server_peer)),
                            ("documentId", Value::Str(&doc_id)),
                            ("data", Value::Bytes(&data)),
                        ])
                        .into(),
                    ))
                    .await
                    .map_err(|_| Failed::Down)?;
                }
                if state
                    .their_heads
                    .as_ref()
                    .is_some_and(|theirs| heads.iter().all(|h| theirs.contains(h)))
                {
                    return Ok(());
                }
                let frame = match ws.next().await {
                    Some(Ok(Message::Binary(b))) => b,
                    Some(Ok(_)) => continue,
                    _ => return Err(Failed::Down),
                };
                let Some((kind, _, doc, data)) = read_message(&frame) else {
                    return Err(Failed::Down);
                };
                if doc.as_deref() != Some(doc_id.as_str()) {
                    continue;
                }
                if kind != "sync" {
                    return Err(Failed::Down);
                }
                let message = SyncMessage::decode(&data).map_err(|_| Failed::Down)?;
                self.doc
                    .receive_sync_message(&mut state, message)
                    .map_err(|_| Failed::Down)?;
            }
        };
        match tokio::time::timeout(Duration::from_secs(60), step).await {
            Ok(Ok(())) => Ok(ws),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Failed::Down),
        }
    }

    /// Syncs until it succeeds or `deadline` passes (None): jittered exponential backoff
    /// (100 ms doubling to 5 s) while the server refuses connections or drops them,
    /// Retry-After (plus jitter) on 503. Counts the 503s.
    async fn sync_until_done(
        &mut self,
        port: u16,
        shed: &AtomicU64,
        deadline: tokio::time::Instant,
    ) -> Option<Socket> {
        let mut backoff = Duration::from_millis(100);
        let attempts = async {
            loop {
                match self.sync(port).await {
                    Ok(ws) => return ws,
                    Err(Failed::Shed(wait)) => {
                        shed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(wait + jitter(Duration::from_secs(1))).await;
                    }
                    Err(Failed::Down) => {
                        tokio::time::sleep(jitter(backoff)).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        };
        tokio::time::timeout_at(deadline, attempts).await.ok()
    }
}

/// Reads (answering the server's pings) until the connection ends.
async fn until_dropped(mut ws: Socket) {
    while let Some(Ok(_)) = ws.next().await {}
}

/// One storm client's life: syncs and stays connected; when the server dies, makes its
/// offline edit and reconnects (backing off while it is refused) until the server has
/// the edit. True if it got there before `deadline`.
async fn storm_client(
    client: &mut Client,
    port: u16,
    connected: Arc<AtomicUsize>,
    shed_first: Arc<AtomicU64>,
    shed_storm: Arc<AtomicU64>,
    deadline: tokio::time::Instant,
) -> bool {
    let Some(ws) = client.sync_until_done(port, &shed_first, deadline).await else {
        return false;
    };
    connected.fetch_add(1, Ordering::Relaxed);
    until_dropped(ws).await;
    doc::rename(
        &mut client.doc,
        &format!("{} (edited offline)", client.peer),
        9,
    )
    .unwrap();
    client
        .sync_until_done(port, &shed_storm, deadline)
        .await
        .is_some()
}

/// Asks the server for a document as a new device of its user would, and returns its
/// name once it has arrived (None if it never does).
async fn name_on_server(port: u16, token: &str, peer: &str, doc_id: &DocumentId) -> Option<String> {
    // The whole exchange has the deadline, the connection and the WebSocket handshake
    // too: a server that accepts but never answers is a lost edit, not a hung benchmark.
    tokio::time::timeout(
        Duration::from_secs(30),
        read_name(port, token, peer, doc_id),
    )
    .await
    .ok()?
}

/// [`name_on_server`] without its deadline.
async fn read_name(port: u16, token: &str, peer: &str, doc_id: &DocumentId) -> Option<String> {
    let url = format!("ws://127.0.0.1:{port}/api/v1/sync?peer={peer}");
    let mut request = url.into_client_request().ok()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().ok()?);
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, tcp).await.ok()?;
    let steps = async {
        ws.send(Message::Binary(
            cbor(&[
                ("type", Value::Str("join")),
                ("senderId", Value::Str(peer)),
                ("supportedProtocolVersions", Value::Versions),
                ("peerMetadata", Value::Meta),
            ])
            .into(),
        ))
        .await
        .ok()?;
        let mut server_peer = String::new();
        let mut doc = Automerge::new();
        let mut state = SyncState::new();
        let id = doc_id.to_string();
        let mut first = true;
        loop {
            if !server_peer.is_empty() {
                if let Some(message) = doc.generate_sync_message(&mut state) {
                    let data = message.encode();
                    let kind = if first { "request" } else { "sync" };
                    first = false;
                    ws.send(Message::Binary(
                        cbor(&[
                            ("type", Value::Str(kind)),
                            ("senderId", Value::Str(peer)),
                            ("targetId", Value::Str(&server_peer)),
                            ("documentId", Value::Str(&id)),
                            ("data", Value::Bytes(&data)),
                        ])
                        .into(),
                    ))
                    .await
                    .ok()?;
                }
            }
            if let Ok(meta) = doc::read_meta(&doc) {
                return Some(meta.name);
            }
            let frame = match ws.next().await? {
                Ok(Message::Binary(b)) => b,
                Ok(_) => continue,
                Err(_) => return None,
            };
            let (kind, sender, doc_of, data) = read_message(&frame)?;
            match kind.as_str() {
                "peer" => server_peer = sender,
                "sync" if doc_of.as_deref() == Some(id.as_str()) => {
                    doc.receive_sync_message(&mut state, SyncMessage::decode(&data).ok()?)
                        .ok()?;
                }
                "sync" => {}
                _ => return None,
            }
        }
    };
    steps.await
}

fn jitter(up_to: Duration) -> Duration {
    up_to.mul_f64(fastrand::f64())
}

/// Keeps reading (so pings are answered) until `until`; true if the socket stayed open.
async fn hold(mut ws: Socket, until: tokio::time::Instant) -> bool {
    loop {
        match tokio::time::timeout_at(until, ws.next()).await {
            Err(_) => return ws.send(Message::Ping(Vec::new().into())).await.is_ok(),
            Ok(Some(Ok(_))) => {}
            Ok(_) => return false,
        }
    }
}

fn users(data: &Path, n: usize) -> Vec<String> {
    let db = offbeat_server::db::Db::open(&data.join("server.db")).unwrap();
    (0..n)
        .map(|i| db.add_user(&format!("user{i}")).unwrap())
        .collect()
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-server");
    let _ = std::fs::remove_dir_all(&root);
    let music = root.join("music");
    let data = root.join("data");
    std::fs::create_dir_all(&music).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    big_wav(&music.join("Big Silence.wav"), BIG_FILE);
    let tokens = users(&data, STORM);
    let mut figures = Vec::new();

    // --- Streaming -------------------------------------------------------------------
    let mut server = start(&music, &data, "127.0.0.1:0");
    let port = server.port;
    let uid = loop {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(s, "GET /api/v1/catalog HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", tokens[0]).unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        if let Some(at) = body.find("\"track_uid\":\"") {
            let rest = &body[at + 13..];
            break rest[..rest.find('"').unwrap()].to_owned();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let file = music.join("Big Silence.wav");
    let disk = report::median_time(3, || {
        let mut f = std::fs::File::open(&file).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        while f.read(&mut buf).unwrap() > 0 {}
    });
    let path = format!("/api/v1/tracks/{uid}/file");
    let mut got = 0;
    let stream = report::median_time(3, || got = fetch(port, &path, &tokens[0]));
    assert!(got > BIG_FILE, "the whole file came back ({got} bytes)");
    let mb = BIG_FILE as f64 / (1 << 20) as f64;
    let stream_mb_s = mb / stream.as_secs_f64();
    figures.push(Figure {
        name: "stream_throughput_mb_s",
        value: stream_mb_s,
        unit: "MB/s",
        note: format!(
            "one client, 256 MiB over loopback; reading the cached file here {:.0} MB/s, ratio {:.2}",
            mb / disk.as_secs_f64(),
            stream_mb_s / (mb / disk.as_secs_f64())
        ),
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // --- 2,000 held ------------------------------------------------------------------
    let shed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let held = runtime.block_on(async {
        let synced = Arc::new(AtomicUsize::new(0));
        let until = tokio::time::Instant::now() + Duration::from_secs(120);
        let mut tasks = tokio::task::JoinSet::new();
        for (i, token) in tokens.iter().take(HELD).enumerate() {
            let (shed, synced, token) = (shed.clone(), synced.clone(), token.clone());
            tasks.spawn(async move {
                let mut client = Client::new(i, token);
                let ws = client.sync_until_done(port, &shed, until).await?;
                synced.fetch_add(1, Ordering::Relaxed);
                Some(ws)
            });
        }
        let mut sockets = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Ok(Some(ws)) = done {
                sockets.push(ws);
            }
        }
        let connected_in = started.elapsed();
        let hold_until = tokio::time::Instant::now() + HOLD;
        let mut holds = tokio::task::JoinSet::new();
        for ws in sockets {
            holds.spawn(hold(ws, hold_until));
        }
        // Measured while every connection is still open.
        tokio::time::sleep_until(hold_until - Duration::from_secs(1)).await;
        let rss = rss_mb(server.child.id());
        let mut open = 0;
        while let Some(done) = holds.join_next().await {
            if done.unwrap_or(false) {
                open += 1;
            }
        }
        (open, rss, connected_in)
    });
    let (open, (rss, peak), connected_in) = held;
    figures.push(Figure {
        name: "sync_clients_held",
        value: open as f64,
        unit: "clients",
        note: format!(
            "{HELD} users' clients, each synced its own playlist (all in {:.1} s, {} shed and retried), held {} s",
            connected_in.as_secs_f64(),
            shed.load(Ordering::Relaxed),
            HOLD.as_secs()
        ),
    });
    figures.push(Figure {
        name: "server_rss_mb",
        value: rss,
        unit: "MB",
        note: format!("while {open} were held (peak {peak:.0} MB)"),
    });

    // --- The reconnect storm ---------------------------------------------------------
    // 5,000 clients sync and stay connected; the server is SIGKILLed under them; each
    // notices the drop, edits offline, and retries with jittered backoff, refused while
    // the server is down; it comes back on the same port. Everything has a deadline: a
    // storm that does not converge is a failed figure, not a hung benchmark.
    let shed_first = Arc::new(AtomicU64::new(0));
    let shed = Arc::new(AtomicU64::new(0));
    let connected = Arc::new(AtomicUsize::new(0));
    let deadline = tokio::time::Instant::now() + STORM_DEADLINE;
    let mut storm_tasks = tokio::task::JoinSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let mut client = Client::new(HELD + i, token.clone());
        let (connected, shed_first, shed) = (connected.clone(), shed_first.clone(), shed.clone());
        storm_tasks.spawn_on(
            async move {
                let done =
                    storm_client(&mut client, port, connected, shed_first, shed, deadline).await;
                (client, done)
            },
            runtime.handle(),
        );
    }
    let all_connected = runtime.block_on(async {
        while connected.load(Ordering::Relaxed) < STORM {
            if tokio::time::Instant::now() > deadline - STORM_DEADLINE / 2 {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        true
    });
    let held_at_kill = connected.load(Ordering::Relaxed);
    let _ = server.child.kill();
    let _ = server.child.wait();
    // Down long enough that every client has been refused and is backing off.
    std::thread::sleep(DOWN);
    let restart = Instant::now();
    server = start(&music, &data, &format!("127.0.0.1:{port}"));
    let (clients, converged, storm) = runtime.block_on(async {
        let mut clients = Vec::new();
        let mut converged = 0;
        let mut last = Duration::ZERO;
        while let Some(done) = storm_tasks.join_next().await {
            let (client, done) = done.unwrap();
            if done {
                converged += 1;
                last = restart.elapsed();
            }
            clients.push(client);
        }
        (clients, converged, last)
    });
    let storm = if converged == STORM {
        storm
    } else {
        restart.elapsed().max(STORM_DEADLINE)
    };
    // Every edit is on the server: each client saw the server acknowledge it; now a new
    // device of each user reads each document back from the server.
    let checks = Arc::new(tokio::sync::Semaphore::new(256));
    let lost = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, client) in clients.iter().enumerate() {
            let (token, doc_id, wanted) = (
                client.token.clone(),
                client.doc_id.clone(),
                format!("{} (edited offline)", client.peer),
            );
            let checks = checks.clone();
            tasks.spawn(async move {
                let _slot = checks.acquire_owned().await;
                name_on_server(port, &token, &format!("verify-{i}"), &doc_id).await == Some(wanted)
            });
        }
        let mut lost = 0;
        while let Some(done) = tasks.join_next().await {
            if !done.unwrap_or(false) {
                lost += 1;
            }
        }
        lost
    });
    // The server never exits: after the storm and the checks, it is still running.
    let exited = server.child.try_wait().unwrap().is_some();
    figures.push(Figure {
        name: "reconnect_storm_5000_converged_s",
        value: storm.as_secs_f64(),
        unit: "s",
        note: format!(
            "{held_at_kill} of {STORM} connected when the server was SIGKILLed{}; down {} s; \
             {converged} had their offline edit on the server by the deadline ({} s); \
             time from the restart",
            if all_connected {
                ""
            } else {
                " (not all: the connect deadline passed)"
            },
            DOWN.as_secs(),
            STORM_DEADLINE.as_secs()
        ),
    });
    figures.push(Figure {
        name: "shed_503_count",
        value: shed.load(Ordering::Relaxed) as f64,
        unit: "503s",
        note: format!(
            "answered 503 + Retry-After during the storm ({} while first connecting)",
            shed_first.load(Ordering::Relaxed)
        ),
    });
    figures.push(Figure {
        name: "lost_edits",
        value: lost as f64,
        unit: "edits",
        note: "offline edits a new device did not find on the server".into(),
    });
    figures.push(Figure {
        name: "server_exits",
        value: if exited { 1.0 } else { 0.0 },
        unit: "exits",
        note: "1 if the server process had exited by the end of the storm".into(),
    });
    let _ = server.child.kill();
    let _ = server.child.wait();

    report::report_against(
        "server",
        &figures,
        &[
            ("stream_throughput_mb_s", Target::AtLeast(500.0)),
            ("sync_clients_held", Target::AtLeast(HELD as f64)),
            ("server_rss_mb", Target::Below(500.0)),
            ("lost_edits", Target::Below(1.0)),
            (
                "reconnect_storm_5000_converged_s",
                Target::Below(STORM_DEADLINE.as_secs_f64()),
            ),
            ("server_exits", Target::Below(1.0)),
        ],
    )
    .unwrap();
}
