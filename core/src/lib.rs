//! Pure request-analysis logic shared by the Meshward filter (wasm32) and collector (native):
//! path templating, body schema walking, sensitive-data and attack detection, caller identity
//! hashing, query and header parsing.
//! Nothing here does I/O, allocates without a bound, or panics on input.

pub mod backoff;
pub mod blocklist;
pub mod body;
pub mod detect;
pub mod discovery;
pub mod endpoint;
pub mod filter_config;
pub mod identity;
pub mod ids;
pub mod operation;
pub mod outbox;
pub mod query;
pub mod recent;
pub mod recorder;
pub mod template;

pub use body::{json_fields, json_walk, BodyFieldOut, FieldType, Walk};
pub use detect::{DetectConfig, Detector, Finding, Findings};
pub use discovery::{Constants, Discovery, DiscoveryConfig};
pub use identity::{CallerIdentity, IdentityKey};
pub use query::{forwarded_for, query_param_names, split_path_query};
pub use recorder::{Exchange, Recorder, RecorderConfig};
pub use template::template_path;
