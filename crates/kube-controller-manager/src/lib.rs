//! The Kubernetes controller manager: workload, networking and lifecycle controllers.
