//! The home server's HTTP API, as the desktop client uses it (see `docs/api.md`).
//!
//! Every request goes to the pairing's addresses in turn, the last one that answered
//! first, so a laptop that leaves the LAN falls over to the WAN address. Each outcome is
//! classified into an [`ApiError`] the health state is made from: unreachable (no
//! connection), refused token (401/403), or reachable but failing (503 with its
//! `Retry-After`, 5xx, a timeout while answering).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, IF_RANGE, RANGE};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use offbeat_library::{RemoteChange, RemoteTrack};

/// How long a plain API request may take before the server counts as failing.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long to wait for a connection before the address counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long an idle connection is kept for the next request. Shorter than the server's
/// default `header_read_timeout_s` (30 s), which also closes a keep-alive connection that
/// waits that long for its next request: a request never goes out on a connection the
/// server is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why a request to the server did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No connection could be made (refused, no route, DNS, connect timeout).
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// The server refused the token (401 or 403).
    #[error("the server refused the token")]
    Unauthorized,
    /// The server is up but turning requests away (503, 429): try again after `retry_after`.
    #[error("the server is busy; retrying in {} s", retry_after.as_secs())]
    Unavailable { retry_after: Duration },
    /// The server answered with an error of its own, or broke off mid-answer.
    #[error("the server failed: {0}")]
    Failed(String),
    /// Not an offbeat-server, or an answer this client cannot read.
    #[error("unexpected answer from the server: {0}")]
    BadResponse(String),
    /// The server would not take the request as made (a 4xx other than the above).
    #[error("the server refused the request ({0})")]
    Rejected(u16),
    /// The catalog cursor is unknown to the server (its database was reset): start again.
    #[error("the server no longer knows this catalog position")]
    CursorGone,
}

impl ApiError {
    /// The server answered (it is up), however badly.
    pub fn reachable(&self) -> bool {
        !matches!(self, ApiError::Unreachable(_))
    }
}

/// `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub server_id: String,
    pub version: String,
    pub uptime_s: u64,
    pub catalog_tracks: u64,
    #[serde(default)]
    pub scanning: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// One page of the catalog's change log.
#[derive(Debug, Clone)]
pub struct CatalogPage {
    pub changes: Vec<RemoteChange>,
    pub cursor: String,
    pub more: bool,
}

#[derive(Deserialize)]
struct RawPage {
    changes: Vec<RawChange>,
    cursor: String,
    more: bool,
}

#[derive(Deserialize)]
struct RawChange {
    deleted: bool,
    #[serde(default)]
    track: Option<RemoteTrack>,
    #[serde(default)]
    track_uid: Option<String>,
}

/// A play as the history API takes and gives it: the library's own record, every field.
pub type PlayEvent = offbeat_library::Play;

#[derive(Deserialize)]
struct HistoryPage {
    events: Vec<PlayEvent>,
    cursor: String,
    more: bool,
}

/// What a file request answered with, before its body is read.
#[derive(Debug)]
pub struct FileResponse {
    pub response: reqwest::Response,
    /// True when the server sent only the asked-for tail (206), false for the whole file.
    pub partial: bool,
    /// The whole file's length.
    pub total: u64,
    /// The whole file's SHA-256 (base64), from `Repr-Digest`.
    pub sha256: String,
    pub etag: Option<String>,
}

/// A client for one paired server.
#[derive(Debug)]
pub struct Api {
    http: reqwest::Client,
    urls: Vec<String>,
    token: String,
    /// The address that answered last.
    current: AtomicUsize,
}

impl Api {
    pub fn new(urls: &[String], token: &str) -> Result<Api, ApiError> {
        if urls.is_empty() {
            return Err(ApiError::BadResponse("no server address".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ApiError::BadResponse(e.to_string()))?;
        Ok(Api {
            http,
            urls: urls
                .iter()
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect(),
            token: token.to_owned(),
            current: AtomicUsize::new(0),
        })
    }

    /// The address requests go to first (the one that answered last).
    pub fn url(&self) -> &str {
        &self.urls[self.current.load(Ordering::Relaxed) % self.urls.len()]
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Sends `build(base url)` to each address in turn until one answers.
    async fn send(
        &self,
        timeout: Option<Duration>,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ApiError> {
        let first = self.current.load(Ordering::Relaxed);
        let mut last = ApiError::Unreachable("no address".into());
        for step in 0..self.urls.len() {
            let index = (first + step) % self.urls.len();
            let mut request = build(&self.http, &self.urls[index])
                .header(AUTHORIZATION, format!("Bearer {}", self.token));
            if let Some(t) = timeout {
                request = request.timeout(t);
            }
            match request.send().await {
                Ok(response) => {
                    self.current.store(index, Ordering::Relaxed);
                    return check(response);
                }
                // Only a connection that could not be made means "unreachable": a server
                // that accepted and then stalled or broke off is up, and failing.
                Err(e) if e.is_connect() => {
                    last = ApiError::Unreachable(root_cause(&e));
                }
                Err(e) => {
                    self.current.store(index, Ordering::Relaxed);
                    return Err(ApiError::Failed(error_chain(&e)));
                }
            }
        }
        Err(last)
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let response = self.send(Some(REQUEST_TIMEOUT), build).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ApiError::Failed(error_chain(&e)))?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::BadResponse(e.to_string()))
    }

    /// Sends `body` as JSON with `method` to `path`, and reads the JSON answer.
    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, ApiError> {
        let body = serde_json::to_vec(body).map_err(|e| ApiError::BadResponse(e.to_string()))?;
        self.json(|http, base| {
            http.request(method.clone(), format!("{base}{path}"))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
        })
        .await
    }

    /// `GET /api/v1/status`: is this a server, does it take the token, which server is it.
    pub async fn status(&self) -> Result<ServerStatus, ApiError> {
        self.json(|http, base| http.get(format!("{base}/api/v1/status")))
            .await
    }

    /// One page of the catalog after `since`.
    pub async fn catalog(&self, since: Option<&str>, limit: u32) -> Result<CatalogPage, ApiError> {
        let since = since.map(str::to_owned);
        let result: Result<RawPage, ApiError> = self
            .json(|http, base| {
                let mut query = vec![("limit", limit.to_string())];
                if let Some(s) = &since {
                    query.push(("since", s.clone()));
                }
                http.get(format!("{base}/api/v1/catalog")).query(&query)
            })
            .await;
        let raw = match result {
            Err(ApiError::Rejected(400)) if since.is_some() => return Err(ApiError::CursorGone),
            other => other?,
        };
        let changes = raw
            .changes
            .into_iter()
            .filter_map(|c| match (c.deleted, c.track, c.track_uid) {
                (false, Some(track), _) => Some(RemoteChange::Upsert(track)),
                (true, _, Some(uid)) => Some(RemoteChange::Delete(uid)),
                (true, Some(track), None) => Some(RemoteChange::Delete(track.track_uid)),
                _ => None,
            })
            .collect();
        Ok(CatalogPage {
            changes,
            cursor: raw.cursor,
            more: raw.more,
        })
    }

    /// `PUT /api/v1/index`: offers this device's playlist index as the user's; returns the
    /// index that holds (another device's, when one came first).
    pub async fn set_index(&self, id: &str) -> Result<String, ApiError> {
        #[derive(Deserialize)]
        struct Index {
            index: String,
        }
        let answer: Index = self
            .send_json(
                reqwest::Method::PUT,
                "/api/v1/index",
                &serde_json::json!({ "id": id }),
            )
            .await?;
        Ok(answer.index)
    }

    /// `POST /api/v1/history`: (stored, duplicates).
    pub async fn post_history(&self, events: &[PlayEvent]) -> Result<(u64, u64), ApiError> {
        #[derive(Deserialize)]
        struct Stored {
            stored: u64,
            duplicates: u64,
        }
        let stored: Stored = self
            .send_json(
                reqwest::Method::POST,
                "/api/v1/history",
                &serde_json::json!({ "events": events }),
            )
            .await?;
        Ok((stored.stored, stored.duplicates))
    }

    /// `GET /api/v1/history?since=`: one page of every device's plays.
    pub async fn history(
        &self,
        since: Option<&str>,
    ) -> Result<(Vec<PlayEvent>, String, bool), ApiError> {
        let since = since.map(str::to_owned);
        let page: HistoryPage = self
            .json(|http, base| {
                let mut request = http.get(format!("{base}/api/v1/history"));
                if let Some(s) = &since {
                    request = request.query(&[("since", s)]);
                }
                request
            })
            .await?;
        Ok((page.events, page.cursor, page.more))
    }

    /// `GET /api/v1/art/{uid}?size=`: the track's cover thumbnail (JPEG), `None` when it
    /// has none.
    pub async fn art(&self, uid: &str, size: u32) -> Result<Option<Vec<u8>>, ApiError> {
        let response = match self
            .send(Some(REQUEST_TIMEOUT), |http, base| {
                http.get(format!("{base}/api/v1/art/{uid}"))
                    .query(&[("size", size)])
            })
            .await
        {
            Ok(r) => r,
            Err(ApiError::Rejected(404)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ApiError::Failed(error_chain(&e)))?;
        Ok(Some(bytes.to_vec()))
    }

    /// `GET /api/v1/tracks/{uid}/file`, from byte `from` on (a resumed download names the
    /// ETag it started with, so a file changed since comes back whole).
    pub async fn file(
        &self,
        uid: &str,
        from: u64,
        etag: Option<&str>,
    ) -> Result<FileResponse, ApiError> {
        let response = self
            .send(None, |http, base| {
                let mut request = http.get(format!("{base}/api/v1/tracks/{uid}/file"));
                if from > 0 {
                    request = request.header(RANGE, format!("bytes={from}-"));
                    if let Some(tag) = etag {
                        request = request.header(IF_RANGE, tag);
                    }
                }
                request
            })
            .await?;
        let headers = response.headers().clone();
        let partial = response.status() == StatusCode::PARTIAL_CONTENT;
        let total = if partial {
            content_range_total(&headers)
                .ok_or_else(|| ApiError::BadResponse("206 without Content-Range".into()))?
        } else {
            response
                .content_length()
                .ok_or_else(|| ApiError::BadResponse("no Content-Length".into()))?
        };
        let sha256 = headers
            .get("repr-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split(',')
                    .find_map(|d| d.trim().strip_prefix("sha-256=:"))
                    .and_then(|d| d.strip_suffix(':'))
                    .map(str::to_owned)
            })
            .ok_or_else(|| ApiError::BadResponse("no Repr-Digest sha-256".into()))?;
        let etag = headers
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(FileResponse {
            response,
            partial,
            total,
            sha256,
            etag,
        })
    }
}

/// Sorts a response into success or an [`ApiError`].
fn check(response: reqwest::Response) -> Result<reqwest::Response, ApiError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ApiError::Unauthorized),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
            Err(ApiError::Unavailable {
                retry_after: retry_after(response.headers()),
            })
        }
        other if other.is_client_error() => Err(ApiError::Rejected(other.as_u16())),
        other => Err(ApiError::Failed(format!(
            "{} {}",
            other.as_u16(),
            other.canonical_reason().unwrap_or("")
        ))),
    }
}

/// `Retry-After` in seconds (the server sends seconds), else 5 s; at most 5 minutes.
pub fn retry_after(headers: &HeaderMap) -> Duration {
    let seconds = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(5);
    Duration::from_secs(seconds.min(300))
}

fn content_range_total(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(reqwest::header::CONTENT_RANGE)?.to_str().ok()?;
    value.rsplit('/').next()?.trim().parse().ok()
}

/// The innermost cause ("tcp connect error: Connection refused (os error 111)"): what a
/// person can act on, without the request's URL and the client's layers.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), Duration::from_secs(5));
        headers.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Duration::from_secs(2));
        headers.insert(reqwest::header::RETRY_AFTER, "99999".parse().unwrap());
        assert_eq!(retry_after(&headers), Duration::from_secs(300));
    }

    #[test]
    fn a_content_range_gives_the_whole_length() {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_RANGE,
            "bytes 100-199/5000".parse().unwrap(),
        );
        assert_eq!(content_range_total(&headers), Some(5000));
    }
}
