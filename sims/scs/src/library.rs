//! Loading the driver library and resolving every SCAPI entry point.

use std::ffi::c_long;
use std::path::{Path, PathBuf};

use crate::scapi::*;
use crate::server::SimError;

/// The entry points of a driver library, resolved by name.
#[allow(non_snake_case)]
pub struct Api {
    /// `APIVersion`.
    pub APIVersion: unsafe extern "C" fn() -> c_long,
    /// `CreateISCDriverInstance`.
    pub CreateISCDriverInstance: unsafe extern "C" fn(
        ISC_STRING,
        ISC_STRING,
        ISC_STRING,
        *const ISC_KVParamList,
        *mut ISC_DRIVER_HANDLE,
    ) -> ISC_RESULT,
    /// `RequestCommandEventList`.
    pub RequestCommandEventList: unsafe extern "C" fn(
        ISC_STRING,
        *mut ISC_StrParamList,
        *mut ISC_StrParamList,
    ) -> ISC_RESULT,
    /// `FreeSCStrParamList`.
    pub FreeSCStrParamList: unsafe extern "C" fn(ISC_StrParamList),
    /// `GetImplementationObject`.
    pub GetImplementationObject: unsafe extern "C" fn(ISC_HANDLE, *mut ISC_HANDLE) -> ISC_RESULT,
    /// `ReleaseISCDriverInstance`.
    pub ReleaseISCDriverInstance: unsafe extern "C" fn(ISC_DRIVER_HANDLE) -> ISC_RESULT,
    /// `RequestService`.
    pub RequestService: unsafe extern "C" fn(
        ISC_DRIVER_HANDLE,
        ISC_CLIENT_INTERFACE,
        ISC_STRING,
        *const ISC_KVParamList,
        *mut ISC_SERVICE_HANDLE,
    ) -> ISC_RESULT,
    /// `ReleaseISCServiceInstance`.
    pub ReleaseISCServiceInstance: unsafe extern "C" fn(ISC_SERVICE_HANDLE) -> ISC_RESULT,
    /// `InvokeCommand`.
    pub InvokeCommand: unsafe extern "C" fn(
        ISC_SERVICE_HANDLE,
        ISC_STRING,
        ISC_STRING,
        ISC_STRING,
        *const ISC_KVParamList,
    ) -> ISC_RESULT,
    /// `InvokeCommandEx`.
    pub InvokeCommandEx: unsafe extern "C" fn(
        ISC_SERVICE_HANDLE,
        ISC_STRING,
        SCCommandTypeEx,
        *const ISC_KVParamList,
    ) -> ISC_RESULT,
    /// `NotifyEventHandlingFinished`.
    pub NotifyEventHandlingFinished:
        unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING, ISC_BOOLEAN) -> ISC_RESULT,
    /// `AcceptWorkItem`.
    pub AcceptWorkItem: unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING) -> ISC_RESULT,
    /// `ReleaseWorkItem`.
    pub ReleaseWorkItem: unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING) -> ISC_RESULT,
    /// `SuspendWorkItem`.
    pub SuspendWorkItem: unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING) -> ISC_RESULT,
    /// `ResumeWorkItem`.
    pub ResumeWorkItem: unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING) -> ISC_RESULT,
    /// `RevokeQueuedWorkItem`.
    pub RevokeQueuedWorkItem: unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING) -> ISC_RESULT,
    /// `CancelQueuedEvent`.
    pub CancelQueuedEvent: unsafe extern "C" fn(ISC_SERVICE_HANDLE, ISC_STRING) -> ISC_RESULT,
    /// `HandleQueuedWorkItem`.
    pub HandleQueuedWorkItem: unsafe extern "C" fn(
        ISC_SERVICE_HANDLE,
        ISC_STRING,
        *const ISC_KVParamList,
        ISC_STRING,
    ) -> ISC_RESULT,
    /// `HandleQueuedEvent`.
    pub HandleQueuedEvent: unsafe extern "C" fn(
        ISC_SERVICE_HANDLE,
        ISC_STRING,
        *const ISC_KVParamList,
        ISC_STRING,
    ) -> ISC_RESULT,
}

/// Every entry point name, as the library must export it.
pub const ENTRY_POINTS: [&str; 19] = [
    "APIVersion",
    "CreateISCDriverInstance",
    "RequestCommandEventList",
    "FreeSCStrParamList",
    "GetImplementationObject",
    "ReleaseISCDriverInstance",
    "RequestService",
    "ReleaseISCServiceInstance",
    "InvokeCommand",
    "InvokeCommandEx",
    "NotifyEventHandlingFinished",
    "AcceptWorkItem",
    "ReleaseWorkItem",
    "SuspendWorkItem",
    "ResumeWorkItem",
    "RevokeQueuedWorkItem",
    "CancelQueuedEvent",
    "HandleQueuedWorkItem",
    "HandleQueuedEvent",
];

/// A loaded driver library.
pub struct Library {
    /// The resolved entry points (valid while `self` lives).
    pub api: Api,
    path: PathBuf,
    _lib: libloading::Library,
}

macro_rules! resolve {
    ($lib:expr, $($name:ident),* $(,)?) => {
        Api { $($name: {
            // SAFETY: the symbol's type is the one `include/scapi.h` declares.
            let s = unsafe { $lib.get(concat!(stringify!($name), "\0").as_bytes()) }
                .map_err(|e| SimError(format!("entry point {} missing: {e}", stringify!($name))))?;
            *s
        }),* }
    };
}

impl Library {
    /// Loads the library (dlopen) and resolves every entry point.
    pub fn load(path: &Path) -> Result<Library, SimError> {
        // SAFETY: loading runs the library's initialisers; ours has none beyond Rust's.
        let lib = unsafe { libloading::Library::new(path) }
            .map_err(|e| SimError(format!("cannot load {}: {e}", path.display())))?;
        let api = resolve!(
            lib,
            APIVersion,
            CreateISCDriverInstance,
            RequestCommandEventList,
            FreeSCStrParamList,
            GetImplementationObject,
            ReleaseISCDriverInstance,
            RequestService,
            ReleaseISCServiceInstance,
            InvokeCommand,
            InvokeCommandEx,
            NotifyEventHandlingFinished,
            AcceptWorkItem,
            ReleaseWorkItem,
            SuspendWorkItem,
            ResumeWorkItem,
            RevokeQueuedWorkItem,
            CancelQueuedEvent,
            HandleQueuedWorkItem,
            HandleQueuedEvent,
        );
        Ok(Library {
            api,
            path: path.to_path_buf(),
            _lib: lib,
        })
    }

    /// Where it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The driver library built next to the running executable (`target/<profile>/`), for tests
/// and the CLI's default.
pub fn default_library_path() -> PathBuf {
    let name = if cfg!(windows) {
        "siebel_cti.dll"
    } else if cfg!(target_os = "macos") {
        "libsiebel_cti.dylib"
    } else {
        "libsiebel_cti.so"
    };
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    // Test executables live in target/<profile>/deps.
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(name)
}
