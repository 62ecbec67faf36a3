//! The image store's error type. Every variant names the reference, digest or path that
//! failed, so a CRI caller can pass the message to the user unchanged.

use std::io;
use std::path::PathBuf;

use super::digest::Digest;
use super::reference::ReferenceError;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    InvalidReference(#[from] ReferenceError),

    #[error("image {0:?} not found")]
    NotFound(String),

    #[error("pulling {reference} from {endpoint}: {message}")]
    Registry {
        reference: String,
        endpoint: String,
        message: String,
    },

    #[error(
        "pulling {reference} from {endpoint}: authorization failed ({message}); \
         check the credentials for this registry"
    )]
    Unauthorized {
        reference: String,
        endpoint: String,
        message: String,
    },

    #[error(
        "digest mismatch for {reference}: blob {expected} from {location} has digest {actual} \
         ({size} bytes)"
    )]
    DigestMismatch {
        reference: String,
        expected: Digest,
        actual: Digest,
        size: u64,
        location: String,
    },

    #[error("{reference}: {message}")]
    InvalidImage { reference: String, message: String },

    #[error("unpacking layer {digest} into {path}: {message}")]
    Unpack {
        digest: Digest,
        path: PathBuf,
        message: String,
    },

    #[error("root filesystem of container {container}: {message}")]
    Rootfs { container: String, message: String },

    #[error("importing {path}: {message}")]
    Import { path: PathBuf, message: String },

    #[error("reading registry configuration {path}: {message}")]
    Config { path: PathBuf, message: String },

    #[error("{operation} {path}: {source}")]
    Io {
        operation: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ImageError {
    pub(crate) fn io(operation: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        ImageError::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;
