//! TODO: decode (in progress).
