//! Request bodies under limits: a whole body must fit and arrive in time; upload data is
//! streamed, and ends when it stalls.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::Sleep;

use crate::error::{Coded, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("request body over {0} bytes")]
    TooLarge(usize),
    #[error("the request body did not arrive within {0:?}")]
    TooSlow(Duration),
    #[error("cannot read the request body: {0}")]
    Unreadable(String),
}

impl Coded for BodyError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::TooSlow(_) => ErrorCode::RequestTimeout,
            Self::Unreadable(_) => ErrorCode::BadRequest,
        }
    }
}

/// `body`, ending with a timed-out error when no chunk arrives for `idle`.
pub fn idle_timeout<S>(body: S, idle: Duration) -> IdleTimeout<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    IdleTimeout {
        body,
        idle,
        timer: Box::pin(tokio::time::sleep(idle)),
        ended: false,
    }
}

pub struct IdleTimeout<S> {
    body: S,
    idle: Duration,
    timer: Pin<Box<Sleep>>,
    ended: bool,
}

impl<S> Stream for IdleTimeout<S>
where
    S: Stream<Item = std::io::Result<Bytes>> + Unpin,
{
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.body).poll_next(cx) {
            Poll::Ready(item) => {
                let deadline = tokio::time::Instant::now() + self.idle;
                self.timer.as_mut().reset(deadline);
                self.ended = item.is_none();
                Poll::Ready(item)
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.ended = true;
                    let idle = self.idle;
                    Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no upload data for {idle:?}"),
                    ))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}
