//! The connection loop: every accepted socket is served by hyper's HTTP/1.1 with a timer,
//! so a client that opens a connection and trickles (or never finishes) its request
//! headers is cut off after `header_read_timeout_s`, instead of holding a socket and a
//! task for good. (`axum::serve` sets no timer, and without one hyper never times a
//! header read.)

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Serves `app` on `listener` until `stop` resolves; then stops accepting, lets each open
/// connection finish the request it is on (idle keep-alive connections close at once),
/// and returns when every connection has ended. Upgraded connections (sync WebSockets)
/// are no longer hyper's by then: the sync module closes those.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Every connection task holds a receiver: `closing.send` asks them to wind down, and
    // `closing.closed()` resolves when the last one has ended.
    let (closing, open) = tokio::sync::watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: keep serving the others, without spinning.
                    tracing::debug!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
        let connection = http
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app.clone()))
            .with_upgrades();
        let mut winding_down = open.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(%remote, "connection ended: {e}");
                    }
                    return;
                }
                _ = winding_down.wait_for(|closing| *closing) => {}
            }
            connection.as_mut().graceful_shutdown();
            if let Err(e) = connection.await {
                tracing::debug!(%remote, "connection ended while stopping: {e}");
            }
            drop(winding_down);
        });
    }
    drop(listener);
    drop(open);
    let _ = closing.send(true);
    closing.closed().await;
}
