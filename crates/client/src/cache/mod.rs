//! TODO: cache (in progress).
