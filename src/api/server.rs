//! The HTTP server loop: accepts connections (at most `server.max_connections_per_ip` per
//! client address, WebSockets included), gives each request
//! `server.header_read_timeout_secs` to send its headers, closes a connection that has
//! no request in flight and no traffic for `server.idle_timeout_secs`, serves HTTP/1 and
//! HTTP/2 with upgrades (WebSockets), and on shutdown lets requests in flight finish for
//! up to 10 s. (Poem's own server has no header-read timeout, and its idle timeout also
//! closes connections whose request is still being worked on.)

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::{Endpoint, Request, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ServerConfig;

/// How long requests in flight may finish once shutdown starts.
const GRACE: Duration = Duration::from_secs(10);

type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// Binds `addr` (port 0 picks a free port); returns the listener and the bound address.
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Open connections per client address.
#[derive(Clone, Default)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One counted connection; uncounted when dropped.
struct Slot {
    table: PerAddress,
    ip: IpAddr,
}

impl PerAddress {
    fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut table = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = table.entry(ip).or_default();
        if max > 0 && *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = table.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                table.remove(&self.ip);
            }
        }
    }
}

/// Serves `endpoint` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    endpoint: impl Endpoint<Output = Response> + 'static,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let endpoint = Arc::new(endpoint);
    let local = listener.local_addr()?;
    let stopping = CancellationToken::new();
    let connections = TaskTracker::new();
    let per_address = PerAddress::default();
    let timeouts = Timeouts {
        header: Duration::from_secs(config.header_read_timeout_secs.max(1)),
        idle: Duration::from_secs(config.idle_timeout_secs.max(1)),
    };
    let max_per_ip = config.max_connections_per_ip;
    tokio::pin!(shutdown);
    loop {
        let (socket, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(slot) = per_address.take(remote.ip(), max_per_ip) else {
            tracing::debug!(%remote, "connection refused: too many from this address");
            continue; // dropping the socket closes it
        };
        let (endpoint, stopping) = (endpoint.clone(), stopping.clone());
        let socket = Tracked::new(socket, slot);
        connections.spawn(serve_connection(
            socket, local, remote, endpoint, timeouts, stopping,
        ));
    }
    stopping.cancel();
    connections.close();
    if tokio::time::timeout(GRACE, connections.wait())
        .await
        .is_err()
    {
        tracing::info!("connections still open after the shutdown grace; closing them");
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Timeouts {
    header: Duration,
    idle: Duration,
}

async fn serve_connection<E: Endpoint<Output = Response> + 'static>(
    socket: Tracked,
    local: SocketAddr,
    remote: SocketAddr,
    endpoint: Arc<E>,
    timeouts: Timeouts,
    stopping: CancellationToken,
) {
    let activity = socket.activity.clone();
    let in_service = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let endpoint = endpoint.clone();
        let busy = Busy::new(&in_service);
        async move {
            let _busy = busy;
            let req: Request = (
                req,
                poem::web::LocalAddr(local.into()),
                poem::web::RemoteAddr(remote.into()),
                poem::http::uri::Scheme::HTTP,
            )
                .into();
            let resp = match endpoint.call(req).await {
                Ok(resp) => resp,
                Err(e) => e.into_response(),
            };
            Ok::<hyper::Response<Body>, Infallible>(resp.into())
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(timeouts.idle))
        .keep_alive_timeout(timeouts.header);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(socket), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopping.cancelled() => {}
        _ = activity.idle_for(timeouts.idle) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// What a connection is doing: requests in flight, and when bytes last moved.
struct Activity {
    opened: Instant,
    /// Milliseconds after `opened`.
    last_io: AtomicU64,
    requests: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.last_io.store(ms, Ordering::Relaxed);
    }

    /// Resolves once the connection has had no request in flight and no traffic for
    /// `idle` (a kept-alive connection nobody uses).
    async fn idle_for(&self, idle: Duration) {
        let check = (idle / 4).max(Duration::from_millis(100));
        loop {
            tokio::time::sleep(check).await;
            let quiet =
                self.opened.elapsed().as_millis() as u64 - self.last_io.load(Ordering::Relaxed);
            if self.requests.load(Ordering::Relaxed) == 0 && quiet >= idle.as_millis() as u64 {
                return;
            }
        }
    }
}

/// A request in flight (counted until its response is handed back).
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.requests.fetch_add(1, Ordering::Relaxed);
        Self(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
    }
}

/// An accepted socket that records its traffic and holds its address's slot for as long
/// as it lives (also after an upgrade hands it to a WebSocket).
struct Tracked {
    socket: TcpStream,
    activity: Arc<Activity>,
    _slot: Slot,
}

impl Tracked {
    fn new(socket: TcpStream, slot: Slot) -> Self {
        let _ = socket.set_nodelay(true);
        let activity = Arc::new(Activity {
            opened: Instant::now(),
            last_io: AtomicU64::new(0),
            requests: AtomicUsize::new(0),
        });
        Self {
            socket,
            activity,
            _slot: slot,
        }
    }

    fn moved<T>(&self, poll: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if poll.is_ready() {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.socket).poll_read(cx, buf);
        self.moved(poll)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.socket).poll_write(cx, buf);
        self.moved(poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.socket).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.socket).poll_write_vectored(cx, bufs);
        self.moved(poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }
}
