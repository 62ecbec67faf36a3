//! TODO: patch (in progress).
