//! The accept loop: every connection the server holds is bounded in number
//! and in how long it may sit doing nothing.
//!
//! `axum::serve` accepts every connection and keeps it for as long as the
//! client likes. A client that opens sockets and sends half a header, or
//! nothing, holds one file descriptor each until the process runs out; then
//! pages, the database and the search index fail with EMFILE. So the site
//! is served with hyper directly, and this loop adds:
//!
//! - **timeouts**: hyper's for a request's headers, one here for a kept-alive
//!   connection waiting for its next request, and tower-http's
//!   [`TimeoutBody`] for a request body that goes silent;
//! - **a cap** on open connections ([`Limits::max_connections`], lowered to
//!   what the open-file limit leaves after [`RESERVED_DESCRIPTORS`] for the
//!   database, the index and the files). At the cap, the connection idle
//!   longest (no request in flight) is closed to make room, so a crowd of
//!   silent sockets gives way to a reader. If every connection is busy, the
//!   new one is answered 503 at once rather than left waiting in the backlog.
//!
//! Activity is what the socket carries: a long download keeps its
//! connection busy until its last byte is sent.

use arkiv_services::config::ServerSettings;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// Descriptors kept out of the connection cap for the database pool, the
/// search index's segment files, file downloads and logs.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// How many connections, and how long each may idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_timeout: Duration,
}

impl Limits {
    pub fn from_settings(s: &ServerSettings) -> Limits {
        Limits {
            max_connections: s.max_connections.max(1),
            header_timeout: Duration::from_secs(s.header_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(s.idle_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(s.body_timeout_secs.max(1)),
        }
    }

    /// These limits with the cap lowered to what the process's open-file
    /// limit leaves after [`RESERVED_DESCRIPTORS`].
    pub fn within_open_files(self) -> Limits {
        let soft = rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft).unwrap_or(u64::MAX);
        let room = usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX).max(1);
        Limits { max_connections: self.max_connections.min(room), ..self }
    }
}

/// Milliseconds since the process first asked: a clock for activity stamps.
fn now_ms() -> u64 {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    START.elapsed().as_millis() as u64
}

/// One open connection, as the cap sees it.
struct Connection {
    last_active_ms: AtomicU64,
    in_flight: AtomicUsize,
    /// Told when the connection is closed to make room for another.
    evicted: Notify,
}

impl Connection {
    fn touch(&self) {
        self.last_active_ms.store(now_ms(), Ordering::Relaxed);
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }
}

/// The open connections.
#[derive(Default)]
struct Registry {
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    next_id: AtomicU64,
}

impl Registry {
    /// Registers a new connection, making room by closing the one idle
    /// longest if the cap is reached; `None` if every connection is busy.
    fn admit(&self, cap: usize) -> Option<(u64, Arc<Connection>)> {
        let mut open = self.open.lock().expect("connection registry lock");
        if open.len() >= cap {
            let idlest = open
                .iter()
                .filter(|(_, c)| c.idle())
                .min_by_key(|(_, c)| c.last_active_ms.load(Ordering::Relaxed))
                .map(|(id, _)| *id)?;
            if let Some(c) = open.remove(&idlest) {
                c.evicted.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Connection {
            last_active_ms: AtomicU64::new(now_ms()),
            in_flight: AtomicUsize::new(0),
            evicted: Notify::new(),
        });
        open.insert(id, conn.clone());
        Some((id, conn))
    }

    fn remove(&self, id: u64) {
        self.open.lock().expect("connection registry lock").remove(&id);
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes,
/// then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let registry = Arc::new(Registry::default());
    let (stop, stopping) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, addr)) => {
                    // Each write goes out at once (no Nagle): a response
                    // written as headers, then body, must not wait for the
                    // client's delayed acknowledgement (40 ms on Linux).
                    // A socket that refuses it is served all the same.
                    let _ = stream.set_nodelay(true);
                    match registry.admit(limits.max_connections) {
                        Some((id, conn)) => {
                            let registry = registry.clone();
                            let (app, stopping) = (app.clone(), stopping.clone());
                            tasks.spawn(async move {
                                serve_connection(stream, addr, app, conn, limits, stopping).await;
                                registry.remove(id);
                            });
                        }
                        None => {
                            tracing::warn!(peer = %addr, cap = limits.max_connections, "every connection busy: 503");
                            tasks.spawn(refuse(stream));
                        }
                    }
                }
                // Out of descriptors, or the peer gave up before the
                // accept: say so and go on; a pause keeps EMFILE from
                // spinning the loop.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// One connection, until the client closes it, a timeout or the cap ends
/// it, or the server stops (after the request in flight).
async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    app: Router,
    conn: Arc<Connection>,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Tracked { stream, conn: conn.clone() });
    let in_service = conn.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let app = app.clone();
        let busy = Busy::new(in_service.clone());
        async move {
            let (mut parts, body) = request.into_parts();
            // What `ConnectInfo` extracts: the peer, from which
            // `client_address.rs` finds the visitor behind a trusted proxy.
            parts.extensions.insert(ConnectInfo(addr));
            let body = Body::new(TimeoutBody::new(limits.body_timeout, body));
            let response = app.oneshot(hyper::Request::from_parts(parts, body)).await?;
            // Busy until the body's last byte is sent (or the client goes).
            Ok::<_, Infallible>(response.map(|body| Body::new(BusyBody { inner: body, _busy: busy })))
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let connection = http.serve_connection(io, service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(peer = %addr, error = %e, "connection ended");
                }
                break;
            }
            _ = conn.evicted.notified() => {
                tracing::debug!(peer = %addr, "idle connection closed to make room");
                break;
            }
            _ = idle_past(&conn, limits.idle_timeout), if !draining => {
                tracing::debug!(peer = %addr, "idle connection timed out");
                break;
            }
            _ = stopping.changed(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Completes once the connection has carried nothing and had no request in
/// flight for `idle`.
async fn idle_past(conn: &Connection, idle: Duration) {
    let idle_ms = idle.as_millis() as u64;
    loop {
        let quiet_until = conn.last_active_ms.load(Ordering::Relaxed) + idle_ms;
        let now = now_ms();
        if conn.idle() && now >= quiet_until {
            return;
        }
        let wait = if now >= quiet_until { idle_ms } else { quiet_until - now };
        tokio::time::sleep(Duration::from_millis(wait.max(10))).await;
    }
}

/// Answers a connection there is no room for, without parsing its request.
///
/// The close lingers: after the answer, what the client still sends (its
/// request, usually just arriving) is read and discarded until it closes
/// its side, for at most `LINGER`. Closing a socket with unread input makes
/// the kernel answer with a reset, and a reset that reaches the client
/// before it has read the 503 throws the 503 away: the client would see
/// "connection reset" or "broken pipe" instead of "try again in a moment"
/// (RFC 9112, section 9.6, on why servers close in two steps).
async fn refuse(mut stream: TcpStream) {
    const BODY: &str = "The server is at its connection limit. Please try again in a moment.\n";
    /// Short, because each refused socket holds a descriptor meanwhile.
    const LINGER: Duration = Duration::from_millis(500);
    /// What a client may send after the answer before it is cut off.
    const DISCARD_AT_MOST: usize = 64 * 1024;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let answered = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    if !matches!(answered, Ok(Ok(()))) {
        return;
    }
    let _ = tokio::time::timeout(LINGER, async {
        let mut sink = [0u8; 4096];
        let mut discarded = 0;
        while discarded < DISCARD_AT_MOST {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    })
    .await;
}

/// A request in flight on a connection, counted while it lives.
struct Busy(Arc<Connection>);

impl Busy {
    fn new(conn: Arc<Connection>) -> Busy {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        conn.touch();
        Busy(conn)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its request counted until it is done.
struct BusyBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for BusyBody {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, stamping the connection's activity on every byte moved.
struct Tracked {
    stream: TcpStream,
    conn: Arc<Connection>,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.conn.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.conn.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.conn.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
