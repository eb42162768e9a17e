//! Generates the Rust types from `meshward.proto` (protoc from `make setup`).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=meshward.proto");
    // the schema as data too, so code that walks the wire format checks against the proto
    // itself (the collector's ingest validation) instead of a copy of its tags
    let descriptor = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("meshward_descriptor.bin");
    #[cfg(feature = "grpc")]
    {
        tonic_prost_build::configure()
            .build_client(true)
            .build_server(false)
            .file_descriptor_set_path(&descriptor)
            .compile_protos(&["meshward.proto"], &["."])?;
    }
    #[cfg(not(feature = "grpc"))]
    {
        prost_build::Config::new().file_descriptor_set_path(&descriptor).compile_protos(&["meshward.proto"], &["."])?;
    }
    Ok(())
}
