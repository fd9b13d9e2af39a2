//! ffmpeg processes started ahead for thumbnails (docs/architecture.md, "Images"). Most of
//! a short thumbnail's time was ffmpeg starting: Debian's build links 215 shared
//! libraries and resolves their symbols at start (≈ 100 ms of CPU here). A waiting process
//! has done that already; it is started with a fixed input path in a directory of its own
//! and reads its filter graph from stdin, so a request only links its segment to that path
//! and writes the graph. Taking one starts its replacement.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::args::waiting_thumbnail_args;
use super::{ImageFormat, ImageSpec, Thumbnail};
use crate::media::image::args::Source;
use crate::media::process::{Tools, Waiting};

/// The segment's name in a waiting process's directory.
const INPUT: &str = "in.ts";

/// What a waiting process was started for: its output and decoder threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    format: ImageFormat,
    threads: usize,
}

/// Waiting processes by shape, `per_shape` of each shape asked for so far.
#[derive(Clone)]
pub struct WarmThumbnails {
    inner: Arc<Inner>,
}

struct Inner {
    ffmpeg: String,
    tools: Tools,
    dir: PathBuf,
    per_shape: usize,
    waiting: Mutex<HashMap<Shape, Vec<Warm>>>,
}

/// A waiting ffmpeg and the directory its input path is in (removed with it).
pub struct Warm {
    pub process: Waiting,
    dir: tempfile::TempDir,
}

impl Warm {
    /// Points the process's input at `segment`; then it may run.
    pub async fn link(&self, segment: &Path) -> std::io::Result<()> {
        tokio::fs::symlink(segment, self.dir.path().join(INPUT)).await
    }
}

impl WarmThumbnails {
    pub fn new(ffmpeg: &str, tools: Tools, dir: PathBuf, per_shape: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                ffmpeg: ffmpeg.into(),
                tools,
                dir,
                per_shape,
                waiting: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A waiting process for `spec` from `source`, if one is ready: thumbnails from one
    /// segment in the clear. The shape's pool is (re)filled either way.
    pub fn take(&self, spec: &ImageSpec, source: &Source) -> Option<Warm> {
        let ImageSpec::Thumbnail(Thumbnail { format, .. }) = spec else {
            return None;
        };
        let [input] = source.inputs.as_slice() else {
            return None;
        };
        if input.key.is_some() || self.inner.per_shape == 0 {
            return None;
        }
        let shape = Shape {
            format: *format,
            threads: source.threads,
        };
        let mut waiting = self.inner.waiting.lock().unwrap_or_else(|e| e.into_inner());
        let pool = waiting.entry(shape).or_default();
        let mut taken = None;
        while let Some(mut warm) = pool.pop() {
            if warm.process.is_waiting() {
                taken = Some(warm);
                break;
            }
        }
        while pool.len() < self.inner.per_shape {
            match self.start(shape) {
                Ok(warm) => pool.push(warm),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start a waiting ffmpeg for thumbnails");
                    break;
                }
            }
        }
        taken
    }

    fn start(&self, shape: Shape) -> Result<Warm, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(&self.inner.dir)?;
        let dir = tempfile::Builder::new()
            .prefix("warm-")
            .tempdir_in(&self.inner.dir)?;
        let args = waiting_thumbnail_args(shape.format, &dir.path().join(INPUT), shape.threads);
        let process = self.inner.tools.start_waiting(&self.inner.ffmpeg, &args)?;
        Ok(Warm { process, dir })
    }
}
