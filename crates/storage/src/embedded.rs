//! TODO: embedded (in progress).
