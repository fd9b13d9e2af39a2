//! The one way Reel runs ffmpeg and ffprobe: a concurrency cap, a timeout, `kill_on_drop`
//! (dropping the future kills the process), stderr kept for the error, a tracing span.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// Bytes of stderr kept for an error message.
const STDERR_TAIL: usize = 4096;
/// Largest stdout collected (ffprobe JSON).
const STDOUT_MAX: usize = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("cannot start {program}: {source} (is it installed? scripts/setup installs ffmpeg)")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} took longer than {0:?} and was stopped", .timeout)]
    Timeout { program: String, timeout: Duration },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    /// More output than `STDOUT_MAX` (a file with megabytes of metadata): the pipe is
    /// closed at once, which stops the tool, and the file is refused for good.
    #[error("{program} describes this file in more than {} MiB", STDOUT_MAX >> 20)]
    OutputTooLarge { program: String },
    #[error("reading {program}'s output: {source}")]
    Io {
        program: String,
        source: std::io::Error,
    },
}

/// Runs media tools with at most `limit` processes at once.
#[derive(Clone)]
pub struct Tools {
    slots: Arc<Semaphore>,
}

pub struct Output {
    pub stdout: Vec<u8>,
}

impl Tools {
    pub fn new(limit: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limit.max(1))),
        }
    }

    /// Runs `program args` and collects its stdout (ffprobe JSON).
    pub async fn run(
        &self,
        program: &str,
        args: &[String],
        timeout: Duration,
    ) -> Result<Output, ToolError> {
        self.run_inner(program, args, timeout, None::<fn(&str)>)
            .await
    }

    /// Runs `program args`, handing each stdout line to `on_line` (ffmpeg `-progress pipe:1`).
    pub async fn run_with_lines(
        &self,
        program: &str,
        args: &[String],
        timeout: Duration,
        on_line: impl FnMut(&str) + Send,
    ) -> Result<Output, ToolError> {
        self.run_inner(program, args, timeout, Some(on_line)).await
    }

    async fn run_inner(
        &self,
        program: &str,
        args: &[String],
        timeout: Duration,
        on_line: Option<impl FnMut(&str) + Send>,
    ) -> Result<Output, ToolError> {
        let _slot = self.slots.acquire().await.expect("semaphore never closes");
        let span = tracing::info_span!("tool", program, timeout_s = timeout.as_secs());
        async move {
            let child = spawn(program, args, Stdio::null())?;
            collect(child, program, timeout, on_line).await
        }
        .instrument(span)
        .await
    }

    /// Starts `program args` now, to run later with [`Waiting::run`]: it takes no slot
    /// while it waits for its stdin.
    pub fn start_waiting(&self, program: &str, args: &[String]) -> Result<Waiting, ToolError> {
        let mut child = spawn(program, args, Stdio::piped())?;
        let stdin = child.stdin.take().expect("piped");
        Ok(Waiting {
            tools: self.clone(),
            program: program.into(),
            child,
            stdin,
        })
    }
}

/// A tool started ahead of need that reads what it is to do from its stdin (an ffmpeg
/// reading its filter graph from `pipe:0`): its start-up is paid before it is needed.
/// Dropped unused, it is killed.
pub struct Waiting {
    tools: Tools,
    program: String,
    child: Child,
    stdin: ChildStdin,
}

impl Waiting {
    /// Still waiting: it has not exited (nor been killed) meanwhile.
    pub fn is_waiting(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Hands it `input` (then end of file) and collects its stdout, as [`Tools::run`].
    /// `Err(Handover)` when it was gone before it could read `input`.
    pub async fn run(self, input: &[u8], timeout: Duration) -> Result<Output, WaitingError> {
        let Self {
            tools,
            program,
            child,
            mut stdin,
        } = self;
        let _slot = tools.slots.acquire().await.expect("semaphore never closes");
        let span = tracing::info_span!("tool", program, timeout_s = timeout.as_secs(), warm = true);
        async move {
            let handed = async {
                stdin.write_all(input).await?;
                stdin.shutdown().await
            };
            if let Err(e) = handed.await {
                return Err(WaitingError::Handover(e));
            }
            drop(stdin);
            collect(child, &program, timeout, None::<fn(&str)>)
                .await
                .map_err(WaitingError::Tool)
        }
        .instrument(span)
        .await
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WaitingError {
    /// The tool was gone before it read its input: run it afresh instead.
    #[error("the waiting tool was gone: {0}")]
    Handover(std::io::Error),
    #[error(transparent)]
    Tool(ToolError),
}

fn spawn(program: &str, args: &[String], stdin: Stdio) -> Result<Child, ToolError> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    die_with_parent(&mut command);
    command.spawn().map_err(|source| ToolError::Spawn {
        program: program.into(),
        source,
    })
}

/// Waits for `child` within `timeout` (killing it after), keeping its stdout and the tail
/// of its stderr; an exit other than success is `Failed` with that tail.
async fn collect(
    mut child: Child,
    program: &str,
    timeout: Duration,
    on_line: Option<impl FnMut(&str) + Send>,
) -> Result<Output, ToolError> {
    let started = std::time::Instant::now();
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let work = async {
        let (out, err, status) = tokio::join!(
            read_stdout(stdout, on_line),
            stderr_tail(stderr),
            child.wait()
        );
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(timeout, work).await {
        Ok(done) => done,
        Err(_) => {
            // `child` is dropped on return: kill_on_drop stops it.
            return Err(ToolError::Timeout {
                program: program.into(),
                timeout,
            });
        }
    };
    let io = |source| ToolError::Io {
        program: program.into(),
        source,
    };
    let status = status.map_err(io)?;
    let Some(stdout) = out.map_err(io)? else {
        return Err(ToolError::OutputTooLarge {
            program: program.into(),
        });
    };
    tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, %status, "tool finished");
    if !status.success() {
        return Err(ToolError::Failed {
            program: program.into(),
            status: status.to_string(),
            stderr: err.trim().to_string(),
        });
    }
    Ok(Output { stdout })
}

/// The tool's stdout, or `None` when it is over `STDOUT_MAX`. Returning drops the pipe,
/// so a tool still writing gets SIGPIPE and ends instead of blocking until its timeout.
async fn read_stdout(
    stdout: impl AsyncRead + Unpin,
    on_line: Option<impl FnMut(&str)>,
) -> std::io::Result<Option<Vec<u8>>> {
    match on_line {
        Some(mut f) => {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(line) = lines.next_line().await? {
                f(&line);
            }
            Ok(Some(Vec::new()))
        }
        None => {
            let mut buf = Vec::new();
            stdout
                .take(STDOUT_MAX as u64 + 1)
                .read_to_end(&mut buf)
                .await?;
            Ok((buf.len() <= STDOUT_MAX).then_some(buf))
        }
    }
}

/// The last lines of stderr (whatever its length), for error messages.
async fn stderr_tail(stderr: impl AsyncRead + Unpin) -> String {
    let mut lines = BufReader::new(stderr).lines();
    let mut kept: VecDeque<String> = VecDeque::new();
    let mut size = 0;
    while let Ok(Some(line)) = lines.next_line().await {
        size += line.len() + 1;
        kept.push_back(line);
        while size > STDERR_TAIL {
            match kept.pop_front() {
                Some(old) => size -= old.len() + 1,
                None => break,
            }
        }
    }
    Vec::from(kept).join("\n")
}

/// `kill_on_drop` cannot run when this process is SIGKILLed (or crashes hard): then the
/// kernel kills the tool, instead of leaving an orphan ffmpeg transcoding for nobody.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls prctl,
    // which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

/// The last characters of a tool's error output, short enough for a status field.
pub fn trimmed(s: &str) -> String {
    const MAX: usize = 1000;
    let s = s.trim();
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut start = s.len() - MAX;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn endless_output_is_cut_and_the_tool_stopped() {
        // `yes` writes forever: only a closed pipe ends it before the timeout.
        let tools = Tools::new(1);
        let err = tools
            .run("yes", &[], Duration::from_secs(60))
            .await
            .err()
            .unwrap();
        assert!(matches!(err, ToolError::OutputTooLarge { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_waiting_tool_runs_on_its_input_or_says_it_was_gone() {
        let tools = Tools::new(1);
        let cat = tools.start_waiting("cat", &[]).unwrap();
        let out = cat
            .run(b"the graph", Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(out.stdout, b"the graph");

        // One that ended before its input came cannot take it.
        let mut gone = tools.start_waiting("true", &[]).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while gone.is_waiting() {
            assert!(std::time::Instant::now() < deadline, "`true` exits");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let err = gone.run(b"late", Duration::from_secs(10)).await.err();
        assert!(matches!(err, Some(WaitingError::Handover(_))), "{err:?}");
    }
}
