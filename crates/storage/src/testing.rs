//! TODO: testing (in progress).
