//! gRPC ingest: filters stream `EventBatch`es; each one is validated, appended to the spool and
//! only then acknowledged.

pub mod auth;
mod raw;
mod validate;

pub use raw::{RawIngest, RawIngestServer, STREAM_PATH};

pub use auth::TokenCheck;
pub use validate::{validate_batch, BatchError};

use crate::spool::{Spool, SpoolError};
use bytes::Bytes;
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
        let mut inbound = request.into_inner();
        let spool = self.spool.clone();
        let max_events = self.max_batch_events;
        let (tx, rx) = mpsc::channel::<Result<Ack, Status>>(256);
        tokio::spawn(async move {
            while let Some(message) = inbound.next().await {
                let batch = match message {
                    Ok(batch) => batch,
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
                    Ok((seq, events)) => match spool.append(batch).await {
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
