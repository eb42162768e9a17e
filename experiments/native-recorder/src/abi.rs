//! Hand-written FFI declarations for the Envoy dynamic modules C ABI, HTTP filter part,
//! as loaded by Envoy 1.40.0 (ABI version string "v0.2.0").
//!
//! Source of truth: source/extensions/dynamic_modules/abi/abi.h in envoyproxy/envoy. The newest
//! stored version is commit 0199da4a13cb999df12ad32db7d03942cfbf9abb (it says "v0.1.0"). Its 30
//! HTTP filter hook names are exactly the 30 `envoy_dynamic_module_on_http_filter_*` names in the
//! 1.40 binary. Envoy promises that a module built for v0.1.x still works with a v0.2.x host, and
//! the Go SDK's 1.40-era test pins the appended attribute ids (HealthCheck=67,
//! UpstreamRequestedServerName=68, XdsVirtualClusterName=69), so the values below hold for 1.40.
//!
//! Target: x86_64 / aarch64 Linux. A C enum with only non-negative values is a 4-byte
//! `unsigned int` there (bindgen emits u32), so every enum crosses the ABI as `u32`.
//! `bool` is C `_Bool` (1 byte); `size_t` is `usize`.
//!
//! Envoy 1.40 dlopens modules with RTLD_NOW: every callback the .so really references must exist
//! in the binary, or the module fails to load. Declaring a callback here and never using it is
//! harmless, because the linker drops unused extern references.

#![allow(non_camel_case_types, dead_code)]

use core::ffi::{c_char, c_void};

// ============================================================================================
// ABI version
// ============================================================================================

/// What `envoy_dynamic_module_on_program_init` should return: a pointer to a NUL-terminated
/// string. Envoy 1.40 copies it as soon as the hook returns. A mismatch only logs a warning
/// ("Dynamic module ABI version ... is deprecated"). A null return makes Envoy reject the module.
pub const ABI_VERSION: &[u8] = b"v0.2.0\0";

// ============================================================================================
// Opaque pointer typedefs
// ============================================================================================

/// `envoy_dynamic_module_type_abi_version_module_ptr` (`const char*`).
pub type AbiVersionModulePtr = *const c_char;
/// `envoy_dynamic_module_type_buffer_envoy_ptr` / `..._buffer_module_ptr` (`const char*`).
pub type BufferPtr = *const c_char;

/// `envoy_dynamic_module_type_http_filter_config_envoy_ptr` (`void*`): Envoy's
/// DynamicModuleHttpFilterConfig. Envoy passes it to `on_http_filter_config_new`; the module may
/// keep it for the lifetime of the config (metrics define, config schedulers, ...).
pub type HttpFilterConfigEnvoyPtr = *mut c_void;
/// `envoy_dynamic_module_type_http_filter_config_module_ptr` (`const void*`): the module's
/// config object, returned from `on_http_filter_config_new` (null = reject config).
pub type HttpFilterConfigModulePtr = *const c_void;
/// `envoy_dynamic_module_type_http_filter_per_route_config_module_ptr` (`const void*`).
pub type HttpFilterPerRouteConfigModulePtr = *const c_void;
/// `envoy_dynamic_module_type_http_filter_envoy_ptr` (`void*`): Envoy's DynamicModuleHttpFilter,
/// one per stream. Every `envoy_dynamic_module_callback_http_*` takes it first.
pub type HttpFilterEnvoyPtr = *mut c_void;
/// `envoy_dynamic_module_type_http_filter_module_ptr` (`const void*`): the module's per-stream
/// filter object, returned from `on_http_filter_new` (null = Envoy closes the stream).
pub type HttpFilterModulePtr = *const c_void;
/// `envoy_dynamic_module_type_http_filter_scheduler_module_ptr` (`void*`).
pub type HttpFilterSchedulerModulePtr = *mut c_void;
/// `envoy_dynamic_module_type_http_filter_config_scheduler_module_ptr` (`void*`).
pub type HttpFilterConfigSchedulerModulePtr = *mut c_void;

// ============================================================================================
// Structs
// ============================================================================================

/// `envoy_dynamic_module_type_envoy_buffer`: Envoy-owned bytes (NOT NUL-terminated).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EnvoyBuffer {
    pub ptr: BufferPtr,
    pub length: usize,
}

impl EnvoyBuffer {
    pub const fn null() -> Self {
        Self { ptr: core::ptr::null(), length: 0 }
    }

    /// # Safety
    /// Only valid while Envoy keeps the memory alive (normally until the current hook returns).
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.ptr.is_null() || self.length == 0 {
            &[]
        } else {
            unsafe { core::slice::from_raw_parts(self.ptr as *const u8, self.length) }
        }
    }
}

/// `envoy_dynamic_module_type_module_buffer`: module-owned bytes lent to Envoy for one call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModuleBuffer {
    pub ptr: BufferPtr,
    pub length: usize,
}

impl ModuleBuffer {
    pub const fn null() -> Self {
        Self { ptr: core::ptr::null(), length: 0 }
    }

    pub fn from_bytes(b: &[u8]) -> Self {
        Self { ptr: b.as_ptr() as BufferPtr, length: b.len() }
    }
}

/// `envoy_dynamic_module_type_envoy_http_header`: one header entry owned by Envoy's HeaderMap.
/// Field order: key_ptr, key_length, value_ptr, value_length (32 bytes on 64-bit).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EnvoyHttpHeader {
    pub key_ptr: BufferPtr,
    pub key_length: usize,
    pub value_ptr: BufferPtr,
    pub value_length: usize,
}

impl EnvoyHttpHeader {
    pub const fn null() -> Self {
        Self { key_ptr: core::ptr::null(), key_length: 0, value_ptr: core::ptr::null(), value_length: 0 }
    }
}

/// `envoy_dynamic_module_type_module_http_header`: a header owned by the module (same layout),
/// used by `send_response`, callouts, etc.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModuleHttpHeader {
    pub key_ptr: BufferPtr,
    pub key_length: usize,
    pub value_ptr: BufferPtr,
    pub value_length: usize,
}

impl ModuleHttpHeader {
    pub fn new(key: &[u8], value: &[u8]) -> Self {
        Self {
            key_ptr: key.as_ptr() as BufferPtr,
            key_length: key.len(),
            value_ptr: value.as_ptr() as BufferPtr,
            value_length: value.len(),
        }
    }
}

// ============================================================================================
// Enums (C enums -> u32, values counted from 0 in declaration order)
// ============================================================================================

/// `envoy_dynamic_module_type_http_header_type`
pub type HttpHeaderType = u32;
pub const HEADER_TYPE_REQUEST_HEADER: HttpHeaderType = 0;
pub const HEADER_TYPE_REQUEST_TRAILER: HttpHeaderType = 1;
pub const HEADER_TYPE_RESPONSE_HEADER: HttpHeaderType = 2;
pub const HEADER_TYPE_RESPONSE_TRAILER: HttpHeaderType = 3;

/// `envoy_dynamic_module_type_http_body_type` (argument of the body callbacks).
/// Received = the chunk delivered to the current `on_http_filter_{request,response}_body` hook
/// (only there; elsewhere unavailable). Buffered = decodingBuffer()/encodingBuffer(): what was
/// accumulated after earlier hooks returned StopIterationAndBuffer.
pub type HttpBodyType = u32;
pub const BODY_TYPE_RECEIVED_REQUEST: HttpBodyType = 0;
pub const BODY_TYPE_BUFFERED_REQUEST: HttpBodyType = 1;
pub const BODY_TYPE_RECEIVED_RESPONSE: HttpBodyType = 2;
pub const BODY_TYPE_BUFFERED_RESPONSE: HttpBodyType = 3;

/// `envoy_dynamic_module_type_on_http_filter_request_headers_status` and
/// `..._response_headers_status`. Envoy does `static_cast<Http::FilterHeadersStatus>`.
pub type HeadersStatus = u32;
pub const HEADERS_CONTINUE: HeadersStatus = 0;
pub const HEADERS_STOP_ITERATION: HeadersStatus = 1;
pub const HEADERS_CONTINUE_AND_DONT_END_STREAM: HeadersStatus = 2;
pub const HEADERS_STOP_ALL_ITERATION_AND_BUFFER: HeadersStatus = 3;
pub const HEADERS_STOP_ALL_ITERATION_AND_WATERMARK: HeadersStatus = 4;

/// `envoy_dynamic_module_type_on_http_filter_request_body_status` and
/// `..._response_body_status`. Envoy does `static_cast<Http::FilterDataStatus>`.
pub type BodyStatus = u32;
pub const BODY_CONTINUE: BodyStatus = 0;
pub const BODY_STOP_ITERATION_AND_BUFFER: BodyStatus = 1;
pub const BODY_STOP_ITERATION_AND_WATERMARK: BodyStatus = 2;
pub const BODY_STOP_ITERATION_NO_BUFFER: BodyStatus = 3;

/// `envoy_dynamic_module_type_on_http_filter_{request,response}_trailers_status`.
pub type TrailersStatus = u32;
pub const TRAILERS_CONTINUE: TrailersStatus = 0;
pub const TRAILERS_STOP_ITERATION: TrailersStatus = 1;

/// `envoy_dynamic_module_type_on_http_filter_local_reply_status` (return of `local_reply`).
pub type LocalReplyStatus = u32;
pub const LOCAL_REPLY_CONTINUE: LocalReplyStatus = 0;
pub const LOCAL_REPLY_CONTINUE_AND_RESET_STREAM: LocalReplyStatus = 1;

/// `envoy_dynamic_module_type_log_level`
pub type LogLevel = u32;
pub const LOG_TRACE: LogLevel = 0;
pub const LOG_DEBUG: LogLevel = 1;
pub const LOG_INFO: LogLevel = 2;
pub const LOG_WARN: LogLevel = 3;
pub const LOG_ERROR: LogLevel = 4;
pub const LOG_CRITICAL: LogLevel = 5;
pub const LOG_OFF: LogLevel = 6;

/// `envoy_dynamic_module_type_http_callout_result` (argument of the callout_done hooks).
pub type HttpCalloutResult = u32;
pub const CALLOUT_RESULT_SUCCESS: HttpCalloutResult = 0;
pub const CALLOUT_RESULT_RESET: HttpCalloutResult = 1;
pub const CALLOUT_RESULT_EXCEED_RESPONSE_BUFFER_LIMIT: HttpCalloutResult = 2;

/// `envoy_dynamic_module_type_http_stream_reset_reason` (argument of the *_http_stream_reset
/// hooks): ConnectionFailure=0, ConnectionTermination=1, LocalReset=2,
/// LocalRefusedStreamReset=3, Overflow=4, RemoteReset=5, RemoteRefusedStreamReset=6,
/// ProtocolError=7.
pub type HttpStreamResetReason = u32;

/// `envoy_dynamic_module_type_attribute_id`. Full order (0-based):
///  0 RequestPath  1 RequestUrlPath  2 RequestHost  3 RequestScheme  4 RequestMethod
///  5 RequestHeaders  6 RequestReferer  7 RequestUserAgent  8 RequestTime  9 RequestId
/// 10 RequestProtocol 11 RequestQuery 12 RequestDuration 13 RequestSize 14 RequestTotalSize
/// 15 ResponseCode 16 ResponseCodeDetails 17 ResponseFlags 18 ResponseGrpcStatus
/// 19 ResponseHeaders 20 ResponseTrailers 21 ResponseSize 22 ResponseTotalSize
/// 23 ResponseBackendLatency 24 SourceAddress 25 SourcePort 26 DestinationAddress
/// 27 DestinationPort 28 ConnectionId 29 ConnectionMtls 30 ConnectionRequestedServerName
/// 31 ConnectionTlsVersion 32 ConnectionSubjectLocalCertificate
/// 33 ConnectionSubjectPeerCertificate 34 ConnectionDnsSanLocalCertificate
/// 35 ConnectionDnsSanPeerCertificate 36 ConnectionUriSanLocalCertificate
/// 37 ConnectionUriSanPeerCertificate 38 ConnectionSha256PeerCertificateDigest
/// 39 ConnectionTransportFailureReason 40 ConnectionTerminationDetails 41 UpstreamAddress ...
/// 66 XdsFilterChainName 67 HealthCheck 68 UpstreamRequestedServerName
/// 69 XdsVirtualClusterName (68 and 69 are new in 1.40 and were appended at the end)
pub type AttributeId = u32;
/// response.code (int attribute; only available once a response exists).
pub const ATTR_RESPONSE_CODE: AttributeId = 15;
/// source.address (string). The HTTP filter returns
/// `downstreamAddressProvider().remoteAddress()->asStringView()`, i.e. "ip:port"
/// ("1.2.3.4:5678", "[::1]:5678"), so strip the port before comparing IPs. (In 1.40 the other
/// contexts also include the port, to match CEL.) remoteAddress can be rewritten by
/// XFF/original-IP detection; the binary also has a
/// `http_get_downstream_direct_remote_address` callback (not declared here).
pub const ATTR_SOURCE_ADDRESS: AttributeId = 24;
/// source.port (int).
pub const ATTR_SOURCE_PORT: AttributeId = 25;
/// connection.uri_san_peer_certificate (string). Returns false when the connection is not TLS
/// or there is no peer URI SAN.
pub const ATTR_CONNECTION_URI_SAN_PEER_CERTIFICATE: AttributeId = 37;

// ============================================================================================
// Callbacks (implemented by Envoy, called by the module)
// ============================================================================================
//
// The "Lifetime" notes come from abi.h: the returned views stay valid until the current event hook
// returns, unless a setter on the same map or body is called first.

unsafe extern "C" {
    // ---- logging (common section of abi.h) ----------------------------------------------------
    // 1.40 deprecated this in favor of `envoy_dynamic_module_callback_log_v2`, which adds a source
    // location, but it "keeps working". binary_symbols.txt lists only HTTP names, so confirm that
    // `envoy_dynamic_module_callback_log` is in the binary before using it (RTLD_NOW).
    /// void envoy_dynamic_module_callback_log(envoy_dynamic_module_type_log_level level,
    ///                                        envoy_dynamic_module_type_module_buffer message);
    pub fn envoy_dynamic_module_callback_log(level: LogLevel, message: ModuleBuffer);
    /// bool envoy_dynamic_module_callback_log_enabled(envoy_dynamic_module_type_log_level level);
    pub fn envoy_dynamic_module_callback_log_enabled(level: LogLevel) -> bool;

    // ---- headers --------------------------------------------------------------------------------
    /// size_t envoy_dynamic_module_callback_http_get_headers_size(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_http_header_type header_type);
    /// Returns 0 if the map is absent (e.g. trailers not received yet).
    pub fn envoy_dynamic_module_callback_http_get_headers_size(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        header_type: HttpHeaderType,
    ) -> usize;

    /// bool envoy_dynamic_module_callback_http_get_headers(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_http_header_type header_type,
    ///     envoy_dynamic_module_type_envoy_http_header* result_headers);
    /// `result_headers` must have room for get_headers_size() entries (Envoy does not check).
    pub fn envoy_dynamic_module_callback_http_get_headers(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        header_type: HttpHeaderType,
        result_headers: *mut EnvoyHttpHeader,
    ) -> bool;

    /// bool envoy_dynamic_module_callback_http_get_header(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_http_header_type header_type,
    ///     envoy_dynamic_module_type_module_buffer key,
    ///     envoy_dynamic_module_type_envoy_buffer* result_buffer, size_t index,
    ///     size_t* optional_size);
    /// Looks up one value by (lower-case) key. `optional_size` may be null; if not null it gets the
    /// number of values.
    pub fn envoy_dynamic_module_callback_http_get_header(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        header_type: HttpHeaderType,
        key: ModuleBuffer,
        result_buffer: *mut EnvoyBuffer,
        index: usize,
        optional_size: *mut usize,
    ) -> bool;

    /// bool envoy_dynamic_module_callback_http_set_header(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_http_header_type header_type,
    ///     envoy_dynamic_module_type_module_buffer key,
    ///     envoy_dynamic_module_type_module_buffer value);
    /// Replaces all values; a null value removes the header.
    pub fn envoy_dynamic_module_callback_http_set_header(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        header_type: HttpHeaderType,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;

    // ---- bodies ---------------------------------------------------------------------------------
    // Since the "new body processing ABI" (#41790, 1.37 and backports) Envoy has one set of body
    // callbacks that take a body type. The older get_request_body_vector / get_response_body_vector
    // names are gone. The 1.40 binary has get_body_size, get_body_chunks_size, get_body_chunks,
    // append_body, drain_body and received_buffered_{request,response}_body.

    /// size_t envoy_dynamic_module_callback_http_get_body_size(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_http_body_type body_type);
    /// Total bytes; 0 if unavailable or empty.
    pub fn envoy_dynamic_module_callback_http_get_body_size(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        body_type: HttpBodyType,
    ) -> usize;

    /// size_t envoy_dynamic_module_callback_http_get_body_chunks_size(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_http_body_type body_type);
    /// Number of slices; 0 if unavailable or empty. (One older SDK revision briefly had
    /// `(ptr, type, size_t* out) -> bool`; v0.1.0 and 1.40 use this size_t-returning form.)
    pub fn envoy_dynamic_module_callback_http_get_body_chunks_size(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        body_type: HttpBodyType,
    ) -> usize;

    /// bool envoy_dynamic_module_callback_http_get_body_chunks(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_http_body_type body_type,
    ///     envoy_dynamic_module_type_envoy_buffer* result_buffer_vector);
    /// `result_buffer_vector` must have room for get_body_chunks_size() entries. Returns false if
    /// that body does not exist (received body outside a body hook, or no buffered body).
    pub fn envoy_dynamic_module_callback_http_get_body_chunks(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        body_type: HttpBodyType,
        result_buffer_vector: *mut EnvoyBuffer,
    ) -> bool;

    /// bool envoy_dynamic_module_callback_http_received_buffered_request_body(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr);
    /// Inside on_http_filter_request_body: true if the chunk just received IS the body an earlier
    /// filter buffered and then resumed with, so Received and Buffered are the same bytes and must
    /// not be counted twice.
    pub fn envoy_dynamic_module_callback_http_received_buffered_request_body(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
    ) -> bool;

    /// bool envoy_dynamic_module_callback_http_received_buffered_response_body(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr);
    pub fn envoy_dynamic_module_callback_http_received_buffered_response_body(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
    ) -> bool;

    // ---- attributes -----------------------------------------------------------------------------
    /// bool envoy_dynamic_module_callback_http_filter_get_attribute_string(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_attribute_id attribute_id,
    ///     envoy_dynamic_module_type_envoy_buffer* result);
    pub fn envoy_dynamic_module_callback_http_filter_get_attribute_string(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        attribute_id: AttributeId,
        result: *mut EnvoyBuffer,
    ) -> bool;

    /// bool envoy_dynamic_module_callback_http_filter_get_attribute_int(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_attribute_id attribute_id, uint64_t* result);
    /// NOTE: the out type is uint64_t (the Rust SDK casts it to i64).
    pub fn envoy_dynamic_module_callback_http_filter_get_attribute_int(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        attribute_id: AttributeId,
        result: *mut u64,
    ) -> bool;

    /// bool envoy_dynamic_module_callback_http_filter_get_attribute_bool(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
    ///     envoy_dynamic_module_type_attribute_id attribute_id, bool* result);
    pub fn envoy_dynamic_module_callback_http_filter_get_attribute_bool(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        attribute_id: AttributeId,
        result: *mut bool,
    ) -> bool;

    // ---- local response -------------------------------------------------------------------------
    /// void envoy_dynamic_module_callback_http_send_response(
    ///     envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr, uint32_t status_code,
    ///     envoy_dynamic_module_type_module_http_header* headers_vector, size_t headers_vector_size,
    ///     envoy_dynamic_module_type_module_buffer body,
    ///     envoy_dynamic_module_type_module_buffer details);
    /// Wraps decoder_callbacks->sendLocalReply(). `headers_vector` may be null when size is 0;
    /// `details` (response code details, e.g. "rbac_denied") may be a null buffer.
    /// This is SYNCHRONOUSLY re-entrant: before it returns, Envoy may call this same filter's
    /// `on_http_filter_local_reply` and its response header and body hooks. Hold no
    /// RefCell/&mut borrow of per-filter state across the call. From on_http_filter_request_headers,
    /// return HEADERS_STOP_ITERATION afterwards (the SDKs do this).
    pub fn envoy_dynamic_module_callback_http_send_response(
        filter_envoy_ptr: HttpFilterEnvoyPtr,
        status_code: u32,
        headers_vector: *mut ModuleHttpHeader,
        headers_vector_size: usize,
        body: ModuleBuffer,
        details: ModuleBuffer,
    );
}

// ============================================================================================
// Event hooks: the module exports these (Envoy dlsym's them)
// ============================================================================================
//
// Who resolves what (filter_config.cc @ 02bdd7b8840871d9dc9e5bb80700c7a887bdc8e5, the newest
// stored version, which matches the 1.40 hook set):
//   * dynamic_modules.cc, at load time: envoy_dynamic_module_on_program_init   [REQUIRED]
//   * newDynamicModuleHttpFilterConfig(): each REQUIRED one that is missing fails the config
//     (RETURN_IF_NOT_OK); OPTIONAL ones are looked up and stored only if found.
//   * newDynamicModuleHttpPerRouteConfig(): both per_route hooks are REQUIRED, but only when a
//     DynamicModuleFilterPerRoute config is actually set on a route.
// Advice: export all 31 with no-op bodies. That costs nothing and covers hooks a later 1.40.x
// might turn from optional to required.
//
// Rust side: use `#[unsafe(no_mangle)] pub extern "C" fn ...` (edition 2024). A panic that
// reaches an `extern "C"` boundary aborts the process (Rust >= 1.81), so keep hooks panic-free
// or wrap them in catch_unwind. In 1.40, on_http_filter_destroy runs from deferred deletion,
// after every other hook has returned and after the stream is gone: header, body and
// stream-info callbacks are no-ops there, so do end-of-stream work in stream_complete.
//
// ---------------------------------------------------------------------------------------------
// [REQUIRED] program init
//   C:    envoy_dynamic_module_type_abi_version_module_ptr envoy_dynamic_module_on_program_init(void);
//   Rust: extern "C" fn envoy_dynamic_module_on_program_init() -> AbiVersionModulePtr
//         { ABI_VERSION.as_ptr() as *const c_char }        // null => module rejected
//
// [REQUIRED] config new
//   C:    envoy_dynamic_module_type_http_filter_config_module_ptr
//         envoy_dynamic_module_on_http_filter_config_new(
//             envoy_dynamic_module_type_http_filter_config_envoy_ptr filter_config_envoy_ptr,
//             envoy_dynamic_module_type_envoy_buffer name,
//             envoy_dynamic_module_type_envoy_buffer config);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
//             filter_config_envoy_ptr: HttpFilterConfigEnvoyPtr, name: EnvoyBuffer,
//             config: EnvoyBuffer) -> HttpFilterConfigModulePtr      // null => config rejected
//   Runs on the main thread. `name` = filter_name and `config` = MessageUtil::anyToBytes(
//   filter_config): the raw string for google.protobuf.StringValue, bytes for BytesValue, JSON
//   for Struct (1.40: also for xds.type.v3.TypedStruct `value`). Both buffers live only for the
//   call, so copy them.
//
// [REQUIRED] config destroy
//   C:    void envoy_dynamic_module_on_http_filter_config_destroy(
//             envoy_dynamic_module_type_http_filter_config_module_ptr filter_config_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(
//             filter_config_ptr: HttpFilterConfigModulePtr)
//
// [REQUIRED only with a per-route config] per-route config new / destroy
//   C:    envoy_dynamic_module_type_http_filter_per_route_config_module_ptr
//         envoy_dynamic_module_on_http_filter_per_route_config_new(
//             envoy_dynamic_module_type_envoy_buffer name,
//             envoy_dynamic_module_type_envoy_buffer config);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_new(
//             name: EnvoyBuffer, config: EnvoyBuffer) -> HttpFilterPerRouteConfigModulePtr
//   C:    void envoy_dynamic_module_on_http_filter_per_route_config_destroy(
//             envoy_dynamic_module_type_http_filter_per_route_config_module_ptr filter_config_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_destroy(
//             filter_config_ptr: HttpFilterPerRouteConfigModulePtr)
//
// [REQUIRED] filter new (per stream, on a worker thread; NOTE the argument order: config first)
//   C:    envoy_dynamic_module_type_http_filter_module_ptr envoy_dynamic_module_on_http_filter_new(
//             envoy_dynamic_module_type_http_filter_config_module_ptr filter_config_ptr,
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_new(
//             filter_config_ptr: HttpFilterConfigModulePtr,
//             filter_envoy_ptr: HttpFilterEnvoyPtr) -> HttpFilterModulePtr  // null => stream closed
//
// [REQUIRED] request/response headers, body and trailers (envoy ptr FIRST, module ptr second)
//   C:    envoy_dynamic_module_type_on_http_filter_request_headers_status
//         envoy_dynamic_module_on_http_filter_request_headers(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr, bool end_of_stream);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             end_of_stream: bool) -> HeadersStatus
//   C:    envoy_dynamic_module_type_on_http_filter_request_body_status
//         envoy_dynamic_module_on_http_filter_request_body(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr, bool end_of_stream);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             end_of_stream: bool) -> BodyStatus
//   C:    envoy_dynamic_module_type_on_http_filter_request_trailers_status
//         envoy_dynamic_module_on_http_filter_request_trailers(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_request_trailers(
//             filter_envoy_ptr: HttpFilterEnvoyPtr,
//             filter_module_ptr: HttpFilterModulePtr) -> TrailersStatus
//   C:    envoy_dynamic_module_type_on_http_filter_response_headers_status
//         envoy_dynamic_module_on_http_filter_response_headers(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr, bool end_of_stream);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             end_of_stream: bool) -> HeadersStatus
//   C:    envoy_dynamic_module_type_on_http_filter_response_body_status
//         envoy_dynamic_module_on_http_filter_response_body(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr, bool end_of_stream);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_response_body(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             end_of_stream: bool) -> BodyStatus
//   C:    envoy_dynamic_module_type_on_http_filter_response_trailers_status
//         envoy_dynamic_module_on_http_filter_response_trailers(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_response_trailers(
//             filter_envoy_ptr: HttpFilterEnvoyPtr,
//             filter_module_ptr: HttpFilterModulePtr) -> TrailersStatus
//   The response_* status enums are numbered exactly like the request_* ones
//   (HeadersStatus / BodyStatus / TrailersStatus above).
//   Whole-body inspection: return BODY_STOP_ITERATION_AND_BUFFER until end_of_stream, then read
//   BUFFERED_* plus RECEIVED_* (older hosts move the final chunk into the buffer with
//   addDecodedData when end_of_stream is set and a buffer exists; if
//   received_buffered_*_body() is true, they are the same bytes). Mind the buffer limit
//   (per_connection_buffer_limit_bytes): once StopIterationAndBuffer passes it, Envoy answers
//   413 on the request path (500 on the response path).
//
// [REQUIRED] stream complete (before destroy; access logs are flushed after it)
//   C:    void envoy_dynamic_module_on_http_filter_stream_complete(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_stream_complete(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr)
//
// [REQUIRED] filter destroy (only the module ptr; free the per-stream object here)
//   C:    void envoy_dynamic_module_on_http_filter_destroy(
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_destroy(
//             filter_module_ptr: HttpFilterModulePtr)
//
// [REQUIRED] per-filter HTTP callout done
//   C:    void envoy_dynamic_module_on_http_filter_http_callout_done(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint64_t callout_id, envoy_dynamic_module_type_http_callout_result result,
//             envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
//             envoy_dynamic_module_type_envoy_buffer* body_chunks, size_t body_chunks_size);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_http_callout_done(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             callout_id: u64, result: HttpCalloutResult,
//             headers: *mut EnvoyHttpHeader, headers_size: usize,
//             body_chunks: *mut EnvoyBuffer, body_chunks_size: usize)
//
// [REQUIRED] per-filter streamable HTTP callout hooks
//   C:    void envoy_dynamic_module_on_http_filter_http_stream_headers(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint64_t stream_id, envoy_dynamic_module_type_envoy_http_header* headers,
//             size_t headers_size, bool end_stream);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_headers(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             stream_id: u64, headers: *mut EnvoyHttpHeader, headers_size: usize,
//             end_stream: bool)
//   C:    void envoy_dynamic_module_on_http_filter_http_stream_data(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint64_t stream_id, const envoy_dynamic_module_type_envoy_buffer* data,
//             size_t data_count, bool end_stream);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_data(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             stream_id: u64, data: *const EnvoyBuffer, data_count: usize, end_stream: bool)
//   C:    void envoy_dynamic_module_on_http_filter_http_stream_trailers(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint64_t stream_id, envoy_dynamic_module_type_envoy_http_header* trailers,
//             size_t trailers_size);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_trailers(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             stream_id: u64, trailers: *mut EnvoyHttpHeader, trailers_size: usize)
//   C:    void envoy_dynamic_module_on_http_filter_http_stream_complete(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint64_t stream_id);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_complete(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             stream_id: u64)
//   C:    void envoy_dynamic_module_on_http_filter_http_stream_reset(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint64_t stream_id, envoy_dynamic_module_type_http_stream_reset_reason reason);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_reset(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             stream_id: u64, reason: HttpStreamResetReason)
//
// [REQUIRED] per-filter scheduled event
//   C:    void envoy_dynamic_module_on_http_filter_scheduled(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint64_t event_id);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_scheduled(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             event_id: u64)
//
// [REQUIRED] downstream watermarks
//   C:    void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr)
//   C:    void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr)
//
// [OPTIONAL] local reply notification (called from inside send_response / sendLocalReply)
//   C:    envoy_dynamic_module_type_on_http_filter_local_reply_status
//         envoy_dynamic_module_on_http_filter_local_reply(
//             envoy_dynamic_module_type_http_filter_envoy_ptr filter_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_module_ptr filter_module_ptr,
//             uint32_t response_code, envoy_dynamic_module_type_envoy_buffer details,
//             bool reset_imminent);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_local_reply(
//             filter_envoy_ptr: HttpFilterEnvoyPtr, filter_module_ptr: HttpFilterModulePtr,
//             response_code: u32, details: EnvoyBuffer, reset_imminent: bool)
//             -> LocalReplyStatus                                  // LOCAL_REPLY_CONTINUE
//
// [OPTIONAL] config-level scheduled event (main thread)
//   C:    void envoy_dynamic_module_on_http_filter_config_scheduled(
//             envoy_dynamic_module_type_http_filter_config_envoy_ptr filter_config_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_config_module_ptr filter_config_ptr,
//             uint64_t event_id);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_config_scheduled(
//             filter_config_envoy_ptr: HttpFilterConfigEnvoyPtr,
//             filter_config_ptr: HttpFilterConfigModulePtr, event_id: u64)
//
// [OPTIONAL] config-level HTTP callout done
//   C:    void envoy_dynamic_module_on_http_filter_config_http_callout_done(
//             envoy_dynamic_module_type_http_filter_config_envoy_ptr filter_config_envoy_ptr,
//             envoy_dynamic_module_type_http_filter_config_module_ptr filter_config_ptr,
//             uint64_t callout_id, envoy_dynamic_module_type_http_callout_result result,
//             envoy_dynamic_module_type_envoy_http_header* headers, size_t headers_size,
//             envoy_dynamic_module_type_envoy_buffer* body_chunks, size_t body_chunks_size);
//   Rust: extern "C" fn envoy_dynamic_module_on_http_filter_config_http_callout_done(
//             filter_config_envoy_ptr: HttpFilterConfigEnvoyPtr,
//             filter_config_ptr: HttpFilterConfigModulePtr, callout_id: u64,
//             result: HttpCalloutResult, headers: *mut EnvoyHttpHeader, headers_size: usize,
//             body_chunks: *mut EnvoyBuffer, body_chunks_size: usize)
//
// [OPTIONAL] config-level streamable HTTP callout hooks. Same argument lists as the per-filter
// http_stream_* hooks, except the first two arguments are
// (HttpFilterConfigEnvoyPtr filter_config_envoy_ptr, HttpFilterConfigModulePtr filter_config_ptr):
//   envoy_dynamic_module_on_http_filter_config_http_stream_headers(
//       cfg_envoy, cfg_module, stream_id: u64, headers: *mut EnvoyHttpHeader,
//       headers_size: usize, end_stream: bool)
//   envoy_dynamic_module_on_http_filter_config_http_stream_data(
//       cfg_envoy, cfg_module, stream_id: u64, data: *const EnvoyBuffer, data_count: usize,
//       end_stream: bool)
//   envoy_dynamic_module_on_http_filter_config_http_stream_trailers(
//       cfg_envoy, cfg_module, stream_id: u64, trailers: *mut EnvoyHttpHeader,
//       trailers_size: usize)
//   envoy_dynamic_module_on_http_filter_config_http_stream_complete(
//       cfg_envoy, cfg_module, stream_id: u64)
//   envoy_dynamic_module_on_http_filter_config_http_stream_reset(
//       cfg_envoy, cfg_module, stream_id: u64, reason: HttpStreamResetReason)
//   All return void.
