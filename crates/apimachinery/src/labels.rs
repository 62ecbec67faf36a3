//! TODO: labels (in progress).
