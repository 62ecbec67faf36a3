//! TODO: quantity (in progress).
