//! Siebel's client interface as the driver's [`Host`]: callbacks with UTF-16 arguments that
//! live only for the duration of each call.

use std::ptr;

use driver::host::{CommandStatus, Host};

use crate::strings::{wide, KvBuffer};
use scapi_types::*;

#[cfg(scapi_oracle_header)]
extern "C" {
    /// `c/oracle_adapter.c`: copies Oracle's struct into ours, member by member, by name.
    fn siebel_cti_client_from_oracle(
        oracle: *const std::ffi::c_void,
        ours: *mut ISC_CLIENT_INTERFACE,
    );
}

/// The client interface as `RequestService` received it, in the driver's layout. Built with
/// `SIEBEL_SCAPI_H` (Oracle's header), `passed` holds Oracle's member order (same size, checked
/// by the adapter) and the C adapter reorders it by member name; otherwise the layout is
/// `include/scapi.h`'s already.
pub fn from_siebel(passed: &ISC_CLIENT_INTERFACE) -> ISC_CLIENT_INTERFACE {
    #[cfg(scapi_oracle_header)]
    {
        // SAFETY: every member is a nullable pointer, so all zeroes is a valid value.
        let mut ours: ISC_CLIENT_INTERFACE = unsafe { std::mem::zeroed() };
        // SAFETY: `passed` is Oracle's struct, whose size the adapter asserts equal to ours.
        unsafe { siebel_cti_client_from_oracle(ptr::from_ref(passed).cast(), &mut ours) };
        ours
    }
    #[cfg(not(scapi_oracle_header))]
    {
        *passed
    }
}

/// The client interface of one session, copied at `RequestService`.
pub struct ClientHost {
    iface: ISC_CLIENT_INTERFACE,
}

// SAFETY: the client interface is Siebel's table of callbacks made for the driver to call
// from its own threads; we only copy the pointers and call them one at a time per session.
unsafe impl Send for ClientHost {}

impl ClientHost {
    /// Wraps a copy of the interface.
    pub fn new(iface: ISC_CLIENT_INTERFACE) -> Self {
        ClientHost { iface }
    }

    fn log_result(name: &str, rc: ISC_RESULT) {
        if rc != ec::OK {
            tracing::warn!("client callback {name} returned {rc}");
        }
    }
}

impl Host for ClientHost {
    fn handle_event(&self, name: &str, fields: &[(String, String)], tracking_id: &str) {
        let Some(f) = self.iface.HandleEvent else {
            return tracing::warn!("client interface has no HandleEvent; {name} dropped");
        };
        let mut n = wide(name);
        let mut t = wide(tracking_id);
        let mut kv = KvBuffer::new(fields);
        let list = kv.list();
        // SAFETY: every pointer refers to buffers alive until the call returns.
        let rc = unsafe {
            f(
                self.iface.clientHandle,
                n.as_mut_ptr(),
                &list,
                0,
                t.as_mut_ptr(),
            )
        };
        Self::log_result("HandleEvent", rc);
    }

    fn show_status_text(&self, text: &str) {
        let Some(f) = self.iface.ShowStatusText else {
            return;
        };
        let mut s = wide(text);
        // SAFETY: as above.
        let rc = unsafe { f(self.iface.clientHandle, s.as_mut_ptr()) };
        Self::log_result("ShowStatusText", rc);
    }

    fn handle_error(&self, command_tracking_id: Option<&str>, text: &str) {
        let Some(f) = self.iface.HandleError else {
            return;
        };
        let mut t = command_tracking_id.map(wide);
        let tp = t.as_mut().map_or(ptr::null_mut(), |t| t.as_mut_ptr());
        let mut s = wide(text);
        // SAFETY: as above; a null tracking id means "no command context" (documented).
        let rc = unsafe { f(self.iface.clientHandle, tp, s.as_mut_ptr()) };
        Self::log_result("HandleError", rc);
    }

    fn cache_command_information(&self, commands: &[CommandStatus]) {
        let Some(f) = self.iface.CacheCommandInformation else {
            return;
        };
        let mut names: Vec<Vec<ISC_CHAR>> = commands.iter().map(|c| wide(c.name)).collect();
        let mut descs: Vec<Vec<ISC_CHAR>> = commands.iter().map(|c| wide(c.description)).collect();
        let mut name_ptrs: Vec<ISC_STRING> = names.iter_mut().map(|n| n.as_mut_ptr()).collect();
        let mut desc_ptrs: Vec<ISC_STRING> = descs.iter_mut().map(|n| n.as_mut_ptr()).collect();
        let mut flags: Vec<std::ffi::c_long> = commands.iter().map(|c| c.flags as _).collect();
        let n = ISC_StrParamList {
            len: name_ptrs.len() as _,
            dataItems: name_ptrs.as_mut_ptr(),
        };
        let d = ISC_StrParamList {
            len: desc_ptrs.len() as _,
            dataItems: desc_ptrs.as_mut_ptr(),
        };
        let s = ISC_LongParamList {
            len: flags.len() as _,
            dataItems: flags.as_mut_ptr(),
        };
        // SAFETY: as above.
        let rc = unsafe { f(self.iface.clientHandle, &n, &d, &s) };
        Self::log_result("CacheCommandInformation", rc);
    }

    fn update_object_information(
        &self,
        tracking_id: &str,
        media_target: &str,
        info: &[(String, String)],
    ) {
        let Some(f) = self.iface.UpdateObjectInformation else {
            return;
        };
        let mut t = wide(tracking_id);
        let mut m = wide(media_target);
        let mut kv = KvBuffer::new(info);
        let list = kv.list();
        // SAFETY: as above.
        let rc = unsafe {
            f(
                self.iface.clientHandle,
                t.as_mut_ptr(),
                m.as_mut_ptr(),
                &list,
            )
        };
        Self::log_result("UpdateObjectInformation", rc);
    }

    fn indicate_new_work_item(&self, tracking_id: &str, description: &str, mode: i32) {
        let Some(f) = self.iface.IndicateNewWorkItem else {
            return;
        };
        let (mut t, mut old, mut d) = (wide(tracking_id), wide(""), wide(description));
        // SAFETY: as above.
        let rc = unsafe {
            f(
                self.iface.clientHandle,
                t.as_mut_ptr(),
                old.as_mut_ptr(),
                d.as_mut_ptr(),
                mode,
            )
        };
        Self::log_result("IndicateNewWorkItem", rc);
    }

    fn work_item_started(&self, tracking_id: &str, description: &str, target: &str, start: i64) {
        let Some(f) = self.iface.WorkItemStarted else {
            return;
        };
        let (mut t, mut old, mut d, mut m) =
            (wide(tracking_id), wide(""), wide(description), wide(target));
        // SAFETY: as above; time_t is 32 or 64 bits depending on the target.
        let rc = unsafe {
            f(
                self.iface.clientHandle,
                t.as_mut_ptr(),
                old.as_mut_ptr(),
                d.as_mut_ptr(),
                m.as_mut_ptr(),
                start as TimeT,
            )
        };
        Self::log_result("WorkItemStarted", rc);
    }

    fn work_item_suspended(&self, tracking_id: &str) {
        let Some(f) = self.iface.WorkItemSuspended else {
            return;
        };
        let mut t = wide(tracking_id);
        // SAFETY: as above.
        let rc = unsafe { f(self.iface.clientHandle, t.as_mut_ptr()) };
        Self::log_result("WorkItemSuspended", rc);
    }

    fn work_item_resumed(&self, tracking_id: &str) {
        let Some(f) = self.iface.WorkItemResumed else {
            return;
        };
        let mut t = wide(tracking_id);
        // SAFETY: as above.
        let rc = unsafe { f(self.iface.clientHandle, t.as_mut_ptr()) };
        Self::log_result("WorkItemResumed", rc);
    }

    fn work_item_released(&self, tracking_id: &str, stop: i64) {
        let Some(f) = self.iface.WorkItemReleased else {
            return;
        };
        let mut t = wide(tracking_id);
        // SAFETY: as above.
        let rc = unsafe { f(self.iface.clientHandle, t.as_mut_ptr(), stop as TimeT) };
        Self::log_result("WorkItemReleased", rc);
    }
}
