//! Keeps this VM's copy of the block list current.
//!
//! One fetch per interval per Envoy, not per worker: the VMs share a "next fetch at" slot in
//! shared data and only the VM whose compare-and-swap moves it fetches. That VM validates the
//! answer, publishes the body and its ETag in shared data, and every VM (itself included)
//! compiles the body when it sees a new ETag on its next tick. A failed fetch or an invalid
//! list changes nothing: the last good list stays in force, and the failure is counted.

use crate::metrics::Counts;
use meshward_core::blocklist::BlockList;
use meshward_core::filter_config::BlocklistConfig;
use proxy_wasm::hostcalls;
use proxy_wasm::types::{BufferType, MapType};
use std::rc::Rc;
use std::time::Duration;

const ETAG_KEY: &str = "meshward.blocklist.etag";
const BODY_KEY: &str = "meshward.blocklist.body";
const NEXT_FETCH_KEY: &str = "meshward.blocklist.next_fetch_ms";

pub struct BlocklistSync {
    pub list: Rc<BlockList>,
    /// ETag of `list` (empty before the first list)
    etag: String,
    /// the token of this VM's fetch in flight
    pending: Option<u32>,
}

impl BlocklistSync {
    pub fn new() -> Self {
        BlocklistSync { list: Rc::new(BlockList::default()), etag: String::new(), pending: None }
    }

    /// Takes the list other VMs published, then fetches if it is this VM's turn.
    pub fn tick(&mut self, config: &BlocklistConfig, token: &str, now_ms: u64, counts: &mut Counts) {
        if !config.enabled {
            return;
        }
        self.adopt_shared(counts);
        if self.pending.is_none() && claim_fetch(now_ms, config.interval_ms) {
            self.fetch(config, token, counts);
        }
    }

    /// Compiles the shared body if its ETag differs from ours.
    pub fn adopt_shared(&mut self, counts: &mut Counts) {
        let Ok((Some(etag), _)) = hostcalls::get_shared_data(ETAG_KEY) else { return };
        if etag == self.etag.as_bytes() {
            return;
        }
        let Ok((Some(body), _)) = hostcalls::get_shared_data(BODY_KEY) else { return };
        match BlockList::from_json(&body) {
            Ok(list) => {
                self.list = Rc::new(list);
                self.etag = String::from_utf8_lossy(&etag).into_owned();
                counts.blocklist_rules = self.list.len() as u64;
            }
            Err(err) => {
                // another VM validated it; a mismatch means a different build wrote it
                counts.blocklist_invalid += 1;
                log::warn!("meshward: shared block list refused: {err}");
                self.etag = String::from_utf8_lossy(&etag).into_owned();
            }
        }
    }

    fn fetch(&mut self, config: &BlocklistConfig, token: &str, counts: &mut Counts) {
        let auth = format!("Bearer {token}");
        let mut headers = vec![
            (":method", "GET"),
            (":path", config.path.as_str()),
            (":authority", config.authority.as_str()),
            ("accept", "application/json"),
        ];
        if !token.is_empty() {
            headers.push(("authorization", auth.as_str()));
        }
        if !self.etag.is_empty() {
            headers.push(("if-none-match", self.etag.as_str()));
        }
        let timeout = Duration::from_millis(config.timeout_ms);
        match hostcalls::dispatch_http_call(&config.cluster, headers, None, vec![], timeout) {
            Ok(token) => self.pending = Some(token),
            Err(_) => counts.blocklist_fetch_failures += 1,
        }
    }

    /// The answer to this VM's fetch. Returns false if the token is not ours.
    pub fn on_response(&mut self, token: u32, body_size: usize, counts: &mut Counts) -> bool {
        if self.pending != Some(token) {
            return false;
        }
        self.pending = None;
        let status = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, ":status").ok().flatten();
        match status.as_deref() {
            Some("304") => counts.blocklist_fetches += 1,
            Some("200") => {
                let body = hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                let etag = hostcalls::get_map_value(MapType::HttpCallResponseHeaders, "etag").ok().flatten();
                match BlockList::from_json(&body) {
                    Ok(list) => {
                        let etag = etag.unwrap_or_else(|| format!("\"v{}-{}\"", list.version, body.len()));
                        counts.blocklist_fetches += 1;
                        // body first: a VM that sees the new ETag must find the new body
                        let published = hostcalls::set_shared_data(BODY_KEY, Some(&body), None)
                            .and_then(|()| hostcalls::set_shared_data(ETAG_KEY, Some(etag.as_bytes()), None));
                        if published.is_err() {
                            counts.blocklist_fetch_failures += 1;
                        }
                        self.list = Rc::new(list);
                        self.etag = etag;
                        counts.blocklist_rules = self.list.len() as u64;
                    }
                    Err(err) => {
                        counts.blocklist_invalid += 1;
                        log::warn!("meshward: block list refused, keeping the last good one: {err}");
                    }
                }
            }
            _ => counts.blocklist_fetch_failures += 1,
        }
        true
    }
}

/// Moves the shared "next fetch at" slot forward if it is due; true if this VM won the move.
fn claim_fetch(now_ms: u64, interval_ms: u64) -> bool {
    let Ok((value, cas)) = hostcalls::get_shared_data(NEXT_FETCH_KEY) else { return false };
    let due = value
        .and_then(|v| std::str::from_utf8(&v).ok().and_then(|s| s.parse::<u64>().ok()))
        .is_none_or(|next| now_ms >= next);
    if !due {
        return false;
    }
    let next = (now_ms + interval_ms).to_string();
    // Without a value there is no CAS to hold: two VMs may both create it and both fetch once.
    hostcalls::set_shared_data(NEXT_FETCH_KEY, Some(next.as_bytes()), cas).is_ok()
}
