//! Byte I/O shared by uploads, jobs and fetches: streams of chunks copied to files or
//! stores with digests computed on the way (`pump`), staged files written and read
//! around the page cache (`direct_io`), and the resumable MD5.

mod direct_io;
mod pump;
mod running_md5;

use bytes::Bytes;
use futures_util::Stream;

pub use direct_io::{StagedFileWriter, read_chunks};
pub use pump::{Digester, Sink, drain, pump};
pub use running_md5::RunningMd5;

/// A request body, or stored bytes, as the chunks they arrive in.
pub trait Chunks: Stream<Item = std::io::Result<Bytes>> + Send {}
impl<S: Stream<Item = std::io::Result<Bytes>> + Send> Chunks for S {}

/// How a copy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    /// False when the source broke off (a client went away); the bytes before the
    /// break were copied.
    pub complete: bool,
}

/// Why bytes could not be moved.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("body is larger than the {0} bytes expected")]
    TooLong(u64),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage: {0}")]
    Store(#[from] opendal::Error),
}
