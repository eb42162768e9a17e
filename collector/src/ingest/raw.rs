//! The ingest gRPC service, written against `tonic::server::Grpc` with a codec that hands over
//! each message's raw bytes. tonic's generated server would decode every batch into owned
//! structs, which the spool only re-encodes; keeping the bytes halves the ingest CPU per event
//! (measured in BENCHMARKS.md). Validation decodes a lite view (see `validate`).

use bytes::{Buf, Bytes};
use meshward_proto::Ack;
use prost::Message;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, NamedService, StreamingService};
use tonic::{Request, Response, Status, Streaming};

/// Path of the one method: `/meshward.v1.Ingest/Stream`.
pub const STREAM_PATH: &str = "/meshward.v1.Ingest/Stream";

/// Encodes `Ack`s with prost, decodes requests to their raw bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawBatchCodec;

#[derive(Debug, Clone, Copy, Default)]
pub struct AckEncoder;

#[derive(Debug, Clone, Copy, Default)]
pub struct RawDecoder;

impl Codec for RawBatchCodec {
    type Encode = Ack;
    type Decode = Bytes;
    type Encoder = AckEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> AckEncoder {
        AckEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for AckEncoder {
    type Item = Ack;
    type Error = Status;

    fn encode(&mut self, item: Ack, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(dst).map_err(|e| Status::internal(format!("encoding an ack: {e}")))
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// What the server calls for each stream.
pub trait RawIngest: Send + Sync + 'static {
    type AckStream: futures::Stream<Item = Result<Ack, Status>> + Send + 'static;

    fn stream(
        &self,
        request: Request<Streaming<Bytes>>,
    ) -> impl Future<Output = Result<Response<Self::AckStream>, Status>> + Send;
}

/// A tower service routing `/meshward.v1.Ingest/Stream` to a `RawIngest`.
pub struct RawIngestServer<T> {
    inner: Arc<T>,
    max_message_bytes: usize,
}

impl<T> Clone for RawIngestServer<T> {
    fn clone(&self) -> Self {
        RawIngestServer { inner: self.inner.clone(), max_message_bytes: self.max_message_bytes }
    }
}

impl<T: RawIngest> RawIngestServer<T> {
    pub fn new(inner: T, max_message_bytes: usize) -> Self {
        RawIngestServer { inner: Arc::new(inner), max_message_bytes }
    }
}

impl<T> NamedService for RawIngestServer<T> {
    const NAME: &'static str = meshward_proto::INGEST_SERVICE;
}

struct StreamCall<T>(Arc<T>);

impl<T: RawIngest> StreamingService<Bytes> for StreamCall<T> {
    type Response = Ack;
    type ResponseStream = T::AckStream;
    type Future = Pin<Box<dyn Future<Output = Result<Response<T::AckStream>, Status>> + Send>>;

    fn call(&mut self, request: Request<Streaming<Bytes>>) -> Self::Future {
        let inner = self.0.clone();
        Box::pin(async move { inner.stream(request).await })
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, Infallible>> + Send>>;

impl<T, B> tower_service::Service<http::Request<B>> for RawIngestServer<T>
where
    T: RawIngest,
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != STREAM_PATH {
            return Box::pin(async { Ok(Status::unimplemented("unknown method").into_http()) });
        }
        let inner = self.inner.clone();
        let limit = self.max_message_bytes;
        Box::pin(async move {
            let mut grpc = Grpc::new(RawBatchCodec).apply_max_message_size_config(Some(limit), None);
            Ok(grpc.streaming(StreamCall(inner), request).await)
        })
    }
}
