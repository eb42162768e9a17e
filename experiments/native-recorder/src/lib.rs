//! Experiment: the exchange recorder as an Envoy dynamic module (native code in Envoy's
//! process, no V8). Capture only: events are encoded into the outbox, not shipped.
#![allow(clippy::missing_safety_doc)]
mod abi;
use abi::*;
use meshward_core::detect::Direction;
use meshward_core::filter_config::FilterConfig;
use meshward_core::ids::EventIds;
use meshward_core::outbox::Outbox;
use meshward_core::recorder::{End, Recorder};
use std::cell::RefCell;
use std::os::raw::c_char;

/// One filter configuration, read by every worker thread (created on Envoy's main thread).
struct Config {
    config: FilterConfig,
}

/// What one Envoy worker thread records with: Envoy runs every hook of a stream on the worker
/// that owns its connection, so per-thread state needs no lock (the wasm filter's VM per worker).
struct Worker {
    recorder: Recorder,
    outbox: Outbox,
    ids: EventIds,
    next_tick_us: u64,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
}

/// One HTTP stream.
struct Filter {
    config: *const Config,
    recording: Option<meshward_core::Exchange>,
}

fn now_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

fn with_worker<R>(config: &Config, f: impl FnOnce(&mut Worker) -> R) -> Option<R> {
    WORKER.with(|w| {
        let mut w = w.try_borrow_mut().ok()?;
        if w.is_none() {
            let mut seed = [0u8; 16];
            seed[..8].copy_from_slice(&(now_us() ^ thread_seed()).to_le_bytes());
            let ids = EventIds::new(seed);
            *w = Some(Worker {
                recorder: Recorder::new(config.config.recorder(), ids.seed()),
                outbox: Outbox::new(config.config.outbox_limits()),
                ids,
                next_tick_us: 0,
            });
        }
        w.as_mut().map(f)
    })
}

/// Differs between Envoy's worker threads, so their sampling differs.
fn thread_seed() -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::thread::current().id().hash(&mut hasher);
    hasher.finish()
}

unsafe fn headers(envoy: HttpFilterEnvoyPtr, kind: HttpHeaderType) -> Vec<(String, Vec<u8>)> {
    let n = unsafe { envoy_dynamic_module_callback_http_get_headers_size(envoy, kind) };
    if n == 0 {
        return Vec::new();
    }
    let mut raw = vec![EnvoyHttpHeader::null(); n];
    if !unsafe { envoy_dynamic_module_callback_http_get_headers(envoy, kind, raw.as_mut_ptr()) } {
        return Vec::new();
    }
    raw.iter()
        .map(|h| {
            let key = unsafe { EnvoyBuffer { ptr: h.key_ptr, length: h.key_length }.as_bytes() };
            let value = unsafe { EnvoyBuffer { ptr: h.value_ptr, length: h.value_length }.as_bytes() };
            (String::from_utf8_lossy(key).into_owned(), value.to_vec())
        })
        .collect()
}

unsafe fn attribute_string(envoy: HttpFilterEnvoyPtr, id: AttributeId) -> String {
    let mut out = EnvoyBuffer::null();
    if unsafe { envoy_dynamic_module_callback_http_filter_get_attribute_string(envoy, id, &mut out) } {
        String::from_utf8_lossy(unsafe { out.as_bytes() }).into_owned()
    } else {
        String::new()
    }
}

unsafe fn body_chunk(envoy: HttpFilterEnvoyPtr, filter: &mut Filter, direction: Direction, kind: HttpBodyType) {
    let config = unsafe { &*filter.config };
    let Some(recording) = filter.recording.as_mut() else { return };
    let size = unsafe { envoy_dynamic_module_callback_http_get_body_size(envoy, kind) };
    let room = with_worker(config, |w| w.recorder.body_room(recording, direction)).unwrap_or(0).min(size);
    if room > 0 {
        let n = unsafe { envoy_dynamic_module_callback_http_get_body_chunks_size(envoy, kind) };
        let mut chunks = vec![EnvoyBuffer::null(); n];
        if n > 0 && unsafe { envoy_dynamic_module_callback_http_get_body_chunks(envoy, kind, chunks.as_mut_ptr()) } {
            let mut left = room;
            for chunk in &chunks {
                let bytes = unsafe { chunk.as_bytes() };
                let take = bytes.len().min(left);
                recording.body_data(direction, &bytes[..take]);
                left -= take;
                if left == 0 {
                    break;
                }
            }
        }
    }
    recording.body_seen(direction, size);
}

#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> AbiVersionModulePtr {
    ABI_VERSION.as_ptr() as *const c_char
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    _envoy: HttpFilterConfigEnvoyPtr,
    _name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> HttpFilterConfigModulePtr {
    let bytes = unsafe { config.as_bytes() };
    let config = FilterConfig::parse(bytes).unwrap_or_default();
    Box::into_raw(Box::new(Config { config })) as HttpFilterConfigModulePtr
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(config: HttpFilterConfigModulePtr) {
    drop(unsafe { Box::from_raw(config as *mut Config) });
}

#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_new(
    config: HttpFilterConfigModulePtr,
    _envoy: HttpFilterEnvoyPtr,
) -> HttpFilterModulePtr {
    Box::into_raw(Box::new(Filter { config: config as *const Config, recording: None })) as HttpFilterModulePtr
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_destroy(filter: HttpFilterModulePtr) {
    drop(unsafe { Box::from_raw(filter as *mut Filter) });
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    envoy: HttpFilterEnvoyPtr,
    filter: HttpFilterModulePtr,
    _end: bool,
) -> HeadersStatus {
    let filter = unsafe { &mut *(filter as *mut Filter) };
    let config = unsafe { &*filter.config };
    let now = now_us();
    let headers = unsafe { headers(envoy, HEADER_TYPE_REQUEST_HEADER) };
    let source = unsafe { attribute_string(envoy, ATTR_SOURCE_ADDRESS) };
    filter.recording = with_worker(config, |w| w.recorder.request_headers(&headers, &source, now));
    HEADERS_CONTINUE
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
    envoy: HttpFilterEnvoyPtr,
    filter: HttpFilterModulePtr,
    _end: bool,
) -> BodyStatus {
    let filter = unsafe { &mut *(filter as *mut Filter) };
    unsafe { body_chunk(envoy, filter, Direction::Request, BODY_TYPE_RECEIVED_REQUEST) };
    BODY_CONTINUE
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    envoy: HttpFilterEnvoyPtr,
    filter: HttpFilterModulePtr,
    _end: bool,
) -> HeadersStatus {
    let filter = unsafe { &mut *(filter as *mut Filter) };
    let config = unsafe { &*filter.config };
    let Some(recording) = filter.recording.as_mut() else { return HEADERS_CONTINUE };
    let headers = unsafe { headers(envoy, HEADER_TYPE_RESPONSE_HEADER) };
    with_worker(config, |w| w.recorder.response_headers(recording, &headers));
    HEADERS_CONTINUE
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_response_body(
    envoy: HttpFilterEnvoyPtr,
    filter: HttpFilterModulePtr,
    _end: bool,
) -> BodyStatus {
    let filter = unsafe { &mut *(filter as *mut Filter) };
    unsafe { body_chunk(envoy, filter, Direction::Response, BODY_TYPE_RECEIVED_RESPONSE) };
    BODY_CONTINUE
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_stream_complete(
    envoy: HttpFilterEnvoyPtr,
    filter: HttpFilterModulePtr,
) {
    let filter = unsafe { &mut *(filter as *mut Filter) };
    let config = unsafe { &*filter.config };
    let Some(recording) = filter.recording.take() else { return };
    let ended = now_us();
    let status = if recording.status() == 0 {
        let mut code = 0u64;
        unsafe { envoy_dynamic_module_callback_http_filter_get_attribute_int(envoy, ATTR_RESPONSE_CODE, &mut code) };
        Some(code as u32)
    } else {
        None
    };
    let principal = unsafe { attribute_string(envoy, ATTR_CONNECTION_URI_SAN_PEER_CERTIFICATE) };
    with_worker(config, |w| {
        let clock = now_us;
        let end = End { now_us: ended, event_id: w.ids.next_id(), status, peer_principal: &principal, clock: &clock };
        let event = w.recorder.finish(recording, end);
        if w.outbox.push(event).is_err() {
            w.recorder.forget_shapes();
        }
        if ended >= w.next_tick_us {
            w.recorder.tick(ended);
            w.next_tick_us = ended + 100_000;
        }
    });
}

#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_trailers(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
) -> TrailersStatus {
    TRAILERS_CONTINUE
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_trailers(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
) -> TrailersStatus {
    TRAILERS_CONTINUE
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_callout_done(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
    _id: u64,
    _r: HttpCalloutResult,
    _h: *mut EnvoyHttpHeader,
    _hs: usize,
    _b: *mut EnvoyBuffer,
    _bs: usize,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_headers(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
    _id: u64,
    _h: *mut EnvoyHttpHeader,
    _hs: usize,
    _end: bool,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_data(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
    _id: u64,
    _d: *const EnvoyBuffer,
    _n: usize,
    _end: bool,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_trailers(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
    _id: u64,
    _t: *mut EnvoyHttpHeader,
    _n: usize,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_complete(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
    _id: u64,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_reset(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
    _id: u64,
    _r: HttpStreamResetReason,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_scheduled(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
    _id: u64,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    _e: HttpFilterEnvoyPtr,
    _f: HttpFilterModulePtr,
) {
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_new(
    _n: EnvoyBuffer,
    _c: EnvoyBuffer,
) -> HttpFilterPerRouteConfigModulePtr {
    std::ptr::null()
}
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_destroy(_c: HttpFilterPerRouteConfigModulePtr) {}
