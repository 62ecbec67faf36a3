//! The Kubernetes protobuf serialization (`application/vnd.kubernetes.protobuf`) of built-in
//! kinds. This first part holds the wire format and the RFC 3339 time helpers.

mod path;
mod time;
mod wire;
