//! The driver library as the host sees it: its entry points (dlopen) and the client interface
//! whose callbacks feed the main loop.

use std::ffi::{c_long, c_void};
use std::sync::mpsc::Sender;
use std::sync::Mutex;

use scapi_types::*;

type CreateFn = unsafe extern "C" fn(
    ISC_STRING,
    ISC_STRING,
    ISC_STRING,
    *const ISC_KVParamList,
    *mut ISC_DRIVER_HANDLE,
) -> ISC_RESULT;
type RequestServiceFn = unsafe extern "C" fn(
    ISC_DRIVER_HANDLE,
    ISC_CLIENT_INTERFACE,
    ISC_STRING,
    *const ISC_KVParamList,
    *mut ISC_SERVICE_HANDLE,
) -> ISC_RESULT;
type InvokeFn = unsafe extern "C" fn(
    ISC_SERVICE_HANDLE,
    ISC_STRING,
    ISC_STRING,
    ISC_STRING,
    *const ISC_KVParamList,
) -> ISC_RESULT;
type ReleaseFn = unsafe extern "C" fn(*mut c_void) -> ISC_RESULT;

/// The entry points the host uses.
pub(crate) struct Api {
    pub(crate) create: CreateFn,
    pub(crate) request_service: RequestServiceFn,
    pub(crate) invoke: InvokeFn,
    pub(crate) release_service: ReleaseFn,
    pub(crate) release_driver: ReleaseFn,
    _lib: libloading::Library,
}

impl Api {
    pub(crate) fn load(path: &str) -> Result<Api, String> {
        // SAFETY: the driver library's initialisers are Rust's own; the symbols have the
        // types include/scapi.h declares.
        unsafe {
            let lib = libloading::Library::new(path).map_err(|e| format!("load {path}: {e}"))?;
            let create = *lib
                .get::<CreateFn>(b"CreateISCDriverInstance\0")
                .map_err(|e| e.to_string())?;
            let request_service = *lib
                .get::<RequestServiceFn>(b"RequestService\0")
                .map_err(|e| e.to_string())?;
            let invoke = *lib
                .get::<InvokeFn>(b"InvokeCommand\0")
                .map_err(|e| e.to_string())?;
            let release_service = *lib
                .get::<ReleaseFn>(b"ReleaseISCServiceInstance\0")
                .map_err(|e| e.to_string())?;
            let release_driver = *lib
                .get::<ReleaseFn>(b"ReleaseISCDriverInstance\0")
                .map_err(|e| e.to_string())?;
            Ok(Api {
                create,
                request_service,
                invoke,
                release_service,
                release_driver,
                _lib: lib,
            })
        }
    }
}

/// UTF-16 buffers for one call into the library.
#[derive(Default)]
pub(crate) struct Wide {
    strings: Vec<Vec<u16>>,
    items: Vec<ISC_KeyValue>,
}

impl Wide {
    pub(crate) fn s(&mut self, text: &str) -> ISC_STRING {
        let mut v: Vec<u16> = text.encode_utf16().chain([0]).collect();
        let p = v.as_mut_ptr();
        self.strings.push(v);
        p
    }

    pub(crate) fn kv(&mut self, pairs: &[(&str, String)]) -> ISC_KVParamList {
        self.items = pairs
            .iter()
            .map(|(k, v)| ISC_KeyValue {
                paramName: self.s(k),
                paramValue: self.s(v),
            })
            .collect();
        ISC_KVParamList {
            len: self.items.len() as c_long,
            dataItems: self.items.as_mut_ptr(),
        }
    }
}

/// What a callback tells the main loop.
pub(crate) enum Ev {
    Status(usize, String),
    Event(usize, String, Option<String>),
    Error,
}

/// The client handle of one session: its agent index and the main loop's channel.
pub(crate) struct Ctx {
    pub(crate) agent: usize,
    pub(crate) tx: Mutex<Sender<Ev>>,
}

unsafe fn read(s: ISC_STRING) -> String {
    if s.is_null() {
        return String::new();
    }
    let mut n = 0;
    while *s.add(n) != 0 {
        n += 1;
    }
    String::from_utf16_lossy(std::slice::from_raw_parts(s, n))
}

unsafe fn ctx<'a>(h: ISC_CLIENT_HANDLE) -> &'a Ctx {
    &*(h as *const Ctx)
}

unsafe fn send(h: ISC_CLIENT_HANDLE, ev: impl FnOnce(usize) -> Ev) {
    let c = ctx(h);
    let _ =
        c.tx.lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(ev(c.agent));
}

unsafe extern "C" fn cb_plain(_: ISC_CLIENT_HANDLE) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_cache(
    _: ISC_CLIENT_HANDLE,
    _: *const ISC_StrParamList,
    _: *const ISC_StrParamList,
    _: *const ISC_LongParamList,
) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_error(h: ISC_CLIENT_HANDLE, _: ISC_STRING, _: ISC_STRING) -> ISC_RESULT {
    send(h, |_| Ev::Error);
    0
}
unsafe extern "C" fn cb_event(
    h: ISC_CLIENT_HANDLE,
    name: ISC_STRING,
    fields: *const ISC_KVParamList,
    _: ISC_BOOLEAN,
    _: ISC_STRING,
) -> ISC_RESULT {
    let name = read(name);
    let mut dialog = None;
    if !fields.is_null() && (*fields).len > 0 && !(*fields).dataItems.is_null() {
        for kv in std::slice::from_raw_parts((*fields).dataItems, (*fields).len as usize) {
            if read(kv.paramName) == "DialogId" {
                dialog = Some(read(kv.paramValue));
            }
        }
    }
    send(h, |a| Ev::Event(a, name, dialog));
    0
}
unsafe extern "C" fn cb_new_item(
    _: ISC_CLIENT_HANDLE,
    _: ISC_STRING,
    _: ISC_STRING,
    _: ISC_STRING,
    _: SCWorkItemMode,
) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_status(h: ISC_CLIENT_HANDLE, text: ISC_STRING) -> ISC_RESULT {
    let text = read(text);
    send(h, |a| Ev::Status(a, text));
    0
}
unsafe extern "C" fn cb_str(_: ISC_CLIENT_HANDLE, _: ISC_STRING) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_update(
    _: ISC_CLIENT_HANDLE,
    _: ISC_STRING,
    _: ISC_STRING,
    _: *const ISC_KVParamList,
) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_released(_: ISC_CLIENT_HANDLE, _: ISC_STRING, _: TimeT) -> ISC_RESULT {
    0
}
unsafe extern "C" fn cb_started(
    _: ISC_CLIENT_HANDLE,
    _: ISC_STRING,
    _: ISC_STRING,
    _: ISC_STRING,
    _: ISC_STRING,
    _: TimeT,
) -> ISC_RESULT {
    0
}

pub(crate) fn client(ctx: *const Ctx) -> ISC_CLIENT_INTERFACE {
    ISC_CLIENT_INTERFACE {
        clientHandle: ctx as ISC_CLIENT_HANDLE,
        BeginBatch: Some(cb_plain),
        CacheCommandInformation: Some(cb_cache),
        CleanAllWorkItem: Some(cb_plain),
        EndBatch: Some(cb_plain),
        HandleError: Some(cb_error),
        HandleEvent: Some(cb_event),
        IndicateNewWorkItem: Some(cb_new_item),
        ShowStatusText: Some(cb_status),
        UpdateObjectInformation: Some(cb_update),
        WorkItemReleased: Some(cb_released),
        WorkItemResumed: Some(cb_str),
        WorkItemStarted: Some(cb_started),
        WorkItemSuspended: Some(cb_str),
    }
}
