//! TODO: errors (in progress).
