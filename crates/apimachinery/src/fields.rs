//! TODO: fields (in progress).
