//! Body shapes: filters send a body's field list with the first event of its shape in each
//! window and only the shape's id with the others (`core::recorder::shapes`). The writer expands
//! the ids back into field lists before rows are built, so every table, view and query sees
//! whole events whatever the filter sent.
//!
//! Invariant: a definition is in `body_shapes` before the spool segment that carried it is
//! freed (the writer inserts new shapes before it commits the checkpoint), and a writer starts
//! by loading the table. So a restarted collector expands what its spool still holds; what it
//! still cannot expand (a filter resending to another replica a batch whose shape it defined to
//! the first one, before that one wrote it) keeps its shape id, with empty fields, and is
//! counted in `meshward_writer_body_shapes_unknown_total`.

use super::client::StoreError;
use clickhouse::Row;
use meshward_proto::{BodyField, HttpEvent};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const BODY_SHAPES_TABLE: &str = "body_shapes";
/// Shapes kept in memory; past it the oldest half is forgotten (and read back from ClickHouse
/// when met again). An API has a few thousand.
pub const MAX_SHAPES: usize = 50_000;
/// How long an id ClickHouse did not know is not asked for again.
const MISS_RETRY: Duration = Duration::from_secs(10);

/// A row of `body_shapes`.
#[derive(Debug, Clone, Row, Serialize, Deserialize, PartialEq)]
pub struct ShapeRow {
    pub shape_id: u64,
    pub last_seen_ms: u64,
    #[serde(rename = "fields.path")]
    pub paths: Vec<String>,
    #[serde(rename = "fields.type")]
    pub types: Vec<String>,
}

/// A shape as `load` and `fetch_missing` read it back.
#[derive(Debug, Row, Deserialize)]
struct StoredShape {
    shape_id: u64,
    paths: Vec<String>,
    types: Vec<String>,
}

/// The latest field list of each shape (the aliases differ from the columns: 18.16 reads an
/// alias named like a column inside another aggregate as that aggregate).
pub fn shapes_query(filter: &str, limit: usize) -> String {
    format!(
        "SELECT shape_id, argMax(`fields.path`, last_seen_ms) AS paths, argMax(`fields.type`, last_seen_ms) AS types \
         FROM {BODY_SHAPES_TABLE} {filter} GROUP BY shape_id ORDER BY max(last_seen_ms) DESC LIMIT {limit}"
    )
}

#[derive(Debug, PartialEq)]
struct Shape {
    paths: Vec<String>,
    types: Vec<String>,
    learned: u64,
}

#[derive(Debug, Default)]
pub struct ShapeRegistry {
    shapes: HashMap<u64, Arc<Shape>>,
    /// learned since the last `take_new`, to be written to `body_shapes`
    new: Vec<u64>,
    /// ids ClickHouse did not know, and when it was asked
    misses: HashMap<u64, Instant>,
    learned: u64,
}

impl ShapeRegistry {
    /// The shapes `body_shapes` holds, most recently seen first, up to `MAX_SHAPES`.
    pub async fn load(client: &clickhouse::Client, url: &str) -> Result<Self, StoreError> {
        let rows: Vec<StoredShape> =
            client.query(&shapes_query("", MAX_SHAPES)).fetch_all().await.map_err(StoreError::at(url))?;
        let mut registry = ShapeRegistry::default();
        for row in rows {
            registry.insert(row.shape_id, row.paths, row.types);
        }
        registry.new.clear();
        Ok(registry)
    }

    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    fn insert(&mut self, id: u64, paths: Vec<String>, types: Vec<String>) {
        if self.shapes.len() >= MAX_SHAPES && !self.shapes.contains_key(&id) {
            let mut by_age: Vec<(u64, u64)> = self.shapes.iter().map(|(id, s)| (s.learned, *id)).collect();
            by_age.sort_unstable();
            for (_, old) in by_age.iter().take(MAX_SHAPES / 2) {
                self.shapes.remove(old);
            }
        }
        self.learned += 1;
        self.shapes.insert(id, Arc::new(Shape { paths, types, learned: self.learned }));
        self.new.push(id);
        self.misses.remove(&id);
    }

    /// Learns the definitions an event carries and fills in the fields of the shapes it only
    /// names. Returns the ids it could not expand.
    pub fn expand(&mut self, event: &mut HttpEvent) -> Vec<u64> {
        let mut unknown = Vec::new();
        let sides = [
            (event.request_body_shape, &mut event.request_body_fields),
            (event.response_body_shape, &mut event.response_body_fields),
        ];
        for (id, fields) in sides {
            if id == 0 {
                continue;
            }
            if !fields.is_empty() {
                let known = self.shapes.get(&id).is_some_and(|s| same_fields(s, fields));
                if !known {
                    let paths = fields.iter().map(|f| f.path.clone()).collect();
                    let types = fields.iter().map(|f| f.r#type.clone()).collect();
                    self.insert(id, paths, types);
                }
                continue;
            }
            match self.shapes.get(&id) {
                Some(shape) => {
                    *fields = shape
                        .paths
                        .iter()
                        .zip(&shape.types)
                        .map(|(path, t)| BodyField {
                            path: path.clone(),
                            r#type: t.clone(),
                            sensitive_classes: Vec::new(),
                        })
                        .collect();
                }
                None => unknown.push(id),
            }
        }
        unknown
    }

    /// Asks ClickHouse for ids this registry does not hold (another replica may have written
    /// them), except those asked for in the last `MISS_RETRY`.
    pub async fn fetch_missing(
        &mut self,
        client: &clickhouse::Client,
        url: &str,
        ids: &[u64],
    ) -> Result<(), StoreError> {
        let now = Instant::now();
        self.misses.retain(|_, at| now.duration_since(*at) < MISS_RETRY);
        let wanted: Vec<String> = ids
            .iter()
            .filter(|id| !self.shapes.contains_key(id) && !self.misses.contains_key(id))
            .map(u64::to_string)
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let filter = format!("WHERE shape_id IN ({})", wanted.join(", "));
        let rows: Vec<StoredShape> =
            client.query(&shapes_query(&filter, wanted.len())).fetch_all().await.map_err(StoreError::at(url))?;
        for row in rows {
            self.insert(row.shape_id, row.paths, row.types);
            // already in ClickHouse: not to be written again
            self.new.retain(|id| *id != row.shape_id);
        }
        for id in ids {
            if !self.shapes.contains_key(id) {
                self.misses.insert(*id, now);
            }
        }
        Ok(())
    }

    /// The shapes learned since the last call, as rows for `body_shapes`.
    pub fn take_new(&mut self, now_ms: u64) -> Vec<ShapeRow> {
        let ids = std::mem::take(&mut self.new);
        ids.into_iter()
            .filter_map(|id| {
                let shape = self.shapes.get(&id)?;
                Some(ShapeRow {
                    shape_id: id,
                    last_seen_ms: now_ms,
                    paths: shape.paths.clone(),
                    types: shape.types.clone(),
                })
            })
            .collect()
    }

    /// Puts rows that could not be written back on the list (the next INSERT takes them).
    pub fn unwritten(&mut self, rows: &[ShapeRow]) {
        self.new.extend(rows.iter().map(|r| r.shape_id));
    }
}

fn same_fields(shape: &Shape, fields: &[BodyField]) -> bool {
    shape.paths.len() == fields.len()
        && shape.paths.iter().zip(&shape.types).zip(fields).all(|((p, t), f)| *p == f.path && *t == f.r#type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(path: &str, t: &str) -> BodyField {
        BodyField { path: path.into(), r#type: t.into(), sensitive_classes: Vec::new() }
    }

    #[test]
    fn definitions_are_learnt_and_ids_expanded() {
        let mut registry = ShapeRegistry::default();
        let mut first = HttpEvent {
            request_body_shape: 11,
            request_body_fields: vec![field("$.a", "string"), field("$.b", "integer")],
            response_body_shape: 12,
            ..Default::default()
        };
        assert_eq!(registry.expand(&mut first), vec![12]);
        let mut later = HttpEvent { request_body_shape: 11, ..Default::default() };
        assert!(registry.expand(&mut later).is_empty());
        assert_eq!(later.request_body_fields, first.request_body_fields);
        let rows = registry.take_new(5);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].shape_id, rows[0].paths.as_slice()), (11, &["$.a".to_owned(), "$.b".to_owned()][..]));
        assert!(registry.take_new(6).is_empty(), "written once");
        // events from filters before shapes: fields and no id, left as they are
        let mut old = HttpEvent { request_body_fields: vec![field("$.x", "null")], ..Default::default() };
        assert!(registry.expand(&mut old).is_empty());
        assert_eq!(old.request_body_fields.len(), 1);
        assert!(registry.take_new(7).is_empty());
    }

    #[test]
    fn memory_is_bounded() {
        let mut registry = ShapeRegistry::default();
        for id in 1..=(MAX_SHAPES as u64 + 10) {
            let mut event = HttpEvent {
                request_body_shape: id,
                request_body_fields: vec![field("$.a", "string")],
                ..Default::default()
            };
            registry.expand(&mut event);
        }
        assert!(registry.len() <= MAX_SHAPES);
        let mut newest = HttpEvent { request_body_shape: MAX_SHAPES as u64 + 10, ..Default::default() };
        assert!(registry.expand(&mut newest).is_empty(), "the newest shapes stay");
    }
}
