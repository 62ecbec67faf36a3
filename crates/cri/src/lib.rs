//! CRI v1 (`runtime.v1`) messages and gRPC services.
