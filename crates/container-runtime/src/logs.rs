//! The CRI container log format: one record per line,
//! `<RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <content>\n`.
//!
//! `F` marks the last piece of a line and `P` a piece of a line longer than
//! [`MAX_RECORD`], which the reader joins with the following pieces.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Maximum content bytes in one record before a line is split into `P` pieces.
pub const MAX_RECORD: usize = 16 * 1024;

/// A log file that can be reopened (after the kubelet rotated it) while writers hold it.
#[derive(Clone)]
pub struct LogFile {
    path: PathBuf,
    file: Arc<Mutex<Option<std::fs::File>>>,
}

impl LogFile {
    /// Opens `path` for appending, creating it and its parent directory. An empty path
    /// gives a sink that drops everything.
    pub fn open(path: &Path) -> std::io::Result<LogFile> {
        let log = LogFile {
            path: path.to_path_buf(),
            file: Arc::new(Mutex::new(None)),
        };
        log.reopen()?;
        Ok(log)
    }

    /// Closes the current file and opens the path again.
    pub fn reopen(&self) -> std::io::Result<()> {
        let file = if self.path.as_os_str().is_empty() {
            None
        } else {
            if let Some(parent) = self.path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?,
            )
        };
        *self
            .file
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = file;
        Ok(())
    }

    fn write_record(&self, stream: &str, tag: char, content: &[u8]) {
        let mut record = Vec::with_capacity(content.len() + 48);
        record.extend_from_slice(timestamp().as_bytes());
        record.extend_from_slice(format!(" {stream} {tag} ").as_bytes());
        record.extend_from_slice(content);
        record.push(b'\n');
        let mut guard = self
            .file
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(file) = guard.as_mut() {
            // A full disk must not kill the container: the record is dropped.
            let _ = file.write_all(&record);
        }
    }
}

/// Returns the current UTC time in RFC 3339 with up to nine fraction digits, which
/// the kubelet parses with Go's RFC3339Nano layout.
pub fn timestamp() -> String {
    jiff::Timestamp::now().to_string()
}

/// Copies `source` to `log` as records of `stream` ("stdout" or "stderr") until EOF,
/// also handing every chunk read to `observe` (attached clients).
pub fn copy_stream(mut source: impl Read, stream: &str, log: &LogFile, observe: &dyn Fn(&[u8])) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let count = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        observe(&buffer[..count]);
        pending.extend_from_slice(&buffer[..count]);

        while let Some(newline) = pending.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = pending.drain(..=newline).collect();
            let content = &line[..line.len() - 1];
            let mut chunks = content.chunks(MAX_RECORD).peekable();
            if content.is_empty() {
                log.write_record(stream, 'F', b"");
            }
            while let Some(chunk) = chunks.next() {
                let tag = if chunks.peek().is_some() { 'P' } else { 'F' };
                log.write_record(stream, tag, chunk);
            }
        }
        while pending.len() >= MAX_RECORD {
            let piece: Vec<u8> = pending.drain(..MAX_RECORD).collect();
            log.write_record(stream, 'P', &piece);
        }
    }
    if !pending.is_empty() {
        log.write_record(stream, 'F', &pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let log = LogFile::open(&path).unwrap();
        copy_stream(input, "stdout", &log, &|_| {});
        let text = std::fs::read_to_string(&path).unwrap();
        text.lines()
            .map(|line| line.split_once(' ').unwrap().1.to_string())
            .collect()
    }

    #[test]
    fn copy_stream_tags_lines() {
        assert_eq!(records(b"a\nbc\n"), vec!["stdout F a", "stdout F bc"]);
        assert_eq!(records(b"\nx"), vec!["stdout F ", "stdout F x"]);
    }

    #[test]
    fn copy_stream_splits_long_lines() {
        let mut input = vec![b'x'; MAX_RECORD + 3];
        input.push(b'\n');
        let lines = records(&input);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("stdout P xxx"));
        assert_eq!(lines[1], "stdout F xxx");
    }

    #[test]
    fn timestamp_is_rfc3339_utc() {
        let now = timestamp();
        assert!(now.ends_with('Z'), "{now}");
        assert!(now.parse::<jiff::Timestamp>().is_ok(), "{now}");
    }
}
