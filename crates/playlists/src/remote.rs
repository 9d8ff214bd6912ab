//! Syncing a repo with `offbeat-server`: a samod dialer for its `/api/v1/sync` WebSocket.
//!
//! samod's stock WebSocket dialer cannot send a header and leaves Nagle on. This one sends
//! `Authorization: Bearer <token>`, names the repo's peer id in the URL (the server binds
//! it to the token's user), sets TCP_NODELAY, and reports a refused token (401/403) as a
//! permanent failure so the repo stops redialling.

use futures::future::BoxFuture;
use futures::{FutureExt, SinkExt, StreamExt};
use samod::{DialError, Dialer, PeerId, Transport, Url};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::{self, Message};

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
                Err(e) => return Err(DialError::transient(e)),
            };
            let (sink, stream) = ws.split();
            let stream = stream.filter_map(|message| async move {
                match message {
                    Ok(Message::Binary(bytes)) => Some(Ok(bytes.to_vec())),
                    Ok(Message::Close(_)) => None,
                    Ok(Message::Text(_)) => Some(Err(tungstenite::Error::Protocol(
                        tungstenite::error::ProtocolError::InvalidOpcode(1),
                    ))),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                }
            });
            let sink = sink.with(|bytes: Vec<u8>| async move {
                Ok::<_, tungstenite::Error>(Message::Binary(bytes.into()))
            });
            Ok(Transport::new(Box::pin(stream), Box::pin(sink)))
        }
        .boxed()
    }
}
