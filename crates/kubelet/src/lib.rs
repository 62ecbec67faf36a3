//! The Kubernetes node agent: pod sources, pod workers, PLEG and the managers, over CRI.
