//! Wire types shared by the Meshward filter (wasm32) and the collector: one `HttpEvent`
//! per HTTP exchange, batched into `EventBatch`es and acknowledged with `Ack`s.
#![allow(clippy::all)]

pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/meshward.v1.rs"));
}

pub use v1::*;

/// `meshward.proto` as an encoded `google.protobuf.FileDescriptorSet`.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/meshward_descriptor.bin"));

/// gRPC service and method names, as the filter's `open_grpc_stream` needs them.
pub const INGEST_SERVICE: &str = "meshward.v1.Ingest";
pub const INGEST_METHOD: &str = "Stream";
