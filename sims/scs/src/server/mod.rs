//! The channel manager: drives a driver library the way Siebel's Communications Server does.

use std::ffi::c_long;
use std::path::Path;
use std::sync::Arc;

use crate::client::Client;
use crate::def::{self, Def};
use crate::engine::Engine;
use crate::library::Library;
use crate::scapi::*;

mod agent;

pub use agent::{Agent, Invoked, PRESS_WAIT};

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
