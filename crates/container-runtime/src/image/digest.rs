//! Content digests (`sha256:<64 hex>`) and a writer that computes one while data passes
//! through it. Only SHA-256 is accepted, as every registry and OCI layout in use writes it.

use std::fmt;
use std::io::{self, Read, Write};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated `sha256:<64 lowercase hex>` digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

/// Error for a string that is not a supported digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid digest {value:?}: expected sha256 followed by 64 lowercase hex characters")]
pub struct DigestError {
    pub value: String,
}

impl Digest {
    /// Parses `sha256:<hex>`.
    ///
    /// # Errors
    /// [`DigestError`] for another algorithm, a wrong length or non-hex characters.
    pub fn parse(value: &str) -> Result<Self, DigestError> {
        match value.strip_prefix("sha256:") {
            Some(hex) if is_sha256_hex(hex) => Ok(Self(value.to_string())),
            _ => Err(DigestError {
                value: value.to_string(),
            }),
        }
    }

    /// Builds the digest from its 64-hex encoded part.
    ///
    /// # Errors
    /// [`DigestError`] if `hex` is not 64 lowercase hex characters.
    pub fn from_hex(hex: &str) -> Result<Self, DigestError> {
        Self::parse(&format!("sha256:{hex}"))
    }

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        let mut hasher = DigestWriter::new(io::sink());
        hasher.update(data);
        hasher.finish().0
    }

    /// Returns the hex part after `sha256:`.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_sha256_hex(hex: &str) -> bool {
    hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Digest::parse(&value).map_err(serde::de::Error::custom)
    }
}

/// Wraps a writer (or, through [`DigestReader`], a reader) and hashes every byte that
/// passes, counting them.
pub struct DigestWriter<W> {
    inner: W,
    context: ring::digest::Context,
    bytes: u64,
}

impl<W> DigestWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            context: ring::digest::Context::new(&ring::digest::SHA256),
            bytes: 0,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.context.update(data);
        self.bytes += data.len() as u64;
    }

    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Returns the digest, the byte count and the wrapped writer.
    pub fn finish(self) -> (Digest, u64, W) {
        let hex: String = self
            .context
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        (Digest(format!("sha256:{hex}")), self.bytes, self.inner)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes every byte read through it.
pub struct DigestReader<R> {
    inner: R,
    hasher: DigestWriter<io::Sink>,
}

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: DigestWriter::new(io::sink()),
        }
    }

    /// Reads the rest of the stream and returns its digest and total byte count.
    ///
    /// # Errors
    /// The underlying reader's error.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let (digest, bytes, _) = self.hasher.finish();
        Ok((digest, bytes))
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input() {
        assert_eq!(
            Digest::of(b"").as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_rejects_bad_digests() {
        for value in [
            "sha256:abc",
            "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ] {
            assert!(Digest::parse(value).is_err(), "{value} parsed");
        }
    }

    #[test]
    fn reader_hashes_all_bytes() {
        let reader = DigestReader::new(&b"hello"[..]);
        let (digest, bytes) = reader.finish().unwrap();
        assert_eq!(bytes, 5);
        assert_eq!(digest, Digest::of(b"hello"));
    }
}
