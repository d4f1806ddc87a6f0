//! What the driver calls back in Siebel (the client interface), in safe Rust terms.
//!
//! The C ABI layer implements [`Host`] over `ISC_CLIENT_INTERFACE`; scs-sim and tests see the
//! same calls through the real library. All calls for one session come from the driver's link
//! thread, one at a time, and never after the session was released.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// One toolbar command's status for `CacheCommandInformation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandStatus {
    /// Device command name (as in `RequestCommandEventList`).
    pub name: &'static str,
    /// Human description.
    pub description: &'static str,
    /// `SCCommandFlag` bits (see [`crate::commands::flags`]).
    pub flags: u32,
}

/// The client interface of one agent session.
pub trait Host: Send {
    /// `HandleEvent`: a device event with its fields (work item tracking id, may be empty).
    fn handle_event(&self, name: &str, fields: &[(String, String)], tracking_id: &str);
    /// `ShowStatusText`: a message for the agent's status line.
    fn show_status_text(&self, text: &str);
    /// `HandleError`: an error, tied to the failing command's tracking id if any.
    fn handle_error(&self, command_tracking_id: Option<&str>, text: &str);
    /// `CacheCommandInformation`: the status flags of every command.
    fn cache_command_information(&self, commands: &[CommandStatus]);
    /// `UpdateObjectInformation`: agent object properties (SC_OP number as text -> value).
    fn update_object_information(
        &self,
        tracking_id: &str,
        media_target: &str,
        info: &[(String, String)],
    );
    /// `IndicateNewWorkItem`: a call arrives (mode: 1 inbound, 2 outbound).
    fn indicate_new_work_item(&self, tracking_id: &str, description: &str, mode: i32);
    /// `WorkItemStarted`: the call connected (start time in seconds since the epoch).
    fn work_item_started(&self, tracking_id: &str, description: &str, target: &str, start: i64);
    /// `WorkItemSuspended`: the call is on hold.
    fn work_item_suspended(&self, tracking_id: &str);
    /// `WorkItemResumed`: the call is back from hold.
    fn work_item_resumed(&self, tracking_id: &str);
    /// `WorkItemReleased`: the call ended (stop time in seconds since the epoch).
    fn work_item_released(&self, tracking_id: &str, stop: i64);
}

/// Holds a session's [`Host`] and guarantees no call reaches it after release.
pub struct HostSlot {
    host: Mutex<Option<Box<dyn Host>>>,
    released: AtomicBool,
    link_thread: Mutex<Option<ThreadId>>,
}

/// How long `release` waits for a callback in progress before giving up on it.
const RELEASE_WAIT: Duration = Duration::from_secs(2);

impl HostSlot {
    /// Wraps a host.
    pub fn new(host: Box<dyn Host>) -> Self {
        HostSlot {
            host: Mutex::new(Some(host)),
            released: AtomicBool::new(false),
            link_thread: Mutex::new(None),
        }
    }

    /// Runs `f` with the host unless the session was released.
    pub fn call(&self, f: impl FnOnce(&dyn Host)) {
        if self.released.load(Ordering::Acquire) {
            return;
        }
        {
            let mut t = self.link_thread.lock().unwrap_or_else(|e| e.into_inner());
            if t.is_none() {
                *t = Some(std::thread::current().id());
            }
        }
        let guard = self.host.lock().unwrap_or_else(|e| e.into_inner());
        if self.released.load(Ordering::Acquire) {
            return;
        }
        if let Some(h) = guard.as_deref() {
            f(h);
        }
    }

    /// Stops all further calls. From another thread it waits (bounded) for a call in progress
    /// to finish; from inside a callback it only marks the slot.
    pub fn release(&self) {
        self.released.store(true, Ordering::Release);
        let on_link_thread = *self.link_thread.lock().unwrap_or_else(|e| e.into_inner())
            == Some(std::thread::current().id());
        if on_link_thread {
            return;
        }
        let deadline = Instant::now() + RELEASE_WAIT;
        loop {
            match self.host.try_lock() {
                Ok(mut g) => {
                    g.take();
                    return;
                }
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    p.into_inner().take();
                    return;
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        tracing::warn!(
                            "session released while a callback was still running after {RELEASE_WAIT:?}; no further callbacks will be made"
                        );
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }

    /// Whether the session was released.
    pub fn is_released(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }
}
