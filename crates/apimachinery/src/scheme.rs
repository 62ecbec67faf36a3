//! TODO: scheme (in progress).
