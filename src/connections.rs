//! Connection hygiene below HTTP: at most `max_connections` at once (more
//! are closed as soon as they are accepted), and a deadline for each
//! request, from its first byte to the first byte of its answer, so that a
//! client trickling a request head or body a byte at a time cannot hold a
//! connection forever. Idle connections are closed by poem's
//! `Server::idle_timeout`, set from `idle_timeout`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tracing::warn;

/// Wraps an acceptor with the connection cap and the request deadline.
pub struct GuardedAcceptor<A> {
    inner: A,
    permits: Arc<Semaphore>,
    request_read_timeout: Duration,
}

impl<A> GuardedAcceptor<A> {
    pub fn new(inner: A, max_connections: usize, request_read_timeout: Duration) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max_connections)),
            request_read_timeout,
        }
    }
}

impl<A: Acceptor> Acceptor for GuardedAcceptor<A> {
    type Io = GuardedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (io, local, remote, scheme) = self.inner.accept().await?;
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    let io = GuardedIo {
                        inner: io,
                        _permit: permit,
                        timeout: self.request_read_timeout,
                        deadline: None,
                    };
                    return Ok((io, local, remote, scheme));
                }
                // Dropping the stream closes it: the client sees the
                // connection end at once instead of waiting in a queue.
                Err(_) => {
                    warn!(remote = %remote, "connection limit reached; closing a new connection")
                }
            }
        }
    }
}

/// A connection holding one of the permits, with the request deadline.
pub struct GuardedIo<T> {
    inner: T,
    _permit: OwnedSemaphorePermit,
    timeout: Duration,
    /// Set by the first byte of a request, cleared by the first byte of
    /// its answer.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request was not received in time",
            )));
        }
        let filled = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let got_bytes = buf.filled().len() > filled;
        if got_bytes && self.deadline.is_none() {
            let timeout = self.timeout;
            self.deadline = Some(Box::pin(tokio::time::sleep(timeout)));
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            // The answer has begun: the request was read in time.
            self.deadline = None;
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.deadline = None;
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
