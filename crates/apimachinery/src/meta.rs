//! TODO: meta (in progress).
