//! TODO: continue_token (in progress).
