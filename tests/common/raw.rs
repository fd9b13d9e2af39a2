//! A raw TCP client, for the requests an HTTP library would not send: half-sent headers,
//! bodies that never come, idle connections.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Raw {
    stream: TcpStream,
}

/// What a connection gave back within a wait.
#[derive(Debug)]
pub struct Heard {
    pub bytes: Vec<u8>,
    /// The server closed the connection.
    pub closed: bool,
}

impl Heard {
    /// The status of the first response, if one arrived.
    pub fn status(&self) -> Option<u16> {
        let text = String::from_utf8_lossy(&self.bytes);
        let line = text.lines().next()?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

impl Raw {
    pub async fn connect(addr: SocketAddr) -> Self {
        Self {
            stream: TcpStream::connect(addr).await.expect("the server accepts"),
        }
    }

    /// Sends `bytes`; false when the server has closed the connection.
    pub async fn send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok() && self.stream.flush().await.is_ok()
    }

    /// Reads for at most `within`, until the server closes or a whole response head
    /// (and, when `Content-Length` says, its body) has arrived.
    pub async fn listen(&mut self, within: Duration) -> Heard {
        let mut bytes = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        let mut buf = [0u8; 8192];
        loop {
            let read = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await;
            match read {
                Err(_) => {
                    return Heard {
                        bytes,
                        closed: false,
                    };
                }
                Ok(Ok(0)) | Ok(Err(_)) => {
                    return Heard {
                        bytes,
                        closed: true,
                    };
                }
                Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
            }
            if complete(&bytes) {
                return Heard {
                    bytes,
                    closed: false,
                };
            }
        }
    }
}

/// Whether `bytes` hold a response head and the body its `Content-Length` announces.
fn complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some(end) = text.find("\r\n\r\n") else {
        return false;
    };
    let length = text[..end]
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    bytes.len() >= end + 4 + length
}
