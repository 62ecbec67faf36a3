//! TODO: validation (in progress).
