//! The client interface scs-sim gives the driver: every callback is recorded with its
//! decoded arguments, and tests wait on the record.

// `long` and `time_t` are 32 bits on some targets: widen them portably.
#![allow(clippy::useless_conversion)]

use std::ffi::{c_long, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::engine::{Engine, Outcome};
use crate::scapi::*;

/// One callback from the driver, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `BeginBatch`.
    BeginBatch,
    /// `EndBatch`.
    EndBatch,
    /// `HandleEvent`.
    HandleEvent {
        /// Event name.
        name: String,
        /// Event fields.
        fields: Vec<(String, String)>,
        /// Whether the driver wants `NotifyEventHandlingFinished`.
        notify_when_done: bool,
        /// Work item tracking id.
        tracking_id: String,
    },
    /// `ShowStatusText`.
    ShowStatusText(String),
    /// `HandleError`.
    HandleError {
        /// Tracking id of the failed command, if any.
        tracking_id: Option<String>,
        /// Error text.
        text: String,
    },
    /// `CacheCommandInformation`: (command, description, flags).
    CacheCommandInformation(Vec<(String, String, i64)>),
    /// `UpdateObjectInformation`.
    UpdateObjectInformation {
        /// Tracking id.
        tracking_id: String,
        /// Media target address.
        media_target: String,
        /// Properties.
        info: Vec<(String, String)>,
    },
    /// `IndicateNewWorkItem`.
    IndicateNewWorkItem {
        /// Tracking id.
        tracking_id: String,
        /// Previous tracking id.
        old_tracking_id: String,
        /// Description.
        description: String,
        /// Work item mode.
        mode: i32,
    },
    /// `WorkItemStarted`.
    WorkItemStarted {
        /// Tracking id.
        tracking_id: String,
        /// Previous tracking id.
        old_tracking_id: String,
        /// Description.
        description: String,
        /// Media target address.
        media_target: String,
        /// Start time (seconds since the epoch).
        start_time: i64,
    },
    /// `WorkItemReleased`.
    WorkItemReleased {
        /// Tracking id.
        tracking_id: String,
        /// Stop time (seconds since the epoch).
        stop_time: i64,
    },
    /// `WorkItemSuspended`.
    WorkItemSuspended(String),
    /// `WorkItemResumed`.
    WorkItemResumed(String),
    /// `CleanAllWorkItem`.
    CleanAllWorkItem,
}

impl Call {
    /// The event name, for `HandleEvent`.
    pub fn event_name(&self) -> Option<&str> {
        match self {
            Call::HandleEvent { name, .. } => Some(name),
            _ => None,
        }
    }

    /// A field of a `HandleEvent`.
    pub fn field(&self, key: &str) -> Option<&str> {
        match self {
            Call::HandleEvent { fields, .. } => fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    /// The flags of a command in a `CacheCommandInformation`.
    pub fn command_flags(&self, command: &str) -> Option<i64> {
        match self {
            Call::CacheCommandInformation(c) => {
                c.iter().find(|(n, _, _)| n == command).map(|(_, _, f)| *f)
            }
            _ => None,
        }
    }
}

/// One agent's client: the record of callbacks, an optional echo to stdout, and the event
/// engine that runs Siebel's event responses (screen pops, activities).
pub struct Client {
    label: String,
    echo: bool,
    engine: Option<Arc<Engine>>,
    /// Each call with when it arrived.
    calls: Mutex<Vec<(Call, Instant)>>,
    /// The event responses the engine ran for this agent's events (the last
    /// [`MAX_CLIENT_OUTCOMES`]).
    outcomes: Mutex<Vec<Outcome>>,
    cv: Condvar,
}

/// How many event response outcomes a client keeps (its screen pops).
pub const MAX_CLIENT_OUTCOMES: usize = 100;

impl Client {
    /// A new client; `echo` prints each call as it arrives (the CLI uses it).
    pub fn new(label: &str, echo: bool) -> Arc<Client> {
        Client::with_engine(label, echo, None)
    }

    /// A new client whose device events run through `engine`.
    pub fn with_engine(label: &str, echo: bool, engine: Option<Arc<Engine>>) -> Arc<Client> {
        Arc::new(Client {
            label: label.to_string(),
            echo,
            engine,
            calls: Mutex::new(Vec::new()),
            outcomes: Mutex::new(Vec::new()),
            cv: Condvar::new(),
        })
    }

    fn record(&self, call: Call) {
        if self.echo {
            println!("[{}] {}", self.label, describe(&call));
        }
        if let Some(engine) = &self.engine {
            match &call {
                Call::HandleEvent {
                    name,
                    fields,
                    tracking_id,
                    ..
                } => {
                    if let Some(o) = engine.handle_event(name, fields, tracking_id) {
                        if let (true, Some(pop)) = (self.echo, &o.pop) {
                            let ids: Vec<String> =
                                o.activities.iter().map(|a| a.to_string()).collect();
                            println!(
                                "[{}] Screen pop: {}; activities written: {}",
                                self.label,
                                describe_pop(pop),
                                or_none(&ids, ", ", "none")
                            );
                        }
                        let mut kept = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
                        if kept.len() >= MAX_CLIENT_OUTCOMES {
                            kept.remove(0);
                        }
                        kept.push(o);
                    }
                }
                Call::IndicateNewWorkItem { tracking_id, .. } => engine.work_new(tracking_id),
                Call::WorkItemStarted {
                    tracking_id,
                    start_time,
                    ..
                } => engine.work_started(tracking_id, *start_time),
                Call::WorkItemReleased { tracking_id, .. } => engine.work_released(tracking_id),
                _ => {}
            }
        }
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((call, Instant::now()));
        self.cv.notify_all();
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// Every call so far with the instant it arrived.
    pub fn calls_timed(&self) -> Vec<(Call, Instant)> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The event responses run for this agent's events, oldest first.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The event engine, if this client runs one.
    pub fn engine(&self) -> Option<&Arc<Engine>> {
        self.engine.as_ref()
    }

    /// The label (e.g. `agent 1001`).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Number of calls so far (to wait only for later ones).
    pub fn mark(&self) -> usize {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Waits until a call at index >= `from` satisfies `pred`; returns it.
    pub fn wait_for(
        &self,
        from: usize,
        timeout: Duration,
        pred: impl Fn(&Call) -> bool,
    ) -> Option<Call> {
        self.wait_for_timed(from, timeout, pred).map(|(c, _)| c)
    }

    /// Like [`Client::wait_for`], with the time the call arrived.
    pub fn wait_for_timed(
        &self,
        from: usize,
        timeout: Duration,
        pred: impl Fn(&Call) -> bool,
    ) -> Option<(Call, Instant)> {
        let deadline = Instant::now() + timeout;
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(c) = calls.iter().skip(from).find(|(c, _)| pred(c)) {
                return Some(c.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            calls = self
                .cv
                .wait_timeout(calls, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The last toolbar state received.
    pub fn toolbar(&self) -> Option<Vec<(String, String, i64)>> {
        self.calls().into_iter().rev().find_map(|c| match c {
            Call::CacheCommandInformation(t) => Some(t),
            _ => None,
        })
    }

    /// The client interface pointing at this client; valid while the `Arc` lives.
    pub fn interface(self: &Arc<Self>) -> ISC_CLIENT_INTERFACE {
        ISC_CLIENT_INTERFACE {
            clientHandle: Arc::as_ptr(self) as *mut c_void,
            BeginBatch: Some(cb_begin_batch),
            CacheCommandInformation: Some(cb_cache_command_information),
            CleanAllWorkItem: Some(cb_clean_all),
            EndBatch: Some(cb_end_batch),
            HandleError: Some(cb_handle_error),
            HandleEvent: Some(cb_handle_event),
            IndicateNewWorkItem: Some(cb_indicate_new_work_item),
            ShowStatusText: Some(cb_show_status_text),
            UpdateObjectInformation: Some(cb_update_object_information),
            WorkItemReleased: Some(cb_work_item_released),
            WorkItemResumed: Some(cb_work_item_resumed),
            WorkItemStarted: Some(cb_work_item_started),
            WorkItemSuspended: Some(cb_work_item_suspended),
        }
    }
}

/// One line describing a call, for the CLI and the desktop's log. Toolbar lines list the
/// commands by state: `greyed` are disabled, `[checked]` are toggled on (a pressed Ready
/// button), `[blinking]` ask for attention (a ringing call).
pub fn describe(c: &Call) -> String {
    let pairs = |f: &[(String, String)]| {
        f.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match c {
        Call::HandleEvent { name, fields, .. } => format!("Event {name}: {}", pairs(fields)),
        Call::ShowStatusText(t) => format!("Status line: {t}"),
        Call::HandleError { tracking_id, text } => match tracking_id {
            Some(t) => format!("Error (command {t}): {text}"),
            None => format!("Error: {text}"),
        },
        Call::CacheCommandInformation(cmds) => {
            let (mut on, mut greyed) = (Vec::new(), Vec::new());
            for (n, _, fl) in cmds {
                let mut s = n.clone();
                if fl & 4 != 0 {
                    s.push_str("[checked]");
                }
                if fl & 8 != 0 {
                    s.push_str("[blinking]");
                }
                if fl & 2 != 0 {
                    greyed.push(s);
                } else {
                    on.push(s);
                }
            }
            format!(
                "Toolbar: enabled {}; greyed {}",
                or_none(&on, " ", "-"),
                or_none(&greyed, " ", "-")
            )
        }
        Call::UpdateObjectInformation {
            media_target, info, ..
        } => format!("Agent info ({media_target}): {}", pairs(info)),
        Call::IndicateNewWorkItem {
            tracking_id,
            description,
            ..
        } => format!("New work item {tracking_id}: {description}"),
        Call::WorkItemStarted {
            tracking_id,
            description,
            ..
        } => format!("Work item {tracking_id} started: {description}"),
        Call::WorkItemReleased { tracking_id, .. } => {
            format!("Work item {tracking_id} released")
        }
        Call::WorkItemSuspended(t) => format!("Work item {t} suspended"),
        Call::WorkItemResumed(t) => format!("Work item {t} resumed"),
        Call::CleanAllWorkItem => "All work items cleared".into(),
        Call::BeginBatch => "Batch begins".into(),
        Call::EndBatch => "Batch ends".into(),
    }
}

/// The items joined by `sep`, or `none` when there are none.
fn or_none(items: &[String], sep: &str, none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join(sep)
    }
}

/// A screen pop in words.
fn describe_pop(p: &crate::engine::Pop) -> String {
    use crate::engine::Pop;
    match p {
        Pop::Single { view, id } => format!("{view}, record {id}"),
        Pop::Multi { view, ids } => format!("{view}, records {}", ids.join(", ")),
        Pop::Find { dialog, fields } => {
            let f: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("find dialog {dialog} ({})", f.join(" "))
        }
    }
}

/// Decodes a string the driver passed (it must be valid UTF-16; otherwise the record shows it).
unsafe fn s(p: *const ISC_CHAR) -> String {
    if p.is_null() {
        return String::new();
    }
    let mut n = 0;
    while *p.add(n) != 0 {
        n += 1;
    }
    String::from_utf16(std::slice::from_raw_parts(p, n))
        .unwrap_or_else(|_| "<malformed UTF-16 from driver>".into())
}

unsafe fn kv(list: *const ISC_KVParamList) -> Vec<(String, String)> {
    if list.is_null() || (*list).len <= 0 || (*list).dataItems.is_null() {
        return Vec::new();
    }
    std::slice::from_raw_parts((*list).dataItems, (*list).len as usize)
        .iter()
        .map(|i| (s(i.paramName), s(i.paramValue)))
        .collect()
}

unsafe fn strs(list: *const ISC_StrParamList) -> Vec<String> {
    if list.is_null() || (*list).len <= 0 || (*list).dataItems.is_null() {
        return Vec::new();
    }
    std::slice::from_raw_parts((*list).dataItems, (*list).len as usize)
        .iter()
        .map(|p| s(*p))
        .collect()
}

unsafe fn longs(list: *const ISC_LongParamList) -> Vec<c_long> {
    if list.is_null() || (*list).len <= 0 || (*list).dataItems.is_null() {
        return Vec::new();
    }
    std::slice::from_raw_parts((*list).dataItems, (*list).len as usize).to_vec()
}

/// Records a call on the client behind `h`; a panic never crosses back into the driver.
unsafe fn rec(h: ISC_CLIENT_HANDLE, make: impl FnOnce() -> Call) -> ISC_RESULT {
    if h.is_null() {
        return ec::INVALID_HANDLE;
    }
    let client = &*(h as *const Client);
    match catch_unwind(AssertUnwindSafe(|| client.record(make()))) {
        Ok(()) => ec::OK,
        Err(_) => ec::ERROR,
    }
}

unsafe extern "C" fn cb_begin_batch(h: ISC_CLIENT_HANDLE) -> ISC_RESULT {
    rec(h, || Call::BeginBatch)
}
unsafe extern "C" fn cb_end_batch(h: ISC_CLIENT_HANDLE) -> ISC_RESULT {
    rec(h, || Call::EndBatch)
}
unsafe extern "C" fn cb_clean_all(h: ISC_CLIENT_HANDLE) -> ISC_RESULT {
    rec(h, || Call::CleanAllWorkItem)
}
unsafe extern "C" fn cb_handle_event(
    h: ISC_CLIENT_HANDLE,
    name: ISC_STRING,
    fields: *const ISC_KVParamList,
    notify: ISC_BOOLEAN,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    rec(h, || Call::HandleEvent {
        name: s(name),
        fields: kv(fields),
        notify_when_done: notify & 0xff != 0,
        tracking_id: s(tracking),
    })
}
unsafe extern "C" fn cb_show_status_text(h: ISC_CLIENT_HANDLE, text: ISC_STRING) -> ISC_RESULT {
    rec(h, || Call::ShowStatusText(s(text)))
}
unsafe extern "C" fn cb_handle_error(
    h: ISC_CLIENT_HANDLE,
    tracking: ISC_STRING,
    text: ISC_STRING,
) -> ISC_RESULT {
    rec(h, || Call::HandleError {
        tracking_id: (!tracking.is_null()).then(|| s(tracking)),
        text: s(text),
    })
}
unsafe extern "C" fn cb_cache_command_information(
    h: ISC_CLIENT_HANDLE,
    names: *const ISC_StrParamList,
    descriptions: *const ISC_StrParamList,
    statuses: *const ISC_LongParamList,
) -> ISC_RESULT {
    rec(h, || {
        let n = strs(names);
        let d = strs(descriptions);
        let f = longs(statuses);
        Call::CacheCommandInformation(
            n.into_iter()
                .enumerate()
                .map(|(i, name)| {
                    (
                        name,
                        d.get(i).cloned().unwrap_or_default(),
                        i64::from(f.get(i).copied().unwrap_or(-1)),
                    )
                })
                .collect(),
        )
    })
}
unsafe extern "C" fn cb_update_object_information(
    h: ISC_CLIENT_HANDLE,
    tracking: ISC_STRING,
    target: ISC_STRING,
    info: *const ISC_KVParamList,
) -> ISC_RESULT {
    rec(h, || Call::UpdateObjectInformation {
        tracking_id: s(tracking),
        media_target: s(target),
        info: kv(info),
    })
}
unsafe extern "C" fn cb_indicate_new_work_item(
    h: ISC_CLIENT_HANDLE,
    tracking: ISC_STRING,
    old: ISC_STRING,
    description: ISC_STRING,
    mode: SCWorkItemMode,
) -> ISC_RESULT {
    rec(h, || Call::IndicateNewWorkItem {
        tracking_id: s(tracking),
        old_tracking_id: s(old),
        description: s(description),
        mode,
    })
}
unsafe extern "C" fn cb_work_item_started(
    h: ISC_CLIENT_HANDLE,
    tracking: ISC_STRING,
    old: ISC_STRING,
    description: ISC_STRING,
    target: ISC_STRING,
    start: TimeT,
) -> ISC_RESULT {
    rec(h, || Call::WorkItemStarted {
        tracking_id: s(tracking),
        old_tracking_id: s(old),
        description: s(description),
        media_target: s(target),
        start_time: i64::from(start),
    })
}
unsafe extern "C" fn cb_work_item_released(
    h: ISC_CLIENT_HANDLE,
    tracking: ISC_STRING,
    stop: TimeT,
) -> ISC_RESULT {
    rec(h, || Call::WorkItemReleased {
        tracking_id: s(tracking),
        stop_time: i64::from(stop),
    })
}
unsafe extern "C" fn cb_work_item_suspended(h: ISC_CLIENT_HANDLE, t: ISC_STRING) -> ISC_RESULT {
    rec(h, || Call::WorkItemSuspended(s(t)))
}
unsafe extern "C" fn cb_work_item_resumed(h: ISC_CLIENT_HANDLE, t: ISC_STRING) -> ISC_RESULT {
    rec(h, || Call::WorkItemResumed(s(t)))
}
