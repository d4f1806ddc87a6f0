//! One agent session: device commands, toolbar presses resolved as Siebel does, work items.

use std::sync::Arc;

use crate::client::Client;
use crate::def::{self, Def};
use crate::library::Library;
use crate::press::Situation;
use crate::scapi::*;

use super::{expand_fields, AgentLogin, SimError, Wide};

/// One agent session.
pub struct Agent {
    pub(super) lib: Arc<Library>,
    pub(super) handle: usize,
    /// The recorded callbacks.
    pub client: Arc<Client>,
    pub(super) login: AgentLogin,
    pub(super) def: Option<Def>,
    pub(super) track: u64,
    pub(super) released: bool,
    pub(super) selected: Vec<(String, String)>,
    pub(super) selected_work_item: std::sync::Mutex<Option<String>>,
    /// The row picked in the picker of the command being pressed (`SelectApplet`).
    pub(super) picked: Option<crate::picker::Row>,
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
        let def = self.loaded_def()?.clone();
        let cmd = command(&def, name)?;
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
            let sub = command(&def, &leaf)?;
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
        let def = self.loaded_def()?;
        let cmd = command(def, name)?;
        if !cmd.sub_commands.is_empty() {
            return self.plan_group(def, &cmd);
        }
        let unavailable =
            self.in_situation(|situation| crate::press::unavailable(def, &cmd, situation));
        Ok(match unavailable {
            None => (vec![cmd.name.clone()], Vec::new()),
            Some(why) => (Vec::new(), vec![format!("{}: {why}", cmd.name)]),
        })
    }

    /// The DEF file loaded, or an error saying none is.
    fn loaded_def(&self) -> Result<&Def, SimError> {
        self.def
            .as_ref()
            .ok_or_else(|| SimError("no DEF file loaded".into()))
    }

    /// Runs `f` on the current [`Situation`]: the toolbar, the selected text, the work item
    /// and the values the commands' fields ask for.
    fn in_situation<R>(&self, f: impl FnOnce(&Situation<'_>) -> R) -> R {
        let toolbar = self.client.toolbar();
        let work_item = self.current_work_item();
        let value = |f: &str| self.required_value(f);
        let situation = Situation {
            toolbar: toolbar.as_deref(),
            text: &self.login.selected_text,
            work_item: work_item.as_deref(),
            value: &value,
        };
        f(&situation)
    }

    /// [`crate::press::plan`] of a group command in the current situation.
    fn plan_group(
        &self,
        def: &Def,
        cmd: &def::Command,
    ) -> Result<(Vec<String>, Vec<String>), SimError> {
        let mut why = Vec::new();
        let plan = self
            .in_situation(|situation| crate::press::plan(def, cmd, situation, &mut why))
            .map_err(SimError)?;
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

/// The command `name` of `def`, or an error naming it.
fn command(def: &Def, name: &str) -> Result<def::Command, SimError> {
    def.command(name)
        .ok_or_else(|| SimError(format!("DEF has no command {name:?}")))
}
