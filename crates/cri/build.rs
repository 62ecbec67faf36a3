//! Generates the `runtime.v1` messages and both gRPC sides from proto/runtime/v1/api.proto.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto");
    let proto = format!("{proto_root}/runtime/v1/api.proto");
    println!("cargo:rerun-if-changed={proto}");
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_protos(&[proto.as_str()], &[proto_root])?;
    Ok(())
}
