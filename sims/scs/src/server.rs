//! The channel manager: drives a driver library the way Siebel's Communications Server does.

use std::ffi::c_long;
use std::path::Path;
use std::sync::Arc;

use crate::client::Client;
use crate::def::{self, Def};
use crate::engine::Engine;
use crate::library::Library;
use crate::press::Situation;
use crate::scapi::*;

/// An error of the simulator (bad DEF, library, or a failing entry point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError(pub String);

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

/// UTF-16 strings and key/value lists owned by the simulator for one call.
pub struct Wide {
    strings: Vec<Vec<u16>>,
    items: Vec<ISC_KeyValue>,
}

impl Wide {
    /// Empty buffers.
    pub fn new() -> Self {
        Wide {
            strings: Vec::new(),
            items: Vec::new(),
        }
    }

    /// A NUL-terminated UTF-16 copy, valid while `self` lives.
    pub fn s(&mut self, text: &str) -> ISC_STRING {
        let mut v: Vec<u16> = text.encode_utf16().chain([0]).collect();
        let p = v.as_mut_ptr();
        self.strings.push(v);
        p
    }

    /// A key/value list; valid while `self` lives and until the next call of `kv`.
    pub fn kv(&mut self, pairs: &[(String, String)]) -> ISC_KVParamList {
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

impl Default for Wide {
    fn default() -> Self {
        Wide::new()
    }
}

unsafe fn take_list(lib: &Library, list: ISC_StrParamList) -> Vec<String> {
    let mut out = Vec::new();
    if list.len > 0 && !list.dataItems.is_null() {
        for p in std::slice::from_raw_parts(list.dataItems, list.len as usize) {
            let mut n = 0;
            while *p.add(n) != 0 {
                n += 1;
            }
            out.push(String::from_utf16_lossy(std::slice::from_raw_parts(*p, n)));
        }
    }
    (lib.api.FreeSCStrParamList)(list);
    out
}

/// A driver instance created through the library, with the commands and events it declared.
pub struct CommServer {
    lib: Arc<Library>,
    handle: usize,
    /// Device commands from `RequestCommandEventList`.
    pub commands: Vec<String>,
    /// Device events from `RequestCommandEventList`.
    pub events: Vec<String>,
    def: Option<Def>,
    profile: String,
    engine: Option<Arc<Engine>>,
}

/// An agent's login data, the values of Siebel's `{@AgentId}`, `{@AgentPin}`,
/// `{@SelectedDN}` and `{@UserName}` macros.
#[derive(Clone, Debug, Default)]
pub struct AgentLogin {
    /// Siebel user name.
    pub user: String,
    /// ACD agent login id.
    pub agent_id: String,
    /// Agent password (PIN).
    pub pin: String,
    /// Extension (DN).
    pub dn: String,
    /// The text in the toolbar's text box (`{@SelectedText}`).
    pub selected_text: String,
}

impl AgentLogin {
    /// The value of a macro (`@AgentId`...), if it is one of the login data macros.
    pub fn macro_value(&self, name: &str) -> Option<String> {
        Some(match name.to_ascii_lowercase().as_str() {
            "@agentid" => self.agent_id.clone(),
            "@agentpin" => self.pin.clone(),
            "@selecteddn" => self.dn.clone(),
            "@username" => self.user.clone(),
            "@selectedtext" => self.selected_text.clone(),
            _ => return None,
        })
    }
}

impl CommServer {
    /// Steps 1-3 of the channel manager: `APIVersion`, `CreateISCDriverInstance` with the
    /// given `Driver:` parameters, `RequestCommandEventList`.
    pub fn start(
        lib: Arc<Library>,
        language: &str,
        driver_params: &[(String, String)],
    ) -> Result<CommServer, SimError> {
        let api = &lib.api;
        // SAFETY: the entry points have the header's signatures; buffers outlive the calls.
        unsafe {
            let v = (api.APIVersion)();
            if v != SCAPI_VERSION {
                return Err(SimError(format!(
                    "driver API version {v}, this server speaks {SCAPI_VERSION}"
                )));
            }
            let mut w = Wide::new();
            let media = w.s("Voice");
            let lang = w.s(language);
            let conn = w.s("");
            let params = w.kv(driver_params);
            let mut handle: ISC_DRIVER_HANDLE = std::ptr::null_mut();
            let rc = (api.CreateISCDriverInstance)(media, lang, conn, &params, &mut handle);
            if rc != ec::OK || handle.is_null() {
                return Err(SimError(format!("CreateISCDriverInstance returned {rc}")));
            }
            let mut cmds = ISC_StrParamList {
                len: 0,
                dataItems: std::ptr::null_mut(),
            };
            let mut evs = cmds;
            let rc = (api.RequestCommandEventList)(media, &mut cmds, &mut evs);
            if rc != ec::OK {
                (api.ReleaseISCDriverInstance)(handle);
                return Err(SimError(format!("RequestCommandEventList returned {rc}")));
            }
            let commands = take_list(&lib, cmds);
            let events = take_list(&lib, evs);
            Ok(CommServer {
                lib: lib.clone(),
                handle: handle as usize,
                commands,
                events,
                def: None,
                profile: String::new(),
                engine: None,
            })
        }
    }

    /// Starts from a DEF file's profile: its `Driver:` parameters, with `overrides` applied
    /// (same key, case-insensitive, replaces; new keys are added).
    pub fn from_def(
        lib: Arc<Library>,
        def: Def,
        profile: &str,
        language: &str,
        overrides: &[(String, String)],
    ) -> Result<CommServer, SimError> {
        if def.section("Profile", profile).is_none() {
            return Err(SimError(format!("DEF has no profile {profile:?}")));
        }
        let params = merge(def.driver_params(profile), overrides);
        let mut s = CommServer::start(lib, language, &params)?;
        s.def = Some(def);
        s.profile = profile.to_string();
        Ok(s)
    }

    /// Reads and parses a DEF file.
    pub fn read_def(path: &Path) -> Result<Def, SimError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError(format!("cannot read {}: {e}", path.display())))?;
        def::parse(&text).map_err(|e| SimError(format!("{}: {e}", path.display())))
    }

    /// Runs every later session's device events through this engine (screen pops,
    /// activities), as Siebel runs the DEF's event handlers.
    pub fn set_engine(&mut self, engine: Arc<Engine>) {
        self.engine = Some(engine);
    }

    /// The library.
    pub fn library(&self) -> &Arc<Library> {
        &self.lib
    }

    /// The raw driver handle (for hostile-input tests).
    pub fn raw_handle(&self) -> ISC_DRIVER_HANDLE {
        self.handle as ISC_DRIVER_HANDLE
    }

    /// Step 4: `RequestService` for an agent, with the profile's `Service:` parameters
    /// (macros expanded from the login data) and `extra` parameters.
    pub fn request_service(
        &self,
        login: &AgentLogin,
        extra: &[(String, String)],
        echo: bool,
    ) -> Result<Agent, SimError> {
        let mut params: Vec<(String, String)> = match &self.def {
            Some(d) => d
                .service_params(&self.profile)
                .into_iter()
                .map(|(k, v)| (k, def::expand(&v, |m| login.macro_value(m))))
                .collect(),
            None => Vec::new(),
        };
        params = merge(params, extra);
        let label = if login.agent_id.is_empty() {
            "agent".to_string()
        } else {
            format!("agent {}", login.agent_id)
        };
        let client = Client::with_engine(&label, echo, self.engine.clone());
        let mut w = Wide::new();
        let conn = w.s("");
        let list = w.kv(&params);
        let mut sh: ISC_SERVICE_HANDLE = std::ptr::null_mut();
        // SAFETY: as in `start`; the client lives in the returned Agent, longer than the session.
        let rc = unsafe {
            (self.lib.api.RequestService)(
                self.handle as ISC_DRIVER_HANDLE,
                client.interface(),
                conn,
                &list,
                &mut sh,
            )
        };
        if rc != ec::OK || sh.is_null() {
            return Err(SimError(format!("RequestService returned {rc}")));
        }
        Ok(Agent {
            lib: self.lib.clone(),
            handle: sh as usize,
            client,
            login: login.clone(),
            def: self.def.clone(),
            track: 0,
            released: false,
            selected: Vec::new(),
            selected_work_item: std::sync::Mutex::new(None),
            picked: None,
        })
    }
}

impl Drop for CommServer {
    fn drop(&mut self) {
        // SAFETY: our handle, released once.
        unsafe { (self.lib.api.ReleaseISCDriverInstance)(self.handle as ISC_DRIVER_HANDLE) };
    }
}

/// Replaces `[Field]` references (fields of the selected record) in command data.
fn expand_fields(text: &str, field: &impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('[') {
        let Some(len) = rest[start..].find(']') else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &rest[start + 1..start + len];
        match field(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..=start + len]),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

fn merge(mut base: Vec<(String, String)>, overrides: &[(String, String)]) -> Vec<(String, String)> {
    for (k, v) in overrides {
        match base.iter_mut().find(|(bk, _)| bk.eq_ignore_ascii_case(k)) {
            Some(e) => e.1 = v.clone(),
            None => base.push((k.clone(), v.clone())),
        }
    }
    base
}

/// One agent session.
pub struct Agent {
    lib: Arc<Library>,
    handle: usize,
    /// The recorded callbacks.
    pub client: Arc<Client>,
    login: AgentLogin,
    def: Option<Def>,
    track: u64,
    released: bool,
    selected: Vec<(String, String)>,
    selected_work_item: std::sync::Mutex<Option<String>>,
    /// The row picked in the picker of the command being pressed (`SelectApplet`).
    picked: Option<crate::picker::Row>,
}

/// How long [`Agent::press`] waits for a toolbar on which a sub-command is available.
pub const PRESS_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// One device command a press invoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoked {
    /// The command pressed (a button or menu item: a group or a plain command).
    pub pressed: String,
    /// The DEF command that ran (`pressed` itself, or the sub-command chosen).
    pub command: String,
    /// Its device command.
    pub device_command: String,
    /// `InvokeCommand`'s result code.
    pub result: ISC_RESULT,
    /// The tracking id of the invocation.
    pub tracking: String,
}

impl Agent {
    /// `InvokeCommand` with a device command; returns the result code and the tracking id.
    pub fn invoke(
        &mut self,
        device_command: &str,
        string_param: &str,
        params: &[(String, String)],
    ) -> (ISC_RESULT, String) {
        self.track += 1;
        let track = format!("cmd-{}", self.track);
        let mut w = Wide::new();
        let t = w.s(&track);
        let n = w.s(device_command);
        let sp = w.s(string_param);
        let list = w.kv(params);
        // SAFETY: as in `CommServer::start`.
        let rc = unsafe {
            (self.lib.api.InvokeCommand)(self.handle as ISC_SERVICE_HANDLE, t, n, sp, &list)
        };
        (rc, track)
    }

    /// Runs a DEF command by name as Siebel does (see [`Agent::press`]); returns the result
    /// code and tracking id of each device command invoked.
    pub fn run_command(&mut self, name: &str) -> Result<Vec<(ISC_RESULT, String)>, SimError> {
        Ok(self
            .press(name)?
            .into_iter()
            .map(|i| (i.result, i.tracking))
            .collect())
    }

    /// Presses a toolbar button or menu item: runs the DEF command `name` as Siebel does.
    ///
    /// A command with a `DeviceCommand` is invoked with its `CmdData` parameters
    /// macro-expanded (passed without `Param.`); its `RequiredField.X` must be met.
    /// A group command (with `SubCommand_N`) runs, in numeric order of N, the first
    /// sub-command that is available now (with `ExecuteAll`: every available one, stopping
    /// at a failure; with `ExecUntilOK`: until one succeeds). A sub-command is available
    /// when its device command is enabled on the toolbar the driver last sent
    /// (`CacheCommandInformation`: present, neither `SC_CF_NOTSUPPORTED` nor
    /// `SC_CF_DISABLED`), its `RequiredField.X` are met (`X` a field of the selected record,
    /// or a macro such as `@SelectedText`), with `OnEditControl` the toolbar's edit box is
    /// not empty, and with `MatchWorkType` there is a current work item; a group
    /// sub-command is available when one of its own is. Siebel's own `@` device commands
    /// are never available here. A press can come right after an event, before the
    /// driver's toolbar update that follows it: when nothing is available, the press waits
    /// up to [`PRESS_WAIT`] for a toolbar that makes something available, then fails
    /// naming why each sub-command was skipped.
    pub fn press(&mut self, name: &str) -> Result<Vec<Invoked>, SimError> {
        let def = self
            .def
            .clone()
            .ok_or_else(|| SimError("no DEF file loaded".into()))?;
        let cmd = def
            .command(name)
            .ok_or_else(|| SimError(format!("DEF has no command {name:?}")))?;
        if cmd.sub_commands.is_empty() {
            return Ok(vec![self.invoke_leaf(&def, &cmd, name)?]);
        }
        let deadline = std::time::Instant::now() + PRESS_WAIT;
        let plan = loop {
            let mark = self.client.mark();
            let (plan, why) = self.plan_group(&def, &cmd)?;
            if !plan.is_empty() {
                break plan;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let toolbar = self.client.wait_for(mark, left, |c| {
                matches!(c, crate::client::Call::CacheCommandInformation(_))
            });
            if toolbar.is_none() {
                return Err(SimError(format!(
                    "button {name:?}: no sub-command is available now: {}",
                    why.join("; ")
                )));
            }
        };
        let mut out = Vec::new();
        for leaf in plan {
            let sub = def
                .command(&leaf)
                .ok_or_else(|| SimError(format!("DEF has no command {leaf:?}")))?;
            let invoked = self.invoke_leaf(&def, &sub, name)?;
            let ok = invoked.result == ec::OK;
            out.push(invoked);
            if (cmd.exec_until_ok && ok) || (!cmd.exec_until_ok && !ok) {
                break;
            }
        }
        Ok(out)
    }

    /// The picker a press of `name` would open now (the `SelectApplet` of the command it
    /// would run), with its rows; `None` when that command opens none.
    pub fn picker(&self, name: &str) -> Result<Option<crate::picker::Picker>, SimError> {
        let def = self
            .def
            .as_ref()
            .ok_or_else(|| SimError("no DEF file loaded".into()))?;
        let (runs, _) = self.plan_now(name)?;
        let Some(data) = runs
            .first()
            .and_then(|c| def.command(c))
            .and_then(|c| c.cmd_data)
            .and_then(|d| def.command_data(&d))
        else {
            return Ok(None);
        };
        crate::picker::picker(&data, &self.client.calls()).map_err(SimError)
    }

    /// Presses `name` and answers its picker with row `row` (0-based) of
    /// [`Agent::picker`]: the row's fields fill `[Field]` in the command data.
    pub fn press_picked(&mut self, name: &str, row: usize) -> Result<Vec<Invoked>, SimError> {
        let picker = self
            .picker(name)?
            .ok_or_else(|| SimError(format!("{name:?} opens no picker now")))?;
        let picked = picker.rows.get(row).cloned().ok_or_else(|| {
            SimError(format!(
                "picker {:?} has {} rows, no row {}",
                picker.title,
                picker.rows.len(),
                row + 1
            ))
        })?;
        self.picked = Some(picked);
        let result = self.press(name);
        self.picked = None;
        result
    }

    /// What a press of `name` would run now, without waiting and without invoking anything:
    /// the leaf commands (empty when nothing is available) and why each other sub-command
    /// (or the command itself) is skipped. Same rules as [`Agent::press`].
    pub fn plan_now(&self, name: &str) -> Result<(Vec<String>, Vec<String>), SimError> {
        let def = self
            .def
            .as_ref()
            .ok_or_else(|| SimError("no DEF file loaded".into()))?;
        let cmd = def
            .command(name)
            .ok_or_else(|| SimError(format!("DEF has no command {name:?}")))?;
        if !cmd.sub_commands.is_empty() {
            return self.plan_group(def, &cmd);
        }
        let toolbar = self.client.toolbar();
        let work_item = self.current_work_item();
        let value = |f: &str| self.required_value(f);
        let situation = Situation {
            toolbar: toolbar.as_deref(),
            text: &self.login.selected_text,
            work_item: work_item.as_deref(),
            value: &value,
        };
        Ok(match crate::press::unavailable(def, &cmd, &situation) {
            None => (vec![cmd.name.clone()], Vec::new()),
            Some(why) => (Vec::new(), vec![format!("{}: {why}", cmd.name)]),
        })
    }

    /// [`crate::press::plan`] of a group command in the current situation.
    fn plan_group(
        &self,
        def: &Def,
        cmd: &def::Command,
    ) -> Result<(Vec<String>, Vec<String>), SimError> {
        let mut why = Vec::new();
        let toolbar = self.client.toolbar();
        let work_item = self.current_work_item();
        let value = |f: &str| self.required_value(f);
        let situation = Situation {
            toolbar: toolbar.as_deref(),
            text: &self.login.selected_text,
            work_item: work_item.as_deref(),
            value: &value,
        };
        let plan = crate::press::plan(def, cmd, &situation, &mut why).map_err(SimError)?;
        Ok((plan, why))
    }

    /// The DEF this session runs.
    pub fn def(&self) -> Option<&Def> {
        self.def.as_ref()
    }

    /// The agent's login data (and the toolbar's text box).
    pub fn login(&self) -> &AgentLogin {
        &self.login
    }

    /// The value a `RequiredField.X` tests: a macro (`@SelectedText`, `@Phone`...) or a
    /// field of the selected record.
    fn required_value(&self, name: &str) -> String {
        let name = name.trim().trim_matches('\'');
        if name.starts_with('@') {
            self.macro_value(name).unwrap_or_default()
        } else {
            self.field(name).unwrap_or_default()
        }
    }

    /// A field of the selected record.
    fn field(&self, name: &str) -> Option<String> {
        let name = name.trim().trim_matches('\'');
        self.selected
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// A macro's value: the login data macros, `@Phone` (the edit box's text, modifiers
    /// such as `:Lookup` ignored) and `@SelectedWorkItem:DriverWorkTrackID`.
    fn macro_value(&self, name: &str) -> Option<String> {
        let (base, modifier) = name.split_once(':').unwrap_or((name, ""));
        if base.eq_ignore_ascii_case("@SelectedWorkItem") {
            return modifier
                .eq_ignore_ascii_case("DriverWorkTrackID")
                .then(|| self.current_work_item().unwrap_or_default());
        }
        if base.eq_ignore_ascii_case("@Phone") {
            return Some(self.login.selected_text.clone());
        }
        self.login.macro_value(base)
    }

    /// The current work item (Siebel's selected one): the one chosen with
    /// [`Agent::resume_work_item`] if it is still open, else the last one the driver
    /// indicated, started or resumed that is not released.
    pub fn current_work_item(&self) -> Option<String> {
        use crate::client::Call;
        let mut open: Vec<String> = Vec::new();
        for c in self.client.calls() {
            match c {
                Call::IndicateNewWorkItem { tracking_id, .. }
                | Call::WorkItemStarted { tracking_id, .. }
                | Call::WorkItemResumed(tracking_id) => {
                    open.retain(|t| *t != tracking_id);
                    open.push(tracking_id);
                }
                Call::WorkItemReleased { tracking_id, .. } => open.retain(|t| *t != tracking_id),
                Call::CleanAllWorkItem => open.clear(),
                _ => {}
            }
        }
        let selected = self
            .selected_work_item
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match selected {
            Some(t) if open.contains(&t) => Some(t),
            _ => open.pop(),
        }
    }

    /// Invokes the device command of `cmd` (pressed as part of `pressed`).
    fn invoke_leaf(
        &mut self,
        def: &Def,
        cmd: &def::Command,
        pressed: &str,
    ) -> Result<Invoked, SimError> {
        let name = &cmd.name;
        let device = cmd
            .device_command
            .clone()
            .ok_or_else(|| SimError(format!("command {name:?} has no DeviceCommand")))?;
        let data = cmd.cmd_data.as_deref().and_then(|d| def.command_data(d));
        // A picker (SelectApplet) opens first: the command runs with the row picked.
        if let Some(applet) = data.as_ref().and_then(|d| d.select_applet.as_deref()) {
            if self.picked.is_none() {
                return Err(SimError(format!(
                    "command {name:?} opens the picker {applet:?}: pick a row first"
                )));
            }
        }
        // RequiredField.X: the selected record (or the macro) must match the pattern.
        for (f, pattern) in data.iter().flat_map(|d| d.required_fields.iter()) {
            let value = self.required_value(f);
            if !crate::engine::wildcard(pattern, &value) {
                return Err(SimError(format!(
                    "command {name:?} needs a selected record with {f} matching {pattern:?}"
                )));
            }
        }
        let params: Vec<(String, String)> = data
            .iter()
            .flat_map(|d| d.params.iter())
            .map(|(k, v)| {
                let v = def::expand(v, |m| self.macro_value(m));
                let field = |f: &str| {
                    let picked = self.picked.as_ref();
                    picked
                        .and_then(|r| crate::picker::field(r, f).map(str::to_string))
                        .or_else(|| self.field(f))
                };
                (k.clone(), expand_fields(&v, &field))
            })
            .collect();
        // Like Siebel's toolbar: a command that takes a string parameter (SC_CF_STRPARAMSOK in
        // the driver's last CacheCommandInformation) gets the text box's content.
        let takes_text = self
            .client
            .toolbar()
            .and_then(|t| {
                t.into_iter()
                    .find(|(n, _, _)| n.eq_ignore_ascii_case(&device))
            })
            .is_some_and(|(_, _, flags)| flags & 32 != 0);
        let text = if takes_text {
            self.login.selected_text.clone()
        } else {
            String::new()
        };
        let (result, tracking) = self.invoke(&device, &text, &params);
        Ok(Invoked {
            pressed: pressed.to_string(),
            command: name.clone(),
            device_command: device,
            result,
            tracking,
        })
    }

    /// The raw service handle (for hostile-input tests).
    pub fn raw_handle(&self) -> ISC_SERVICE_HANDLE {
        self.handle as ISC_SERVICE_HANDLE
    }

    /// `ResumeWorkItem`: the agent selects a work item in Siebel's list (it becomes the
    /// current work item of later presses).
    pub fn resume_work_item(&self, tracking: &str) -> ISC_RESULT {
        *self
            .selected_work_item
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(tracking.to_string());
        let mut w = Wide::new();
        let t = w.s(tracking);
        // SAFETY: as in `CommServer::start`.
        unsafe { (self.lib.api.ResumeWorkItem)(self.handle as ISC_SERVICE_HANDLE, t) }
    }

    /// The agent picks a work item in the toolbar's work-item list: it becomes Siebel's
    /// selected work item and the DEF's `WorkItemList` command runs (its command data names
    /// it with `{@SelectedWorkItem:DriverWorkTrackID}`); a DEF without that command gets
    /// `ResumeWorkItem`.
    pub fn select_work_item(&mut self, tracking: &str) -> Result<Vec<Invoked>, SimError> {
        let listed = self.def.as_ref().and_then(|d| d.command("WorkItemList"));
        if listed.is_none() {
            let result = self.resume_work_item(tracking);
            let name = "ResumeWorkItem".to_string();
            return Ok(vec![Invoked {
                pressed: name.clone(),
                command: name.clone(),
                device_command: name,
                result,
                tracking: tracking.to_string(),
            }]);
        }
        *self
            .selected_work_item
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(tracking.to_string());
        self.press("WorkItemList")
    }

    /// Selects a record in the current view (its fields by Siebel name), for command data
    /// that refers to `[Field]`s of the selected record.
    pub fn select_record(&mut self, fields: &[(&str, &str)]) {
        self.selected = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }

    /// Types text in the toolbar's text box (what `{@SelectedText}` expands to).
    pub fn set_text(&mut self, text: &str) {
        self.login.selected_text = text.to_string();
    }

    /// `ReleaseISCServiceInstance`.
    pub fn release(&mut self) -> ISC_RESULT {
        if self.released {
            return ec::OK;
        }
        self.released = true;
        // SAFETY: our handle, released once.
        unsafe { (self.lib.api.ReleaseISCServiceInstance)(self.handle as ISC_SERVICE_HANDLE) }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.release();
    }
}
