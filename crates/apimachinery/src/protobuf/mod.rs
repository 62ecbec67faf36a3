//! The Kubernetes protobuf serialization (`application/vnd.kubernetes.protobuf`) of built-in
//! kinds. This part holds the wire format, the RFC 3339 time helpers and the schema table.

mod messages;
mod path;
mod schema;
mod time;
mod wire;
