//! TODO: etcd3 (in progress).
