//! A function process's stdout and stderr, line by line, into the function's log file and
//! `tracing` (what CloudWatch Logs holds for a deployed function).

use std::path::PathBuf;
use std::sync::Arc;

use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// Where a function's output goes, besides `tracing` at debug level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSink {
    /// Appended to this file (created with its directory), one line per line of output.
    File(PathBuf),
    /// Only `tracing` (tests, or a caller that shows the output itself).
    TracingOnly,
}

/// One process's output: the open log file shared by its two streams.
#[derive(Debug, Clone)]
pub(super) struct ProcessLog {
    function: Arc<str>,
    /// The log stream's random part, short: which process of the function wrote a line.
    process: Arc<str>,
    file: Option<Arc<Mutex<File>>>,
}

impl ProcessLog {
    /// Open `sink` for the process whose log stream is `stream`.
    pub async fn open(sink: &LogSink, function: &str, stream: &str) -> std::io::Result<Self> {
        let file = match sink {
            LogSink::File(path) => {
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await?;
                Some(Arc::new(Mutex::new(file)))
            }
            LogSink::TracingOnly => None,
        };
        let suffix = stream.rsplit(']').next().unwrap_or(stream);
        Ok(Self {
            function: function.into(),
            process: suffix.get(..8).unwrap_or(suffix).into(),
            file,
        })
    }

    /// Copy `output` line by line until it ends (the process and its children closed it).
    pub fn pump(&self, output: impl AsyncRead + Unpin + Send + 'static) {
        let log = self.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(output);
            let mut line = Vec::new();
            loop {
                line.clear();
                match lines.read_until(b'\n', &mut line).await {
                    Ok(0) => break,
                    Ok(_) => log.write(&line).await,
                    Err(e) => {
                        tracing::debug!(function = %log.function, error = %e, "function output ended");
                        break;
                    }
                }
            }
        });
    }

    async fn write(&self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\n', '\r']);
        tracing::debug!(function = %self.function, process = %self.process, "{text}");
        if let Some(file) = &self.file {
            let line = format!("{} {}: {text}\n", self.function, self.process);
            // The whole line in one write, so the streams of concurrent processes do not interleave
            // within a line.
            // Flushed at once: tokio writes in the background otherwise, and a reader of the
            // file (a person, a test) expects the line there once the invocation has ended.
            let mut file = file.lock().await;
            let written = match file.write_all(line.as_bytes()).await {
                Ok(()) => file.flush().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                tracing::warn!(function = %self.function, error = %e, "could not write the function's log");
            }
        }
    }
}
