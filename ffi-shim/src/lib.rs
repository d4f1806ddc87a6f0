//! The SCAPI C ABI of the Siebel CTI driver (`libsiebel_cti.so` / `siebel_cti.dll`).
//!
//! Every entry point of `include/scapi.h` is here, unmangled, `extern "C"`. Rules that hold
//! for all of them: no panic crosses the boundary (each body runs under `catch_unwind`), every
//! pointer and handle from the host is checked, strings are UTF-16 with limits, and nothing
//! the host hands in is kept past the call (it is copied into Rust values first).
//!
//! Each body runs in `entry` and reads its arguments through the `Entry` it is given:
//! every check returns `Result<_, Failure>`, logs why it failed, and `?` ends the body with
//! that result code.

mod client;
mod handles;
mod strings;

use std::ffi::c_long;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use driver::{Driver, Service, WorkItemOp};
use scapi_types::*;

use client::ClientHost;
use handles::ServiceEntry;
use strings::{read, read_kv, read_required, BadInput};

/// The media type this driver serves.
const MEDIA_VOICE: &str = "Voice";

/// An entry point's early end: the `SCErrorCode` it returns. Whoever makes one has logged
/// why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Failure(ISC_RESULT);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SCAPI error code {}", self.0)
    }
}

impl std::error::Error for Failure {}

/// Runs the body of the entry point `name`: `Ok` returns `SC_EC_OK`, `Err` its code, and a
/// panic `SC_EC_ERROR` with a log line. `bad_input` is the code for unreadable arguments and
/// null out-pointers (see [`Entry`]).
fn entry(
    name: &'static str,
    bad_input: ISC_RESULT,
    body: impl FnOnce(Entry) -> Result<(), Failure>,
) -> ISC_RESULT {
    let cx = Entry { name, bad_input };
    match catch_unwind(AssertUnwindSafe(|| body(cx))) {
        Ok(Ok(())) => ec::OK,
        Ok(Err(Failure(rc))) => rc,
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

/// The entry point being run: its name (which starts each log line) and the code it returns
/// for bad arguments. Each method checks one argument and logs its refusal.
#[derive(Clone, Copy)]
struct Entry {
    name: &'static str,
    bad_input: ISC_RESULT,
}

impl Entry {
    /// Logs `why` as an error; returns `code`.
    fn fail(self, code: ISC_RESULT, why: impl fmt::Display) -> Failure {
        tracing::error!("{}: {why}", self.name);
        Failure(code)
    }

    /// Logs `why` as a warning; returns `code`.
    fn warn(self, code: ISC_RESULT, why: impl fmt::Display) -> Failure {
        tracing::warn!("{}: {why}", self.name);
        Failure(code)
    }

    /// Logs bad host input; returns `code`.
    fn reject(self, code: ISC_RESULT, e: BadInput) -> Failure {
        self.fail(code, format_args!("{e} (returning {code})"))
    }

    /// The out-parameter `p` (named `what` in the log); null is refused.
    ///
    /// # Safety
    /// `p` is null or writable.
    unsafe fn out<'a, T>(self, p: *mut T, what: &str) -> Result<&'a mut T, Failure> {
        p.as_mut()
            .ok_or_else(|| self.fail(self.bad_input, format_args!("null {what} pointer")))
    }

    /// The string argument `what`; null reads as empty.
    ///
    /// # Safety
    /// As for [`strings::read`].
    unsafe fn string(self, p: *const ISC_CHAR, what: &str) -> Result<String, Failure> {
        read(p, what)
            .map(Option::unwrap_or_default)
            .map_err(|e| self.reject(self.bad_input, e))
    }

    /// The string argument `what`; null is refused.
    ///
    /// # Safety
    /// As for [`strings::read`].
    unsafe fn required(self, p: *const ISC_CHAR, what: &str) -> Result<String, Failure> {
        read_required(p, what).map_err(|e| self.reject(self.bad_input, e))
    }

    /// The key/value list argument `what`; null is empty.
    ///
    /// # Safety
    /// As for [`strings::read_kv`].
    unsafe fn kv(
        self,
        list: *const ISC_KVParamList,
        what: &str,
    ) -> Result<Vec<(String, String)>, Failure> {
        read_kv(list, what).map_err(|e| self.reject(self.bad_input, e))
    }

    /// Checks the media type argument: null, empty or Voice. An unreadable one is
    /// `SC_EC_ERROR` whatever the entry point.
    ///
    /// # Safety
    /// As for [`strings::read`].
    unsafe fn voice(self, media: *const ISC_CHAR) -> Result<(), Failure> {
        let m = read(media, "mediaTypeStr")
            .map(Option::unwrap_or_default)
            .map_err(|e| self.reject(ec::ERROR, e))?;
        if m.is_empty() || m.eq_ignore_ascii_case(MEDIA_VOICE) {
            return Ok(());
        }
        Err(self.fail(
            ec::MEDIA_TYPE_NOT_SUPPORTED,
            format_args!("media type {m:?} is not supported (only {MEDIA_VOICE})"),
        ))
    }

    /// The driver instance of a driver handle.
    fn driver(self, handle: ISC_DRIVER_HANDLE) -> Result<Arc<Driver>, Failure> {
        let d = handles::driver(handle as usize).ok_or_else(|| self.unknown_driver(handle))?;
        d.log_on_this_thread();
        Ok(d)
    }

    /// Logs an unknown or released driver handle.
    fn unknown_driver(self, handle: ISC_DRIVER_HANDLE) -> Failure {
        self.fail(
            ec::INVALID_HANDLE,
            format_args!("unknown or released driver handle {handle:p}"),
        )
    }

    /// The session (and its driver instance) of a service handle.
    fn service(self, handle: ISC_SERVICE_HANDLE) -> Result<(Arc<Driver>, Arc<Service>), Failure> {
        let (d, s) =
            handles::service(handle as usize).ok_or_else(|| self.unknown_service(handle))?;
        d.log_on_this_thread();
        Ok((d, s))
    }

    /// Logs an unknown or released service handle.
    fn unknown_service(self, handle: ISC_SERVICE_HANDLE) -> Failure {
        self.fail(
            ec::INVALID_HANDLE,
            format_args!("unknown or released service handle {handle:p}"),
        )
    }
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
    entry("CreateISCDriverInstance", ec::DRIVER_CREATION_ERR, |cx| {
        let handle = cx.out(handle, "handle")?;
        *handle = std::ptr::null_mut();
        cx.voice(media_type)?;
        let language = cx.string(language_code, "languageCode")?;
        let connect = cx.string(connect_string, "connectString")?;
        let params = cx.kv(dataset_params, "datasetParams")?;
        let d = Driver::create(&params, &language).map_err(|e| {
            // The subscriber may not exist yet: say it on stderr too.
            eprintln!("siebel_cti: {}: {e}", cx.name);
            cx.fail(ec::DRIVER_CREATION_ERR, e)
        })?;
        d.log_on_this_thread();
        tracing::info!(
            "{}: language {language:?}, connect string {connect:?}, {} parameters",
            cx.name,
            params.len()
        );
        *handle = handles::add_driver(Arc::new(d)) as ISC_DRIVER_HANDLE;
        Ok(())
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
    entry("RequestCommandEventList", ec::ERROR, |cx| {
        // Both are checked before either is written (through the raw pointers: a host may
        // pass the same list twice).
        cx.out(command_list, "list")?;
        cx.out(event_list, "list")?;
        cx.voice(media_type)?;
        *command_list = strings::alloc_list(&driver::command_names());
        *event_list = strings::alloc_list(&driver::event_names());
        Ok(())
    })
}

/// `FreeSCStrParamList`: frees a list this driver returned.
#[no_mangle]
pub extern "C" fn FreeSCStrParamList(list: ISC_StrParamList) {
    entry("FreeSCStrParamList", ec::ERROR, |cx| {
        strings::free_list(list).map_err(|e| cx.reject(ec::ERROR, e))
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
    entry("GetImplementationObject", ec::ERROR, |_| {
        if let Some(obj) = imp_obj.as_mut() {
            *obj = std::ptr::null_mut();
        }
        tracing::info!("GetImplementationObject({key:p}): no implementation object offered");
        Err(Failure(ec::IMPOBJ_CREATE_ERR))
    })
}

/// `ReleaseISCDriverInstance`: ends every remaining session and closes the broker link.
#[no_mangle]
pub extern "C" fn ReleaseISCDriverInstance(handle: ISC_DRIVER_HANDLE) -> ISC_RESULT {
    entry("ReleaseISCDriverInstance", ec::ERROR, |cx| {
        let (d, services) =
            handles::remove_driver(handle as usize).ok_or_else(|| cx.unknown_driver(handle))?;
        for s in &services {
            d.release_service(s);
        }
        if !services.is_empty() {
            tracing::warn!(
                "{}: {} sessions were still open and were released",
                cx.name,
                services.len()
            );
        }
        d.shutdown();
        Ok(())
    })
}

/// `RequestService`: creates an agent session with Siebel's client interface (in the member
/// order of the header the library was built against: see `client::from_siebel`).
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
    entry("RequestService", ec::SERVICE_CREATION_ERR, |cx| {
        let service_handle = cx.out(service_handle, "service handle")?;
        *service_handle = std::ptr::null_mut();
        let d = cx.driver(handle)?;
        let client = client::from_siebel(&client);
        if client.HandleEvent.is_none()
            || client.ShowStatusText.is_none()
            || client.CacheCommandInformation.is_none()
        {
            return Err(cx.fail(
                ec::CLIENT_INTERFACE_ERR,
                "the client interface lacks HandleEvent, ShowStatusText or CacheCommandInformation",
            ));
        }
        cx.string(connect_string, "connectString")?;
        let params = cx.kv(dataset_params, "datasetParams")?;
        let s = d
            .request_service(Box::new(ClientHost::new(client)), &params)
            .map_err(|e| cx.fail(ec::SERVICE_CREATION_ERR, e))?;
        *service_handle = handles::add_service(ServiceEntry {
            driver: d,
            driver_handle: handle as usize,
            service: Arc::new(s),
        }) as ISC_SERVICE_HANDLE;
        Ok(())
    })
}

/// `ReleaseISCServiceInstance`: ends the session; no callback follows.
#[no_mangle]
pub extern "C" fn ReleaseISCServiceInstance(handle: ISC_SERVICE_HANDLE) -> ISC_RESULT {
    entry("ReleaseISCServiceInstance", ec::ERROR, |cx| {
        let e =
            handles::remove_service(handle as usize).ok_or_else(|| cx.unknown_service(handle))?;
        e.driver.release_service(&e.service);
        Ok(())
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
    entry("InvokeCommand", ec::ERROR, |cx| {
        let (d, s) = cx.service(handle)?;
        let track = cx.string(track_id, "clntCmdTrackID")?;
        let command = cx.required(name, "name")?;
        let sp = cx.string(string_param, "stringParam")?;
        let params = cx.kv(dataset_param, "datasetParam")?;
        d.invoke(&s, &track, &command, &sp, params)
            .map_err(|e| match e {
                driver::InvokeError::UnknownCommand(_) => cx.fail(ec::CMD_NOT_SUPPORTED, e),
                _ => cx.fail(ec::ERROR, e),
            })
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
    /// `SC_CT_MAKECALL`.
    const MAKE_CALL: SCCommandTypeEx = 1;
    entry("InvokeCommandEx", ec::ERROR, |cx| {
        let (d, s) = cx.service(handle)?;
        let track = cx.string(track_id, "clntCmdTrackID")?;
        let params = cx.kv(dataset_param, "datasetParam")?;
        if command_type != MAKE_CALL {
            return Err(cx.warn(
                ec::CMD_NOT_SUPPORTED,
                format_args!("command type {command_type} is not supported (voice only)"),
            ));
        }
        d.invoke(&s, &track, "MakeCall", "", params)
            .map_err(|e| cx.fail(ec::ERROR, e))
    })
}

/// Acts on a work item (a call): answer, hang up, hold, or select it (resume).
///
/// # Safety
/// `tracking` is null or a NUL-terminated string.
unsafe fn work_item(
    name: &'static str,
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
    op: WorkItemOp,
) -> ISC_RESULT {
    entry(name, ec::ERROR, |cx| {
        let (d, s) = cx.service(handle)?;
        let tracking = cx.string(tracking, "trackingID")?;
        d.work_item(&s, &tracking, op).map_err(|e| match e {
            driver::InvokeError::UnknownWorkItem(_) => cx.warn(ec::INVALID_ITEM_TRACKING_ID, e),
            _ => cx.fail(ec::ERROR, e),
        })
    })
}

/// The queue methods' common end: this driver never queues work items or events, so every
/// tracking id is unknown to them.
///
/// # Safety
/// `tracking` is null or a NUL-terminated string.
unsafe fn unknown_tracking_id(
    cx: Entry,
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> Result<(), Failure> {
    cx.service(handle)?;
    let tracking = cx.string(tracking, "trackingID")?;
    Err(cx.warn(
        ec::INVALID_ITEM_TRACKING_ID,
        format_args!("no work item with tracking id {tracking:?}"),
    ))
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

/// `RevokeQueuedWorkItem`: no queued work item is known (see `unknown_tracking_id`).
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn RevokeQueuedWorkItem(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    entry("RevokeQueuedWorkItem", ec::ERROR, |cx| {
        unknown_tracking_id(cx, handle, tracking)
    })
}

/// `CancelQueuedEvent` (not on Oracle's pages; see the header): no queued event is known.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
#[no_mangle]
pub unsafe extern "C" fn CancelQueuedEvent(
    handle: ISC_SERVICE_HANDLE,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    entry("CancelQueuedEvent", ec::ERROR, |cx| {
        unknown_tracking_id(cx, handle, tracking)
    })
}

/// Validates a queued item/event call; this driver never queues, so none is known.
///
/// # Safety
/// Pointers are null or valid as `include/scapi.h` describes.
unsafe fn queued(
    name: &'static str,
    handle: ISC_SERVICE_HANDLE,
    item: ISC_STRING,
    fields: *const ISC_KVParamList,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    entry(name, ec::ERROR, |cx| {
        cx.service(handle)?;
        cx.string(item, "name")?;
        cx.kv(fields, "fields")?;
        unknown_tracking_id(cx, handle, tracking)
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
    entry("NotifyEventHandlingFinished", ec::ERROR, |cx| {
        cx.service(handle)?;
        let tracking = cx.string(tracking, "trackingID")?;
        tracing::debug!("{}({tracking:?}, {result})", cx.name);
        Ok(())
    })
}
