//! TODO: workqueue (in progress).
