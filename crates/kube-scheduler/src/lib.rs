//! The Kubernetes scheduler: scheduling queue, cache and framework with the default plugins.
