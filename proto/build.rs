//! Generates the Rust types from `meshward.proto` (protoc from `make setup`).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=meshward.proto");
    #[cfg(feature = "grpc")]
    {
        tonic_prost_build::configure()
            .build_client(true)
            .build_server(false)
            .compile_protos(&["meshward.proto"], &["."])?;
    }
    #[cfg(not(feature = "grpc"))]
    {
        prost_build::Config::new().compile_protos(&["meshward.proto"], &["."])?;
    }
    Ok(())
}
