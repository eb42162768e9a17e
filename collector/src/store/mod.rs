//! ClickHouse storage: client setup, versioned schema, event rows, and the writer that drains
//! the spool into ClickHouse.

mod client;
pub mod queries;
pub mod retention;
mod rows;
mod schema;
pub mod shapes;
mod writer;

pub use client::{connect, ping, StoreError};
pub use rows::{event_row, EventRow, FilterReportRow, EVENTS_TABLE, FILTER_REPORTS_TABLE};
pub use schema::{migrate, statements, MIGRATIONS};
pub use writer::{insert_rows, next_version, now_ms, RecordSink, Writer};
