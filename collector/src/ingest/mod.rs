//! gRPC ingest: filters stream `EventBatch`es; each one is validated, appended to the spool and
//! only then acknowledged.

pub mod auth;
mod raw;
mod validate;

pub use raw::{RawIngest, RawIngestServer, STREAM_PATH};

pub use auth::TokenCheck;
pub use validate::{validate_batch, Accepted, BatchError};

use crate::spool::{Spool, SpoolError};
use crate::store::now_ms;
use bytes::{BufMut, Bytes, BytesMut};
use futures::StreamExt;
use meshward_proto::{ack, Ack};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Largest gRPC message accepted (a batch); the filter's default batch is 1 MiB at most.
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

pub struct IngestService {
    spool: Spool,
    token: TokenCheck,
    max_batch_events: usize,
}

impl IngestService {
    pub fn new(spool: Spool, token: TokenCheck, max_batch_events: usize) -> Self {
        IngestService { spool, token, max_batch_events }
    }

    pub fn into_server(self) -> RawIngestServer<Self> {
        RawIngestServer::new(self, MAX_MESSAGE_BYTES)
    }
}

impl RawIngest for IngestService {
    type AckStream = ReceiverStream<Result<Ack, Status>>;

    async fn stream(&self, request: Request<Streaming<Bytes>>) -> Result<Response<Self::AckStream>, Status> {
        if !self.token.allows(request.metadata()) {
            metrics::counter!("meshward_ingest_auth_failures_total").increment(1);
            tracing::warn!(peer = ?request.remote_addr(), "ingest stream refused: missing or wrong bearer token");
            return Err(Status::unauthenticated("missing or wrong bearer token (filter config collector_token)"));
        }
        tracing::debug!(peer = ?request.remote_addr(), "ingest stream opened");
        metrics::counter!("meshward_ingest_streams_opened_total").increment(1);
        let mut inbound = request.into_inner();
        let spool = self.spool.clone();
        let max_events = self.max_batch_events;
        let (tx, rx) = mpsc::channel::<Result<Ack, Status>>(256);
        tokio::spawn(async move {
            while let Some(message) = inbound.next().await {
                let batch = match message {
                    Ok(batch) => batch,
                    Err(status) if status.code() == tonic::Code::OutOfRange => {
                        // tonic cannot read on past a message over the limit: end the stream with
                        // a status the filter sees, so it resends what was not acknowledged
                        metrics::counter!("meshward_ingest_oversized_messages_total").increment(1);
                        tracing::warn!(error = %status, "ingest stream ended: a message over the size limit");
                        let _ = tx
                            .send(Err(Status::resource_exhausted(format!(
                                "a batch is over the collector's {MAX_MESSAGE_BYTES}-byte message limit ({}); \
                                 send smaller batches (filter max_batch_bytes)",
                                status.message()
                            ))))
                            .await;
                        break;
                    }
                    Err(status) => {
                        tracing::debug!(error = %status, "ingest stream ended with an error");
                        break;
                    }
                };
                let reply = match validate_batch(&batch, max_events) {
                    Err((seq, err)) => {
                        metrics::counter!("meshward_ingest_rejected_batches_total").increment(1);
                        tracing::warn!(seq, error = %err, "rejected a batch");
                        Ok(Ack { seq, code: ack::Code::Rejected as i32, message: err.to_string() })
                    }
                    Ok(Accepted { seq, events }) => match spool.append(stamped(&batch, now_ms())).await {
                        Ok(()) => {
                            metrics::counter!("meshward_ingest_batches_total").increment(1);
                            metrics::counter!("meshward_ingest_events_total").increment(events as u64);
                            Ok(Ack { seq, code: ack::Code::Ok as i32, message: String::new() })
                        }
                        Err(SpoolError::Full { used, max }) => {
                            metrics::counter!("meshward_ingest_refused_full_total").increment(1);
                            Err(Status::resource_exhausted(format!(
                                "collector spool is full ({used} of {max} bytes); retry later"
                            )))
                        }
                        Err(err) if err.is_disk_full() => {
                            metrics::counter!("meshward_ingest_refused_disk_full_total").increment(1);
                            tracing::error!(error = %err, "the spool's disk is full; refusing batches until there is room");
                            Err(Status::resource_exhausted(format!(
                                "collector spool disk is full ({err}); retry later"
                            )))
                        }
                        Err(err) => {
                            tracing::error!(error = %err, "spool append failed");
                            Err(Status::unavailable(format!("collector cannot store batches: {err}")))
                        }
                    },
                };
                let failed = reply.is_err();
                if tx.send(reply).await.is_err() || failed {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// The batch's bytes with `EventBatch.received_ms` appended (protobuf lets a later field
/// override an earlier one), so the writer knows when it was acknowledged.
fn stamped(batch: &[u8], received_ms: u64) -> Bytes {
    let mut out = BytesMut::with_capacity(batch.len() + 11);
    out.put_slice(batch);
    prost::encoding::uint64::encode(RECEIVED_MS_TAG, &received_ms, &mut out);
    out.freeze()
}

/// `EventBatch.received_ms` in `meshward.proto`.
const RECEIVED_MS_TAG: u32 = 5;

#[cfg(test)]
mod tests {
    use super::*;
    use meshward_proto::EventBatch;
    use prost::Message;

    #[test]
    fn the_stamp_overrides_whatever_the_sender_put_there() {
        let batch = EventBatch { seq: 4, source_id: "s".into(), received_ms: 99, ..Default::default() };
        let decoded = EventBatch::decode(stamped(&batch.encode_to_vec(), 1_234)).expect("decodes");
        assert_eq!(decoded, EventBatch { received_ms: 1_234, ..batch });
    }
}
