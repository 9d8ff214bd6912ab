//! Syncing a repo with `offbeat-server`: a samod dialer for its `/api/v1/sync` WebSocket.
//!
//! samod's stock WebSocket dialer cannot send a header and leaves Nagle on. This one sends
//! `Authorization: Bearer <token>`, names the repo's peer id in the URL (the server binds
//! it to the token's user), sets TCP_NODELAY, and reports a refused token (401/403) as a
//! permanent failure so the repo stops redialling. It pings every second and gives the
//! connection up after three seconds without a frame (a half-open connection after sleep),
//! and waits out a 503's `Retry-After` (plus jitter) before samod's backoff redials.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use samod::{DialError, Dialer, PeerId, Transport, Url};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};

/// How often a ping goes to the server.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// Silence after which the connection counts as dead (three heartbeats missed).
pub const DEAD_AFTER: Duration = Duration::from_secs(3);

/// Why a connection to the server failed for good.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the server refused the token ({0})")]
    Token(StatusCode),
    #[error("not a server address: {0}")]
    BadUrl(String),
}

/// Dials `<server>/api/v1/sync?peer=<peer id>` with a bearer token.
#[derive(Clone)]
pub struct ServerDialer {
    url: Url,
    token: String,
}

impl std::fmt::Debug for ServerDialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("ServerDialer")
            .field("url", &self.url.as_str())
            .finish()
    }
}

impl ServerDialer {
    /// `server` is the server's base URL (`http://host:port` or `ws://host:port`).
    pub fn new(server: &str, token: &str, peer: &PeerId) -> Result<ServerDialer, Refused> {
        let mut url = Url::parse(server).map_err(|e| Refused::BadUrl(format!("{server}: {e}")))?;
        let scheme = match url.scheme() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            other => return Err(Refused::BadUrl(format!("{server}: scheme {other}"))),
        };
        url.set_scheme(scheme)
            .map_err(|()| Refused::BadUrl(server.to_owned()))?;
        // A server behind a path prefix (a reverse proxy) keeps it.
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}/api/v1/sync"));
        url.query_pairs_mut()
            .clear()
            .append_pair("peer", peer.as_str());
        Ok(ServerDialer {
            url,
            token: token.to_owned(),
        })
    }
}

impl Dialer for ServerDialer {
    type Error = Refused;

    fn url(&self) -> Url {
        self.url.clone()
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<Refused>>> {
        let url = self.url.clone();
        let token = self.token.clone();
        async move {
            if url.scheme() == "wss" {
                return Err(DialError::PermanentFailure(Refused::BadUrl(
                    "wss:// needs TLS, which this build does not have".into(),
                )));
            }
            // (`host_str` keeps an IPv6 address's brackets, which this form needs.)
            let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
            let port = url.port_or_known_default().unwrap_or(80);
            let tcp = tokio::net::TcpStream::connect(format!("{host}:{port}"))
                .await
                .map_err(DialError::transient)?;
            tcp.set_nodelay(true).map_err(DialError::transient)?;
            let mut request = url
                .as_str()
                .into_client_request()
                .map_err(|e| DialError::PermanentFailure(Refused::BadUrl(e.to_string())))?;
            let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|e| DialError::PermanentFailure(Refused::BadUrl(e.to_string())))?;
            request.headers_mut().insert("authorization", bearer);
            let (ws, _) = match tokio_tungstenite::client_async(request, tcp).await {
                Ok(ok) => ok,
                Err(tungstenite::Error::Http(response))
                    if matches!(
                        response.status(),
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ) =>
                {
                    return Err(DialError::PermanentFailure(Refused::Token(
                        response.status(),
                    )));
                }
                Err(tungstenite::Error::Http(response))
                    if matches!(
                        response.status(),
                        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
                    ) =>
                {
                    // The server said when to come back: wait that long (plus jitter, so a
                    // crowd of clients does not return at once) before samod's own backoff.
                    let seconds = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .unwrap_or(1)
                        .min(300);
                    let wait = Duration::from_secs(seconds)
                        + Duration::from_millis(fastrand::u64(0..=1000));
                    tokio::time::sleep(wait).await;
                    return Err(DialError::transient(tungstenite::Error::Http(response)));
                }
                Err(e) => return Err(DialError::transient(e)),
            };
            let (mut ws_sink, ws_stream) = ws.split();
            // One task writes: samod's frames, and a ping every HEARTBEAT.
            let (out, mut outgoing) = futures::channel::mpsc::channel::<Vec<u8>>(64);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(HEARTBEAT);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    let sent = tokio::select! {
                        frame = outgoing.next() => match frame {
                            Some(bytes) => ws_sink.send(Message::Binary(bytes.into())).await,
                            None => {
                                let _ = ws_sink.close().await;
                                break;
                            }
                        },
                        _ = tick.tick() => ws_sink.send(Message::Ping(Vec::new().into())).await,
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            });
            // Reading: any frame (a pong included) proves the server is there; nothing for
            // DEAD_AFTER means a half-open connection (a laptop that slept, a cable pulled,
            // a server gone without a goodbye), and the connection is given up.
            let stream = futures::stream::unfold(Some(ws_stream), |state| async move {
                let mut ws = state?;
                loop {
                    match tokio::time::timeout(DEAD_AFTER, ws.next()).await {
                        Err(_) => {
                            let e = std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "no heartbeat from the server",
                            );
                            return Some((Err(tungstenite::Error::Io(e)), None));
                        }
                        Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return None,
                        Ok(Some(Ok(Message::Binary(bytes)))) => {
                            return Some((Ok(bytes.to_vec()), Some(ws)))
                        }
                        Ok(Some(Ok(Message::Text(_)))) => {
                            let e = tungstenite::Error::Protocol(
                                tungstenite::error::ProtocolError::InvalidOpcode(1),
                            );
                            return Some((Err(e), None));
                        }
                        Ok(Some(Ok(_))) => continue,
                        Ok(Some(Err(e))) => return Some((Err(e), None)),
                    }
                }
            });
            let stream = Box::pin(stream);
            let sink = out;
            Ok(Transport::new(stream, sink))
        }
        .boxed()
    }
}
