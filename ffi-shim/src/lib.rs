//! The SCAPI C ABI of the Siebel CTI driver (`libsiebel_cti.so` / `siebel_cti.dll`).
//!
//! Every entry point of `include/scapi.h` is here, unmangled, `extern "C"`. Rules that hold
//! for all of them: no panic crosses the boundary (each body runs under `catch_unwind`), every
//! pointer and handle from the host is checked, strings are UTF-16 with limits, and nothing
//! the host hands in is kept past the call (it is copied into Rust values first).

mod client;
mod handles;
mod strings;
pub mod types;

use std::ffi::c_long;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use driver::{Driver, WorkItemOp};

use client::ClientHost;
use handles::ServiceEntry;
use strings::{read, read_kv, read_required, BadInput};
use types::*;

/// The media type this driver serves.
const MEDIA_VOICE: &str = "Voice";

/// Runs an entry point's body: a panic becomes `SC_EC_ERROR` and a log line.
fn guard(name: &str, body: impl FnOnce() -> ISC_RESULT) -> ISC_RESULT {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(rc) => rc,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!("{name}: internal error caught at the C boundary: {what}");
            ec::ERROR
        }
    }
}

/// Logs bad host input and returns `code`.
fn reject(name: &str, code: ISC_RESULT, e: BadInput) -> ISC_RESULT {
    tracing::error!("{name}: {} (returning {code})", e.0);
    code
}

fn check_media(name: &str, media: *const ISC_CHAR) -> Result<(), ISC_RESULT> {
    // SAFETY: null or a NUL-terminated string from the host.
    match unsafe { read(media, "mediaTypeStr") } {
        Err(e) => Err(reject(name, ec::ERROR, e)),
        Ok(None) => Ok(()),
        Ok(Some(m)) if m.is_empty() || m.eq_ignore_ascii_case(MEDIA_VOICE) => Ok(()),
        Ok(Some(m)) => {
            tracing::error!("{name}: media type {m:?} is not supported (only {MEDIA_VOICE})");
            Err(ec::MEDIA_TYPE_NOT_SUPPORTED)
        }
    }
}

fn service_of(
    name: &str,
    handle: ISC_SERVICE_HANDLE,
) -> Result<(Arc<Driver>, Arc<driver::Service>), ISC_RESULT> {
    handles::service(handle as usize).ok_or_else(|| {
        tracing::error!("{name}: unknown or released service handle {handle:p}");
        ec::INVALID_HANDLE
    })
}

/// `APIVersion`: the SCAPI version this driver implements.
#[no_mangle]
pub extern "C" fn APIVersion() -> c_long {
    SCAPI_VERSION
}

/// `CreateISCDriverInstance`: parses the `Driver:` parameters and starts the broker link.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn CreateISCDriverInstance(
    media_type: ISC_STRING,
    language_code: ISC_STRING,
    connect_string: ISC_STRING,
    dataset_params: *const ISC_KVParamList,
    handle: *mut ISC_DRIVER_HANDLE,
) -> ISC_RESULT {
    const NAME: &str = "CreateISCDriverInstance";
    guard(NAME, || {
        if handle.is_null() {
            tracing::error!("{NAME}: null handle pointer");
            return ec::DRIVER_CREATION_ERR;
        }
        *handle = std::ptr::null_mut();
        if let Err(rc) = check_media(NAME, media_type) {
            return rc;
        }
        let language = match read(language_code, "languageCode") {
            Ok(l) => l.unwrap_or_default(),
            Err(e) => return reject(NAME, ec::DRIVER_CREATION_ERR, e),
        };
        let connect = match read(connect_string, "connectString") {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => return reject(NAME, ec::DRIVER_CREATION_ERR, e),
        };
        let params = match read_kv(dataset_params, "datasetParams") {
            Ok(p) => p,
            Err(e) => return reject(NAME, ec::DRIVER_CREATION_ERR, e),
        };
        match Driver::create(&params, &language) {
            Ok(d) => {
                tracing::info!(
                    "{NAME}: language {language:?}, connect string {connect:?}, {} parameters",
                    params.len()
                );
                *handle = handles::add_driver(Arc::new(d)) as ISC_DRIVER_HANDLE;
                ec::OK
            }
            Err(e) => {
                // The subscriber may not exist yet: say it on stderr too.
                eprintln!("siebel_cti: {NAME}: {e}");
                tracing::error!("{NAME}: {e}");
                ec::DRIVER_CREATION_ERR
            }
        }
    })
}

/// `RequestCommandEventList`: the device commands and events this driver supports.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn RequestCommandEventList(
    media_type: ISC_STRING,
    command_list: *mut ISC_StrParamList,
    event_list: *mut ISC_StrParamList,
) -> ISC_RESULT {
    const NAME: &str = "RequestCommandEventList";
    guard(NAME, || {
        if command_list.is_null() || event_list.is_null() {
            tracing::error!("{NAME}: null list pointer");
            return ec::ERROR;
        }
        if let Err(rc) = check_media(NAME, media_type) {
            return rc;
        }
        *command_list = strings::alloc_list(&driver::command_names());
        *event_list = strings::alloc_list(&driver::event_names());
        ec::OK
    })
}

/// `FreeSCStrParamList`: frees a list this driver returned.
#[no_mangle]
pub extern "C" fn FreeSCStrParamList(list: ISC_StrParamList) {
    const NAME: &str = "FreeSCStrParamList";
    guard(NAME, || match strings::free_list(list) {
        Ok(()) => ec::OK,
        Err(e) => reject(NAME, ec::ERROR, e),
    });
}

/// `GetImplementationObject`: this driver has no implementation objects.
///
/// # Safety
/// `imp_obj` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn GetImplementationObject(
    key: ISC_HANDLE,
    imp_obj: *mut ISC_HANDLE,
) -> ISC_RESULT {
    guard("GetImplementationObject", || {
        if !imp_obj.is_null() {
            *imp_obj = std::ptr::null_mut();
        }
        tracing::info!("GetImplementationObject({key:p}): no implementation object offered");
        ec::IMPOBJ_CREATE_ERR
    })
}

/// `ReleaseISCDriverInstance`: ends every remaining session and closes the broker link.
#[no_mangle]
pub extern "C" fn ReleaseISCDriverInstance(handle: ISC_DRIVER_HANDLE) -> ISC_RESULT {
    const NAME: &str = "ReleaseISCDriverInstance";
    guard(NAME, || match handles::remove_driver(handle as usize) {
        Some((d, services)) => {
            for s in &services {
                d.release_service(s);
            }
            if !services.is_empty() {
                tracing::warn!(
                    "{NAME}: {} sessions were still open and were released",
                    services.len()
                );
            }
            d.shutdown();
            ec::OK
        }
        None => {
            tracing::error!("{NAME}: unknown or released driver handle {handle:p}");
            ec::INVALID_HANDLE
        }
    })
}

/// `RequestService`: creates an agent session with Siebel's client interface.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn RequestService(
    handle: ISC_DRIVER_HANDLE,
    client: ISC_CLIENT_INTERFACE,
    connect_string: ISC_STRING,
    dataset_params: *const ISC_KVParamList,
    service_handle: *mut ISC_SERVICE_HANDLE,
) -> ISC_RESULT {
    const NAME: &str = "RequestService";
    guard(NAME, || {
        if service_handle.is_null() {
            tracing::error!("{NAME}: null service handle pointer");
            return ec::SERVICE_CREATION_ERR;
        }
        *service_handle = std::ptr::null_mut();
        let Some(d) = handles::driver(handle as usize) else {
            tracing::error!("{NAME}: unknown or released driver handle {handle:p}");
            return ec::INVALID_HANDLE;
        };
        if client.HandleEvent.is_none()
            || client.ShowStatusText.is_none()
            || client.CacheCommandInformation.is_none()
        {
            tracing::error!(
                "{NAME}: the client interface lacks HandleEvent, ShowStatusText or CacheCommandInformation"
            );
            return ec::CLIENT_INTERFACE_ERR;
        }
        if let Err(e) = read(connect_string, "connectString") {
            return reject(NAME, ec::SERVICE_CREATION_ERR, e);
        }
        let params = match read_kv(dataset_params, "datasetParams") {
            Ok(p) => p,
            Err(e) => return reject(NAME, ec::SERVICE_CREATION_ERR, e),
        };
        match d.request_service(Box::new(ClientHost::new(client)), &params) {
            Ok(s) => {
                *service_handle = handles::add_service(ServiceEntry {
                    driver: d,
                    driver_handle: handle as usize,
                    service: Arc::new(s),
                }) as ISC_SERVICE_HANDLE;
                ec::OK
            }
            Err(e) => {
                tracing::error!("{NAME}: {e}");
                ec::SERVICE_CREATION_ERR
            }
        }
    })
}

/// `ReleaseISCServiceInstance`: ends the session; no callback follows.
#[no_mangle]
pub extern "C" fn ReleaseISCServiceInstance(handle: ISC_SERVICE_HANDLE) -> ISC_RESULT {
    const NAME: &str = "ReleaseISCServiceInstance";
    guard(NAME, || match handles::remove_service(handle as usize) {
        Some(e) => {
            e.driver.release_service(&e.service);
            ec::OK
        }
        None => {
            tracing::error!("{NAME}: unknown or released service handle {handle:p}");
            ec::INVALID_HANDLE
        }
    })
}

/// `InvokeCommand`: queues a toolbar command; returns without waiting on the network.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn InvokeCommand(
    handle: ISC_SERVICE_HANDLE,
    track_id: ISC_STRING,
    name: ISC_STRING,
    string_param: ISC_STRING,
    dataset_param: *const ISC_KVParamList,
) -> ISC_RESULT {
    const NAME: &str = "InvokeCommand";
    guard(NAME, || {
        let (d, s) = match service_of(NAME, handle) {
            Ok(x) => x,
            Err(rc) => return rc,
        };
        let parsed = (|| {
            Ok::<_, BadInput>((
                read(track_id, "clntCmdTrackID")?.unwrap_or_default(),
                read_required(name, "name")?,
                read(string_param, "stringParam")?.unwrap_or_default(),
                read_kv(dataset_param, "datasetParam")?,
            ))
        })();
        let (track, command, sp, params) = match parsed {
            Ok(x) => x,
            Err(e) => return reject(NAME, ec::ERROR, e),
        };
        match d.invoke(&s, &track, &command, &sp, params) {
            Ok(()) => ec::OK,
            Err(e @ driver::InvokeError::UnknownCommand(_)) => {
                tracing::error!("{NAME}: {e}");
                ec::CMD_NOT_SUPPORTED
            }
            Err(e) => {
                tracing::error!("{NAME}: {e}");
                ec::ERROR
            }
        }
    })
}

/// `InvokeCommandEx`: typed commands. `SC_CT_MAKECALL` is the driver's `MakeCall` with the
/// dataset's `PhoneNumber`; `SC_CT_SENDMESSAGE` (email) is not a voice command and is refused
/// with `SC_EC_CMD_NOT_SUPPORTED`.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn InvokeCommandEx(
    handle: ISC_SERVICE_HANDLE,
    track_id: ISC_STRING,
    command_type: SCCommandTypeEx,
    dataset_param: *const ISC_KVParamList,
) -> ISC_RESULT {
    const NAME: &str = "InvokeCommandEx";
    /// `SC_CT_MAKECALL`.
    const MAKE_CALL: SCCommandTypeEx = 1;
    guard(NAME, || {
        let (d, s) = match service_of(NAME, handle) {
            Ok(x) => x,
            Err(rc) => return rc,
        };
        let parsed = read(track_id, "clntCmdTrackID").and_then(|t| {
            Ok((
                t.unwrap_or_default(),
                read_kv(dataset_param, "datasetParam")?,
            ))
        });
        let (track, params) = match parsed {
            Ok(x) => x,
            Err(e) => return reject(NAME, ec::ERROR, e),
        };
        if command_type != MAKE_CALL {
            tracing::warn!("{NAME}: command type {command_type} is not supported (voice only)");
            return ec::CMD_NOT_SUPPORTED;
        }
        match d.invoke(&s, &track, "MakeCall", "", params) {
            Ok(()) => ec::OK,
            Err(e) => {
                tracing::error!("{NAME}: {e}");
                ec::ERROR
            }
        }
    })
}

/// Acts on a work item (a call): answer, hang up, hold, or select it (resume).
unsafe fn work_item(
    name: &str,
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
    op: WorkItemOp,
) -> ISC_RESULT {
    guard(name, || {
        let (d, s) = match service_of(name, handle) {
            Ok(x) => x,
            Err(rc) => return rc,
        };
        let tracking = match read(tracking, "trackingID") {
            Err(e) => return reject(name, ec::ERROR, e),
            Ok(t) => t.unwrap_or_default(),
        };
        match d.work_item(&s, &tracking, op) {
            Ok(()) => ec::OK,
            Err(e @ driver::InvokeError::UnknownWorkItem(_)) => {
                tracing::warn!("{name}: {e}");
                ec::INVALID_ITEM_TRACKING_ID
            }
            Err(e) => {
                tracing::error!("{name}: {e}");
                ec::ERROR
            }
        }
    })
}

/// Validates a service handle and a tracking id for the queue methods: this driver never
/// queues work items or events, so every tracking id is unknown to them.
unsafe fn no_work_item(name: &str, handle: ISC_SERVICE_HANDLE, tracking: ISC_STRING) -> ISC_RESULT {
    guard(name, || {
        if let Err(rc) = service_of(name, handle) {
            return rc;
        }
        match read(tracking, "trackingID") {
            Err(e) => reject(name, ec::ERROR, e),
            Ok(t) => {
                tracing::warn!(
                    "{name}: no work item with tracking id {:?}",
                    t.unwrap_or_default()
                );
                ec::INVALID_ITEM_TRACKING_ID
            }
        }
    })
}

/// `AcceptWorkItem`.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn AcceptWorkItem(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    work_item("AcceptWorkItem", handle, tracking, WorkItemOp::Accept)
}

/// `ReleaseWorkItem`.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn ReleaseWorkItem(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    work_item("ReleaseWorkItem", handle, tracking, WorkItemOp::Release)
}

/// `SuspendWorkItem`.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn SuspendWorkItem(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    work_item("SuspendWorkItem", handle, tracking, WorkItemOp::Suspend)
}

/// `ResumeWorkItem`.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn ResumeWorkItem(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    work_item("ResumeWorkItem", handle, tracking, WorkItemOp::Resume)
}

/// `RevokeQueuedWorkItem`.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn RevokeQueuedWorkItem(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    no_work_item("RevokeQueuedWorkItem", handle, tracking)
}

/// `CancelQueuedEvent` (not on Oracle's pages; see the header).
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn CancelQueuedEvent(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    no_work_item("CancelQueuedEvent", handle, tracking)
}

/// Validates a queued item/event call; this driver never queues, so none is known.
unsafe fn queued(
    name: &str,
    handle: ISC_SERVICE_HANDLE,
    item: ISC_STRING,
    fields: *const ISC_KVParamList,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    guard(name, || {
        if let Err(e) = read(item, "name").and_then(|_| read_kv(fields, "fields")) {
            if service_of(name, handle).is_err() {
                return ec::INVALID_HANDLE;
            }
            return reject(name, ec::ERROR, e);
        }
        no_work_item(name, handle, tracking)
    })
}

/// `HandleQueuedWorkItem`.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn HandleQueuedWorkItem(
    handle: ISC_SERVICE_HANDLE,
    name: ISC_STRING,
    fields: *const ISC_KVParamList,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    queued("HandleQueuedWorkItem", handle, name, fields, tracking)
}

/// `HandleQueuedEvent` (not on Oracle's pages; see the header).
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn HandleQueuedEvent(
    handle: ISC_SERVICE_HANDLE,
    name: ISC_STRING,
    fields: *const ISC_KVParamList,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    queued("HandleQueuedEvent", handle, name, fields, tracking)
}

/// `NotifyEventHandlingFinished`: the driver never asks for it (notifyWhenDone is always
/// false), so it is only validated and logged.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn NotifyEventHandlingFinished(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
    result: ISC_BOOLEAN,
) -> ISC_RESULT {
    const NAME: &str = "NotifyEventHandlingFinished";
    guard(NAME, || {
        if let Err(rc) = service_of(NAME, handle) {
            return rc;
        }
        match read(tracking, "trackingID") {
            Err(e) => reject(NAME, ec::ERROR, e),
            Ok(t) => {
                tracing::debug!("{NAME}({:?}, {result})", t.unwrap_or_default());
                ec::OK
            }
        }
    })
}
