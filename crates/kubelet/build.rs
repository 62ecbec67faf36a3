//! Generates the grpc.health.v1 client for gRPC probes (and the server that the
//! probe's tests run) from proto/grpc/health/v1/health.proto.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto");
    let proto = format!("{proto_root}/grpc/health/v1/health.proto");
    println!("cargo:rerun-if-changed={proto}");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(&[proto.as_str()], &[proto_root])?;
    Ok(())
}
