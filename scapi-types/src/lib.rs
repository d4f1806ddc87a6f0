//! The C types of Siebel's Adaptive Communications API (SCAPI), mirroring `include/scapi.h`
//! (which says what is documented and what is inferred). This crate is the one Rust
//! definition: the driver's C ABI (`ffi-shim/`) and scs-sim both use it, so a correction of the
//! layout is made here and in the header only. `tests/layout.rs` compares every struct's size
//! and member offsets with what gcc makes of the header.

// C names on purpose: they mirror the header.
#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_int, c_long, c_void};

/// A UTF-16 code unit (2 bytes on every platform; never `wchar_t`).
pub type ISC_CHAR = u16;
/// A NUL-terminated UTF-16 string.
pub type ISC_STRING = *mut ISC_CHAR;
/// Result code of every method (`SC_EC_*`).
pub type ISC_RESULT = c_long;
/// Boolean (0 or 1).
pub type ISC_BOOLEAN = c_int;
/// Our driver handle.
pub type ISC_DRIVER_HANDLE = *mut c_void;
/// Our service handle.
pub type ISC_SERVICE_HANDLE = *mut c_void;
/// Siebel's client handle.
pub type ISC_CLIENT_HANDLE = *mut c_void;
/// A generic handle (`GetImplementationObject`).
pub type ISC_HANDLE = *mut c_void;
/// `time_t`.
pub type TimeT = libc::time_t;

/// `SCAPI_VERSION`.
pub const SCAPI_VERSION: c_long = 2;

/// One name/value pair.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ISC_KeyValue {
    /// Parameter name.
    pub paramName: ISC_STRING,
    /// Parameter value.
    pub paramValue: ISC_STRING,
}

/// A list of name/value pairs.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ISC_KVParamList {
    /// Number of items.
    pub len: c_long,
    /// The items.
    pub dataItems: *mut ISC_KeyValue,
}

/// A list of strings.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ISC_StrParamList {
    /// Number of items.
    pub len: c_long,
    /// The items.
    pub dataItems: *mut ISC_STRING,
}

/// A list of longs.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ISC_LongParamList {
    /// Number of items.
    pub len: c_long,
    /// The items.
    pub dataItems: *mut c_long,
}

/// `SCCommandTypeEx` (an `enum`, passed as `int`).
pub type SCCommandTypeEx = c_int;
/// `SCWorkItemMode` (an `enum`, passed as `int`).
pub type SCWorkItemMode = c_int;

/// Result codes (`SCErrorCode`).
pub mod ec {
    use std::ffi::c_long;
    /// Success.
    pub const OK: c_long = 0;
    /// General error.
    pub const ERROR: c_long = 1;
    /// Unknown command.
    pub const CMD_NOT_SUPPORTED: c_long = 2;
    /// Media type not supported.
    pub const MEDIA_TYPE_NOT_SUPPORTED: c_long = 3;
    /// Null, unknown or released handle.
    pub const INVALID_HANDLE: c_long = 4;
    /// Out of memory.
    pub const OUT_OF_MEMORY: c_long = 5;
    /// Network error.
    pub const NETWORK_ERROR: c_long = 6;
    /// Driver creation failed.
    pub const DRIVER_CREATION_ERR: c_long = 9;
    /// Driver release failed.
    pub const DRIVER_RELEASE_ERR: c_long = 10;
    /// Service creation failed.
    pub const SERVICE_CREATION_ERR: c_long = 11;
    /// Service release failed.
    pub const SERVICE_RELEASE_ERR: c_long = 12;
    /// Unknown work item tracking id.
    pub const INVALID_ITEM_TRACKING_ID: c_long = 13;
    /// The client interface is unusable.
    pub const CLIENT_INTERFACE_ERR: c_long = 14;
    /// Could not create the implementation object.
    pub const IMPOBJ_CREATE_ERR: c_long = 16;
    /// Work item in the wrong state.
    pub const WORK_ITEM_WRONG_STATE: c_long = 18;
}

/// Callback types of `ISC_CLIENT_INTERFACE`.
pub type FnHandle = Option<unsafe extern "C" fn(ISC_CLIENT_HANDLE) -> ISC_RESULT>;
/// `CacheCommandInformation`.
pub type FnCacheCommandInformation = Option<
    unsafe extern "C" fn(
        ISC_CLIENT_HANDLE,
        *const ISC_StrParamList,
        *const ISC_StrParamList,
        *const ISC_LongParamList,
    ) -> ISC_RESULT,
>;
/// `HandleError`.
pub type FnHandleError =
    Option<unsafe extern "C" fn(ISC_CLIENT_HANDLE, ISC_STRING, ISC_STRING) -> ISC_RESULT>;
/// `HandleEvent`.
pub type FnHandleEvent = Option<
    unsafe extern "C" fn(
        ISC_CLIENT_HANDLE,
        ISC_STRING,
        *const ISC_KVParamList,
        ISC_BOOLEAN,
        ISC_STRING,
    ) -> ISC_RESULT,
>;
/// `IndicateNewWorkItem`.
pub type FnIndicateNewWorkItem = Option<
    unsafe extern "C" fn(
        ISC_CLIENT_HANDLE,
        ISC_STRING,
        ISC_STRING,
        ISC_STRING,
        SCWorkItemMode,
    ) -> ISC_RESULT,
>;
/// `ShowStatusText`, `WorkItemResumed`, `WorkItemSuspended`.
pub type FnHandleStr = Option<unsafe extern "C" fn(ISC_CLIENT_HANDLE, ISC_STRING) -> ISC_RESULT>;
/// `UpdateObjectInformation`.
pub type FnUpdateObjectInformation = Option<
    unsafe extern "C" fn(
        ISC_CLIENT_HANDLE,
        ISC_STRING,
        ISC_STRING,
        *const ISC_KVParamList,
    ) -> ISC_RESULT,
>;
/// `WorkItemReleased`.
pub type FnWorkItemReleased =
    Option<unsafe extern "C" fn(ISC_CLIENT_HANDLE, ISC_STRING, TimeT) -> ISC_RESULT>;
/// `WorkItemStarted`.
pub type FnWorkItemStarted = Option<
    unsafe extern "C" fn(
        ISC_CLIENT_HANDLE,
        ISC_STRING,
        ISC_STRING,
        ISC_STRING,
        ISC_STRING,
        TimeT,
    ) -> ISC_RESULT,
>;

/// Siebel's client interface: its handle and the callbacks (member order: see the header).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ISC_CLIENT_INTERFACE {
    /// Passed back as the first argument of every callback.
    pub clientHandle: ISC_CLIENT_HANDLE,
    /// `BeginBatch`.
    pub BeginBatch: FnHandle,
    /// `CacheCommandInformation`.
    pub CacheCommandInformation: FnCacheCommandInformation,
    /// `CleanAllWorkItem`.
    pub CleanAllWorkItem: FnHandle,
    /// `EndBatch`.
    pub EndBatch: FnHandle,
    /// `HandleError`.
    pub HandleError: FnHandleError,
    /// `HandleEvent`.
    pub HandleEvent: FnHandleEvent,
    /// `IndicateNewWorkItem`.
    pub IndicateNewWorkItem: FnIndicateNewWorkItem,
    /// `ShowStatusText`.
    pub ShowStatusText: FnHandleStr,
    /// `UpdateObjectInformation`.
    pub UpdateObjectInformation: FnUpdateObjectInformation,
    /// `WorkItemReleased`.
    pub WorkItemReleased: FnWorkItemReleased,
    /// `WorkItemResumed`.
    pub WorkItemResumed: FnHandleStr,
    /// `WorkItemStarted`.
    pub WorkItemStarted: FnWorkItemStarted,
    /// `WorkItemSuspended`.
    pub WorkItemSuspended: FnHandleStr,
}
