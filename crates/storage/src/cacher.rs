//! TODO: cacher (in progress).
