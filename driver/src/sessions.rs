//! Agent sessions on the link thread: toolbar commands become requests, connector events
//! become host calls. Everything here runs on the driver instance's one link thread, so the
//! session table needs no lock and callbacks for a session never overlap.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::calls::{Calls, Effect};
use crate::clock::Now;
use crate::commands::{events, toolbar, Command, ToolbarInput};
use crate::config::{present, Deployment, DriverConfig, LogLevel, ServiceConfig};
use crate::host::HostSlot;
use crate::link::{LinkHandler, Outbox};
use crate::messages::{Catalog, Msg};
use crate::protocol::{
    driver_queue, status_topic, AgentInfo, AgentState, CallAction, Envelope, Message, ReasonCode,
    SystemStatus,
};
use crate::stomp::Frame;

/// How often an unanswered Hello is repeated.
const HELLO_RETRY: Duration = Duration::from_secs(5);
/// How long a request may wait for its answer before the agent is told it failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Commands from host threads to the link thread.
pub(crate) enum Cmd {
    /// A new agent session.
    Add {
        id: u64,
        slot: Arc<HostSlot>,
        service: ServiceConfig,
        work_items: WorkItemIds,
    },
    /// Siebel acted on a work item (`AcceptWorkItem`, `ReleaseWorkItem`...).
    WorkItem {
        id: u64,
        tracking: String,
        op: WorkItemOp,
    },
    /// The session ended (its slot is already released).
    Remove { id: u64 },
    /// A toolbar command.
    Invoke {
        id: u64,
        track: String,
        command: Command,
        string_param: String,
        params: Vec<(String, String)>,
    },
}

/// The tracking ids of a session's work items, shared with host threads so that work-item
/// entry points can refuse unknown ids at once.
pub(crate) type WorkItemIds = Arc<Mutex<HashSet<String>>>;

/// What Siebel asked of a work item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkItemOp {
    /// `AcceptWorkItem`: answer.
    Accept,
    /// `ReleaseWorkItem`: hang up.
    Release,
    /// `SuspendWorkItem`: hold.
    Suspend,
    /// `ResumeWorkItem`: make it the active call (the other one is held).
    Resume,
}

struct Session {
    slot: Arc<HostSlot>,
    calls: Calls,
    work_items: WorkItemIds,
    service: ServiceConfig,
    agent: Option<String>,
    info: Option<AgentInfo>,
    /// The password of the agent's last login (or of the session's parameters), resent with
    /// `Connect` after a reconnect so a restarted connector can rebuild the Finesse session.
    password: Option<String>,
    /// The last snapshot asked for (request id, when): a dialog list answering it does not
    /// end calls updated since.
    snapshot: Option<(String, Instant)>,
    /// The work item whose timer runs for wrap-up (`Driver:ResetTimerOnWrapUp`).
    wrap_timer: Option<String>,
    /// The agent's reason codes by category (`NOT_READY`, `LOGOUT`), once fetched.
    reasons: HashMap<String, Vec<ReasonCode>>,
    /// Request id -> the command's tracking id and when it was sent, for requests awaiting
    /// their outcome.
    pending: HashMap<String, (String, Instant)>,
}

impl Session {
    fn state(&self) -> Option<AgentState> {
        self.info.as_ref().and_then(|i| i.state)
    }
}

/// The link handler of a driver instance.
pub(crate) struct Sessions {
    cfg: Arc<DriverConfig>,
    catalog: Catalog,
    reply_queue: String,
    sessions: HashMap<u64, Session>,
    by_agent: HashMap<String, u64>,
    link_up: bool,
    /// The broker could not be reached since the link was last up (or ever).
    link_failed: bool,
    connector: Option<String>,
    /// The detail of the last OUT_OF_SERVICE shown to the agents.
    out_of_service: Option<String>,
    hello_at: Option<Instant>,
    seq: u64,
    /// The time of the event being handled.
    now: Now,
}

impl Sessions {
    pub(crate) fn new(cfg: Arc<DriverConfig>, catalog: Catalog) -> Self {
        Sessions {
            catalog,
            reply_queue: driver_queue(&cfg.client_id),
            cfg,
            sessions: HashMap::new(),
            by_agent: HashMap::new(),
            link_up: false,
            link_failed: false,
            connector: None,
            out_of_service: None,
            hello_at: None,
            seq: 0,
            now: Now::read(),
        }
    }

    fn online(&self) -> bool {
        self.link_up && self.connector.is_some()
    }

    fn next_id(&mut self) -> String {
        self.seq += 1;
        format!("{}-{}", self.cfg.client_id, self.seq)
    }

    /// Sends a request to the connectors; false if the link is down.
    fn request(&mut self, out: &mut Outbox, msg: Message) -> Option<String> {
        let id = self.next_id();
        let env = Envelope::new(id.clone(), msg);
        tracing::debug!("-> {}", env.redacted());
        let frame = Frame::new("SEND")
            .header("destination", &self.cfg.request_queue)
            .header("content-type", "application/json")
            .header("reply-to", &self.reply_queue)
            .header("correlation-id", &id)
            // A request nobody served in time is stale: the broker drops it rather than let
            // a connector started later act on it.
            .header("expires", &crate::stomp::expires_in(REQUEST_TIMEOUT))
            .body(env.to_json());
        out.send(frame).then_some(id)
    }

    fn status_msg(&self) -> Msg {
        if !self.link_up && self.link_failed {
            Msg::BrokerDown
        } else if !self.link_up {
            Msg::Connecting
        } else if self.connector.is_none() {
            Msg::WaitingForConnector
        } else {
            Msg::ConnectorInService
        }
    }

    fn refresh_toolbar(&self, id: u64) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let items = toolbar(&ToolbarInput {
            online: self.online(),
            busy: !s.pending.is_empty(),
            state: s.state(),
            pending: s.info.as_ref().and_then(|i| i.pending_state),
            reasons: self.cfg.not_ready_reasons,
            call: s.calls.view(),
            uccx: self.cfg.deployment == Deployment::Uccx,
            wrap_up: s.calls.last_ended().is_some()
                && matches!(s.state(), Some(AgentState::Work | AgentState::WorkReady)),
        });
        s.slot.call(|h| h.cache_command_information(&items));
    }

    fn tell(&self, id: u64, msg: &Msg) {
        if let Some(s) = self.sessions.get(&id) {
            let text = msg.render(&self.catalog);
            s.slot.call(|h| h.show_status_text(&text));
        }
    }

    /// Reports a failed command to the host: HandleError, EventError and the status line.
    fn fail(&self, id: u64, track: Option<&str>, code: &str, msg: &Msg) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let text = msg.render(&self.catalog);
        tracing::info!(
            "agent {}: {code}: {text}",
            s.agent.as_deref().unwrap_or("-")
        );
        let fields = vec![
            ("AgentId".to_string(), s.agent.clone().unwrap_or_default()),
            ("ErrorCode".to_string(), code.to_string()),
            ("ErrorMessage".to_string(), text.clone()),
        ];
        // One call each, so a release from inside a callback stops the rest.
        s.slot.call(|h| h.handle_error(track, &text));
        s.slot.call(|h| h.handle_event(events::ERROR, &fields, ""));
        s.slot.call(|h| h.show_status_text(&text));
    }

    /// Tells every session how the link stands and refreshes their toolbars.
    fn broadcast_status(&self) {
        let msg = self.status_msg();
        for id in self.sessions.keys() {
            self.tell(*id, &msg);
            self.refresh_toolbar(*id);
        }
    }

    /// Connect + Snapshot for an agent, so the connector routes its events here and Siebel's
    /// view is rebuilt from the contact center's state.
    fn attach(&mut self, out: &mut Outbox, agent: &str) {
        let reply_to = self.reply_queue.clone();
        let password = self
            .by_agent
            .get(agent)
            .and_then(|id| self.sessions.get(id))
            .and_then(|s| s.password.clone());
        self.request(
            out,
            Message::Connect {
                agent: agent.to_string(),
                reply_to,
                password,
                encrypted: self.cfg.secure.is_some(),
            },
        );
        let snapshot = self.request(
            out,
            Message::Snapshot {
                agent: agent.to_string(),
            },
        );
        if let Some(s) = self
            .by_agent
            .get(agent)
            .copied()
            .and_then(|id| self.sessions.get_mut(&id))
        {
            s.snapshot = snapshot.map(|req| (req, self.now.mono));
        }
    }

    /// The password as sent: encrypted when `Driver:UseSecurePassword` is on.
    fn wire_password(&self, clear: &str) -> (String, bool) {
        match &self.cfg.secure {
            Some(t) => (t.encrypt(clear), true),
            None => (clear.to_string(), false),
        }
    }

    fn bind_agent(&mut self, out: &mut Outbox, id: u64, agent: &str) -> bool {
        if self.by_agent.get(agent).is_some_and(|other| *other != id) {
            return false;
        }
        self.by_agent.insert(agent.to_string(), id);
        let Some(s) = self.sessions.get_mut(&id) else {
            return true;
        };
        if s.agent.as_deref() == Some(agent) {
            return true;
        }
        // Another agent in the same session: the old agent's calls end here and the
        // connector stops routing the old agent to us.
        let extension = s
            .info
            .as_ref()
            .and_then(|i| i.extension.clone())
            .unwrap_or_default();
        let effects = s.calls.end_all(&extension, self.now);
        s.pending.clear();
        s.info = None;
        let old = s.agent.replace(agent.to_string());
        let slot = s.slot.clone();
        play(&slot, &effects);
        if let Some(old) = old {
            self.by_agent.remove(&old);
            self.request(out, Message::Disconnect { agent: old });
        }
        true
    }

    fn invoke(
        &mut self,
        out: &mut Outbox,
        id: u64,
        track: String,
        command: Command,
        string_param: String,
        params: Vec<(String, String)>,
    ) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        let param = |names: &[&str]| -> Option<String> {
            params
                .iter()
                .find(|(k, _)| {
                    let k = k.trim();
                    let k = k.strip_prefix("Param.").unwrap_or(k);
                    names.iter().any(|n| n.eq_ignore_ascii_case(k))
                })
                .and_then(|(_, v)| present(v))
                .or_else(|| present(&string_param))
        };
        if command == Command::SetLogLevel {
            let wanted = param(&["LogLevel", "Level"]).unwrap_or_default();
            return match LogLevel::parse(&wanted) {
                Some(level) => {
                    crate::logging::set_level(level);
                    tracing::warn!("log level changed to {} by session {id}", level.directive());
                    self.tell(id, &Msg::LogLevel(level.directive().to_string()));
                }
                None => self.fail(id, Some(&track), "BadLogLevel", &Msg::BadLogLevel(wanted)),
            };
        }
        if !self.online() {
            return self.fail(id, Some(&track), "Offline", &Msg::Offline);
        }
        if let Some(agent) = s.agent.clone().filter(|_| {
            !matches!(
                command,
                Command::LogIn
                    | Command::LogOut
                    | Command::ChangeReadyState
                    | Command::ChangeNotReadyState
                    | Command::SetLogLevel
            )
        }) {
            let number = param(&["PhoneNumber", "Number", "Digits", "To"]);
            let reason = param(&["WrapUpReason", "Reason"]);
            let tracking = params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("TrackingID"))
                .and_then(|(_, v)| present(v));
            return match self.call_request(id, agent, command, number, reason, tracking) {
                Ok(msgs) => {
                    for m in msgs {
                        self.send_tracked(out, id, &track, m);
                    }
                }
                Err((code, msg)) => self.fail(id, Some(&track), code, &msg),
            };
        }
        let msg = match command {
            Command::SetLogLevel => return,
            Command::LogIn => {
                let login = s.service.overlay(&params);
                let Some(agent) = login.agent_id.clone() else {
                    return self.fail(
                        id,
                        Some(&track),
                        "MissingAgentId",
                        &Msg::Missing("agent_id"),
                    );
                };
                let Some(password) = login.password.clone() else {
                    return self.fail(
                        id,
                        Some(&track),
                        "MissingPassword",
                        &Msg::Missing("password"),
                    );
                };
                let Some(extension) = login.extension.clone() else {
                    return self.fail(
                        id,
                        Some(&track),
                        "MissingExtension",
                        &Msg::Missing("extension"),
                    );
                };
                if !self.bind_agent(out, id, &agent) {
                    return self.fail(id, Some(&track), "AgentInUse", &Msg::AgentInUse(agent));
                }
                let reply_to = self.reply_queue.clone();
                self.request(
                    out,
                    Message::Connect {
                        agent: agent.clone(),
                        reply_to,
                        password: None,
                        encrypted: false,
                    },
                );
                // With UseSecurePassword only the encrypted form leaves (or stays in) the driver.
                let (password, encrypted) = self.wire_password(&password);
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.password = Some(password.clone());
                }
                self.tell(id, &Msg::LoggingIn(agent.clone()));
                Message::Login {
                    agent,
                    password,
                    encrypted,
                    extension,
                }
            }
            Command::LogOut | Command::ChangeReadyState | Command::ChangeNotReadyState => {
                let Some(agent) = s.agent.clone() else {
                    return self.fail(id, Some(&track), "NotLoggedIn", &Msg::NotLoggedIn);
                };
                let given = param(&["ReasonCode", "Reason"]);
                let category = match command {
                    Command::LogOut => "LOGOUT",
                    _ => "NOT_READY",
                };
                let reason = if command == Command::ChangeReadyState {
                    None
                } else {
                    match self.resolve_reason(id, category, given.as_deref()) {
                        Ok(r) => r,
                        Err((code, msg)) => return self.fail(id, Some(&track), code, &msg),
                    }
                };
                match command {
                    Command::LogOut => Message::Logout { agent, reason },
                    Command::ChangeReadyState => Message::SetState {
                        agent,
                        state: AgentState::Ready,
                        reason: None,
                    },
                    _ => Message::SetState {
                        agent,
                        state: AgentState::NotReady,
                        reason,
                    },
                }
            }
            // Call commands without a logged-in agent.
            _ => return self.fail(id, Some(&track), "NotLoggedIn", &Msg::NotLoggedIn),
        };
        self.send_tracked(out, id, &track, msg);
    }

    /// Sends a request on behalf of a command; its answer (or failure) settles the command.
    fn send_tracked(&mut self, out: &mut Outbox, id: u64, track: &str, msg: Message) {
        match self.request(out, msg) {
            Some(req) => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.pending.insert(req, (track.to_string(), self.now.mono));
                }
                self.refresh_toolbar(id);
            }
            None => self.fail(id, Some(track), "Offline", &Msg::Offline),
        }
    }

    /// The Finesse reason code id for what the agent gave (id, code or label, any case).
    /// Not Ready needs one when `Driver:NotReadyReasonCodes` is on; once the agent's list is
    /// known, anything not on it is refused with the list.
    fn resolve_reason(
        &self,
        id: u64,
        category: &str,
        given: Option<&str>,
    ) -> Result<Option<String>, (&'static str, Msg)> {
        let Some(s) = self.sessions.get(&id) else {
            return Ok(None);
        };
        let list = s.reasons.get(category);
        let labels = || {
            list.map(|l| {
                l.iter()
                    .map(|r| r.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
        };
        let Some(given) = given else {
            if category == "NOT_READY" && self.cfg.not_ready_reasons {
                return Err(("ReasonRequired", Msg::ReasonRequired(labels())));
            }
            return Ok(None);
        };
        let Some(list) = list else {
            return Ok(Some(given.to_string()));
        };
        list.iter()
            .find(|r| r.id == given || r.code == given || r.label.eq_ignore_ascii_case(given))
            .map(|r| Some(r.id.clone()))
            .ok_or_else(|| {
                (
                    "UnknownReason",
                    Msg::UnknownReason(given.to_string(), labels()),
                )
            })
    }

    /// Asks for the agent's reason code lists the configuration uses.
    fn fetch_reasons(&mut self, out: &mut Outbox, agent: &str) {
        let wanted = [
            ("NOT_READY", self.cfg.not_ready_reasons),
            ("LOGOUT", self.cfg.logout_reasons),
        ];
        for (category, on) in wanted {
            if on {
                self.request(
                    out,
                    Message::GetReasonCodes {
                        agent: agent.to_string(),
                        category: category.to_string(),
                    },
                );
            }
        }
    }

    fn on_reason_codes(&mut self, agent: &str, category: String, codes: Vec<ReasonCode>) {
        let Some(&id) = self.by_agent.get(agent) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let mut fields = vec![
            ("AgentId".to_string(), agent.to_string()),
            ("Category".to_string(), category.clone()),
            ("Count".to_string(), codes.len().to_string()),
            (
                "ReasonLabels".to_string(),
                codes
                    .iter()
                    .map(|r| r.label.as_str())
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
        ];
        for (i, r) in codes.iter().enumerate() {
            let n = i + 1;
            fields.push((format!("ReasonId{n}"), r.id.clone()));
            fields.push((format!("ReasonCode{n}"), r.code.clone()));
            fields.push((format!("ReasonLabel{n}"), r.label.clone()));
        }
        s.reasons.insert(category, codes);
        s.slot
            .call(|h| h.handle_event(events::REASON_CODES, &fields, ""));
    }

    /// Applies dialog updates to the agent's calls and plays the effects on the host.
    fn on_dialogs(
        &mut self,
        agent: &str,
        re: Option<&str>,
        update: impl FnOnce(&mut Calls, &str, Option<&str>) -> Vec<Effect>,
    ) {
        let Some(&id) = self.by_agent.get(agent) else {
            tracing::debug!("dialog for agent {agent} that no session owns");
            return;
        };
        let ced = self.cfg.ced_variable.clone();
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        if let Some(re) = re {
            s.pending.remove(re);
        }
        let extension = s
            .info
            .as_ref()
            .and_then(|i| i.extension.clone())
            .unwrap_or_default();
        let effects = update(&mut s.calls, &extension, ced.as_deref());
        *s.work_items.lock().unwrap_or_else(|e| e.into_inner()) =
            s.calls.ids().into_iter().collect();
        let slot = s.slot.clone();
        play(&slot, &effects);
        if self.cfg.reset_timer_on_wrap_up {
            self.sync_wrap_timer(id);
        }
        self.refresh_toolbar(id);
    }

    /// Builds the request of a call command, or the reason it cannot run.
    fn call_request(
        &self,
        id: u64,
        agent: String,
        command: Command,
        number: Option<String>,
        reason: Option<String>,
        tracking: Option<String>,
    ) -> Result<Vec<Message>, (&'static str, Msg)> {
        let s = self.sessions.get(&id).ok_or(("NoSession", Msg::NoCall))?;
        let state = s.state();
        let target = match tracking {
            Some(t) => Some(s.calls.get(&t).ok_or(("UnknownWorkItem", Msg::NoCall))?),
            None => s.calls.current(),
        };
        let action = |call: &crate::calls::WorkItem, action: CallAction, to: Option<String>| {
            Message::CallAction {
                agent: agent.clone(),
                dialog: call.info.id.clone(),
                action,
                to,
            }
        };
        Ok(match command {
            Command::MakeCall => {
                if state != Some(AgentState::NotReady) || s.calls.current().is_some() {
                    return Err(("MakeCallNeedsNotReady", Msg::MakeCallNeedsNotReady));
                }
                let to = number.ok_or(("MissingNumber", Msg::MissingNumber))?;
                vec![Message::MakeCall { agent, to }]
            }
            Command::ChangeWorkReadyState => vec![Message::SetState {
                agent,
                state: AgentState::WorkReady,
                reason: None,
            }],
            Command::SetWrapUpReason => {
                let dialog = target
                    .map(|c| c.info.id.clone())
                    .or_else(|| s.calls.last_ended().map(str::to_string))
                    .ok_or(("NoCall", Msg::NoCall))?;
                let reason = reason.ok_or(("MissingReason", Msg::ReasonRequired(String::new())))?;
                vec![Message::UpdateCallData {
                    agent,
                    dialog,
                    wrap_up_reason: Some(reason),
                }]
            }
            Command::AlternateCall => {
                // The held call to take back: the selected one, else any other held call.
                let current = target.ok_or(("NoCall", Msg::NoCall))?;
                let pick = if current.held {
                    current
                } else {
                    s.calls
                        .all()
                        .find(|w| w.info.id != current.info.id && w.held)
                        .ok_or(("NoCall", Msg::NoCall))?
                };
                let mut v: Vec<Message> = s
                    .calls
                    .all()
                    .filter(|w| {
                        w.info.id != pick.info.id
                            && !w.held
                            && w.info.actions.iter().any(|a| a == "HOLD")
                    })
                    .map(|w| action(w, CallAction::Hold, None))
                    .collect();
                v.push(action(pick, CallAction::Retrieve, None));
                v
            }
            Command::TransferMute if self.cfg.deployment == Deployment::Uccx => {
                return Err(("NotSupported", Msg::SingleStepUccx))
            }
            Command::AnswerCall
            | Command::ReleaseCall
            | Command::HoldCall
            | Command::RetrieveCall
            | Command::InitTransfer
            | Command::InitConference
            | Command::TransferMute
            | Command::CompleteTransfer
            | Command::CompleteConference
            | Command::SendDTMF => {
                let wanted = command.dialog_action().unwrap_or_default();
                // Completing a transfer/conference acts on the consult call, whichever call
                // is selected; any other action stays on the call Siebel named (never on
                // another call that happens to offer it).
                let completes = matches!(
                    command,
                    Command::CompleteTransfer | Command::CompleteConference
                );
                let call = target
                    .filter(|c| !completes || c.info.actions.iter().any(|a| a == wanted))
                    .or_else(|| {
                        s.calls
                            .all()
                            .find(|c| completes && c.info.actions.iter().any(|a| a == wanted))
                    })
                    .ok_or(("NoCall", Msg::NoCall))?;
                let (act, to) = match command {
                    Command::AnswerCall => (CallAction::Answer, None),
                    Command::ReleaseCall => (CallAction::Drop, None),
                    Command::HoldCall => (CallAction::Hold, None),
                    Command::RetrieveCall => (CallAction::Retrieve, None),
                    Command::CompleteTransfer => (CallAction::Transfer, None),
                    Command::CompleteConference => (CallAction::Conference, None),
                    Command::InitTransfer | Command::InitConference => (
                        CallAction::ConsultCall,
                        Some(number.ok_or(("MissingNumber", Msg::MissingNumber))?),
                    ),
                    Command::TransferMute => (
                        CallAction::TransferSst,
                        Some(number.ok_or(("MissingNumber", Msg::MissingNumber))?),
                    ),
                    _ => (
                        CallAction::SendDtmf,
                        Some(number.ok_or(("MissingNumber", Msg::MissingNumber))?),
                    ),
                };
                vec![action(call, act, to)]
            }
            _ => Vec::new(),
        })
    }

    fn on_agent(&mut self, out: &mut Outbox, info: AgentInfo, re: Option<&str>) {
        let Some(&id) = self.by_agent.get(&info.agent) else {
            tracing::debug!("event for agent {} that no session owns", info.agent);
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        if let Some(re) = re {
            s.pending.remove(re);
        }
        // Finesse stamps every state change: a report older than what Siebel shows (a
        // snapshot overtaken by a notification) is stale and must not turn the state back.
        let stale = match (
            s.info.as_ref().and_then(|i| i.state_change_time.as_deref()),
            info.state_change_time.as_deref(),
        ) {
            (Some(shown), Some(new)) => new < shown,
            _ => false,
        };
        if stale {
            tracing::debug!("agent {}: stale state report ignored", info.agent);
            return self.refresh_toolbar(id);
        }
        let old = s.info.as_ref().and_then(|i| i.state);
        let old_reason = s.info.as_ref().and_then(|i| i.reason_code.clone());
        let old_pending = s.info.as_ref().and_then(|i| i.pending_state);
        let new = info.state;
        let was_in = !matches!(old, None | Some(AgentState::Logout));
        let is_in = !matches!(new, None | Some(AgentState::Logout));
        // A snapshot of a logged-out agent at session start changes nothing the agent sees.
        let changed =
            (old != new || old_reason != info.reason_code || old_pending != info.pending_state)
                && (was_in || is_in);
        let fields = agent_fields(&info);
        let slot = s.slot.clone();
        s.info = Some(info.clone());
        if changed {
            tracing::info!(
                "agent {}: {} -> {}",
                info.agent,
                old.map_or("-", AgentState::as_str),
                new.map_or("-", AgentState::as_str)
            );
            slot.call(|h| {
                if is_in && !was_in {
                    h.handle_event(events::AGENT_LOGIN, &fields, "");
                }
                match new {
                    Some(AgentState::Logout) if was_in => {
                        h.handle_event(events::AGENT_LOGOUT, &fields, "")
                    }
                    Some(AgentState::Ready) => h.handle_event(events::AGENT_READY, &fields, ""),
                    Some(AgentState::NotReady) => {
                        h.handle_event(events::AGENT_NOT_READY, &fields, "")
                    }
                    Some(AgentState::Work | AgentState::WorkReady) => {
                        h.handle_event(events::AGENT_WORK, &fields, "")
                    }
                    _ => {}
                }
                let extension = info.extension.clone().unwrap_or_default();
                h.update_object_information("", &extension, &object_info(&info));
            });
            let msg = match new {
                Some(AgentState::Logout) | None => Msg::LoggedOut,
                Some(state) if !was_in && state == AgentState::NotReady => Msg::LoggedIn {
                    agent: info.agent.clone(),
                    name: display_name(&info),
                    extension: info.extension.clone(),
                },
                Some(state) => match info.pending_state {
                    Some(p) if p != state => Msg::Pending(state, p),
                    _ => Msg::State(state, info.reason_label.clone()),
                },
            };
            self.tell(id, &msg);
            if is_in && !was_in {
                self.fetch_reasons(out, &info.agent);
            }
            if self.cfg.reset_timer_on_wrap_up {
                self.sync_wrap_timer(id);
            }
        }
        self.refresh_toolbar(id);
    }

    /// `Driver:ResetTimerOnWrapUp`: the last call's work item times the wrap-up too. While
    /// the agent is in WORK / WORK_READY with no call, that item's timer runs again
    /// (`WorkItemStarted` at the wrap-up's start); leaving wrap-up stops it
    /// (`WorkItemReleased`), exactly once. Siebel does not reset the timer itself. Works
    /// whichever of the agent and dialog notifications arrives first.
    fn sync_wrap_timer(&mut self, id: u64) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let in_work = matches!(s.state(), Some(AgentState::Work | AgentState::WorkReady));
        let wanted = if in_work && s.calls.current().is_none() {
            s.calls.last_ended().map(str::to_string)
        } else {
            None
        };
        if wanted == s.wrap_timer {
            return;
        }
        let now = self.now.unix;
        let extension = s
            .info
            .as_ref()
            .and_then(|i| i.extension.clone())
            .unwrap_or_default();
        let slot = s.slot.clone();
        if let Some(old) = s.wrap_timer.take() {
            slot.call(|h| h.work_item_released(&old, now));
        }
        if let Some(t) = wanted {
            slot.call(|h| h.work_item_started(&t, "Wrap-up", &extension, now));
            s.wrap_timer = Some(t);
        }
    }

    fn on_error(&mut self, agent: Option<String>, code: String, message: String, re: Option<&str>) {
        // Find the session: by the request it answers, else by agent.
        let by_re = re.and_then(|re| {
            self.sessions
                .iter_mut()
                .find_map(|(id, s)| s.pending.remove(re).map(|(t, _)| (*id, Some(t))))
        });
        let target = by_re.or_else(|| {
            agent
                .as_ref()
                .and_then(|a| self.by_agent.get(a))
                .map(|id| (*id, None))
        });
        match target {
            Some((id, track)) => {
                let msg = Msg::Failed {
                    code: code.clone(),
                    message,
                };
                self.fail(id, track.as_deref(), &code, &msg);
                self.refresh_toolbar(id);
            }
            None => tracing::warn!("connector error not tied to a session: {code}: {message}"),
        }
    }

    fn on_message(&mut self, frame: &Frame, out: &mut Outbox) {
        let env = match Envelope::from_json(&frame.body) {
            Ok(e) => e,
            Err(e) => {
                let preview: String = frame.text().chars().take(200).collect();
                tracing::warn!(
                    "ignored a message from {}: {e}: {preview}",
                    frame.get("destination").unwrap_or("?")
                );
                return;
            }
        };
        let env_text = env.redacted();
        tracing::debug!("<- {env_text}");
        let re = env.re.clone();
        match env.msg {
            Message::System {
                status,
                connector,
                detail,
                instance,
            } => match status {
                SystemStatus::InService => {
                    let was_online = self.online();
                    let id = format!("{connector}/{instance}");
                    // Another connector instance (a restart without a goodbye, a failover
                    // to the passive one) holds none of our agents: attach them again.
                    let new_instance = self.connector.as_deref() != Some(id.as_str());
                    self.connector = Some(id);
                    self.out_of_service = None;
                    self.hello_at = None;
                    if !was_online || new_instance {
                        let agents: Vec<String> = self.by_agent.keys().cloned().collect();
                        for a in agents {
                            self.attach(out, &a);
                        }
                    }
                    if !was_online {
                        self.broadcast_status();
                    }
                }
                SystemStatus::OutOfService => {
                    // Only the connector instance we rely on can take us offline: a stale
                    // OUT_OF_SERVICE of a restarted connector's predecessor is ignored.
                    let ours = self.connector.as_deref()
                        == Some(format!("{connector}/{instance}").as_str());
                    let news = self.out_of_service.as_deref() != Some(detail.as_str());
                    // Tell the agents once per change, not at every repeated Hello answer.
                    if ours || (self.connector.is_none() && news) {
                        self.connector = None;
                        self.out_of_service = Some(detail.clone());
                        let msg = Msg::ConnectorOutOfService(detail);
                        for id in self.sessions.keys() {
                            self.tell(*id, &msg);
                            self.refresh_toolbar(*id);
                        }
                    }
                }
            },
            Message::Agent(info) => self.on_agent(out, info, re.as_deref()),
            Message::ReasonCodes {
                agent,
                category,
                codes,
            } => self.on_reason_codes(&agent, category, codes),
            Message::Dialog(d) => {
                let agent = d.agent.clone();
                let now = self.now;
                self.on_dialogs(&agent, re.as_deref(), |calls, ext, ced| {
                    calls.apply(*d, ext, ced, now)
                })
            }
            Message::DialogList { agent, dialogs } => {
                let since = self
                    .by_agent
                    .get(&agent)
                    .and_then(|id| self.sessions.get(id))
                    .and_then(|s| s.snapshot.clone())
                    .filter(|(req, _)| re.as_deref() == Some(req.as_str()))
                    .map(|(_, at)| at);
                let now = self.now;
                self.on_dialogs(&agent, re.as_deref(), |calls, ext, ced| {
                    calls.reconcile(dialogs, since, ext, ced, now)
                })
            }
            Message::Error {
                agent,
                code,
                message,
            } => self.on_error(agent, code, message, re.as_deref()),
            Message::Accepted {} => {
                // Finesse took the request; its outcome follows as events.
                if let Some(re) = re.as_deref() {
                    let owner = self
                        .sessions
                        .iter_mut()
                        .find_map(|(id, s)| s.pending.remove(re).map(|_| *id));
                    if let Some(id) = owner {
                        self.refresh_toolbar(id);
                    }
                }
            }
            _ => tracing::warn!("ignored a request sent to a driver queue: {}", env_text),
        }
    }

    fn say_hello(&mut self, out: &mut Outbox) {
        let msg = Message::Hello {
            driver: self.cfg.client_id.clone(),
            reply_to: self.reply_queue.clone(),
            product: concat!("siebel-cti/", env!("CARGO_PKG_VERSION")).to_string(),
        };
        if self.request(out, msg).is_some() {
            self.hello_at = Some(self.now.mono);
        }
    }
}

/// Plays call effects on a session's host, one callback at a time, stopping as soon as the
/// session is released.
fn play(slot: &HostSlot, effects: &[Effect]) {
    for e in effects {
        slot.call(|h| match e {
            Effect::NewWorkItem {
                tracking,
                description,
                mode,
            } => h.indicate_new_work_item(tracking, description, *mode),
            Effect::Started {
                tracking,
                description,
                target,
                start,
            } => h.work_item_started(tracking, description, target, *start),
            Effect::Suspended(t) => h.work_item_suspended(t),
            Effect::Resumed(t) => h.work_item_resumed(t),
            Effect::Released { tracking, stop } => h.work_item_released(tracking, *stop),
            Effect::Event {
                name,
                fields,
                tracking,
            } => h.handle_event(name, fields, tracking),
        });
    }
}

fn display_name(info: &AgentInfo) -> Option<String> {
    let name = [info.first_name.as_deref(), info.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!name.is_empty()).then_some(name)
}

/// The fields of agent events.
fn agent_fields(info: &AgentInfo) -> Vec<(String, String)> {
    let mut f = vec![
        ("AgentId".to_string(), info.agent.clone()),
        (
            "AgentState".to_string(),
            info.state.map_or("UNKNOWN", AgentState::as_str).to_string(),
        ),
    ];
    let opt = [
        ("Extension", &info.extension),
        ("ReasonCode", &info.reason_code),
        ("ReasonLabel", &info.reason_label),
        ("FirstName", &info.first_name),
        ("LastName", &info.last_name),
        ("StateChangeTime", &info.state_change_time),
    ];
    for (k, v) in opt {
        if let Some(v) = v {
            f.push((k.to_string(), v.clone()));
        }
    }
    if let Some(p) = info.pending_state {
        f.push(("PendingState".to_string(), p.as_str().to_string()));
    }
    f
}

/// `UpdateObjectInformation` properties: SC_OP numbers as text, booleans as TRUE/FALSE.
fn object_info(info: &AgentInfo) -> Vec<(String, String)> {
    let b = |v: bool| if v { "TRUE" } else { "FALSE" }.to_string();
    let s = info.state.unwrap_or(AgentState::Unknown);
    vec![
        ("2".to_string(), info.agent.clone()),
        ("4".to_string(), b(s == AgentState::NotReady)),
        (
            "5".to_string(),
            b(matches!(
                s,
                AgentState::Reserved | AgentState::Talking | AgentState::Hold
            )),
        ),
        ("13".to_string(), b(!matches!(s, AgentState::Logout))),
    ]
}

impl LinkHandler<Cmd> for Sessions {
    fn on_up(&mut self, now: Now, out: &mut Outbox) {
        self.now = now;
        self.link_up = true;
        self.link_failed = false;
        self.connector = None;
        for (sub, dest) in [
            ("events", self.reply_queue.clone()),
            ("status", status_topic(&self.cfg.request_queue)),
        ] {
            out.send(
                Frame::new("SUBSCRIBE")
                    .header("id", sub)
                    .header("destination", &dest)
                    .header("ack", "auto"),
            );
        }
        self.say_hello(out);
        self.broadcast_status();
    }

    fn on_down(&mut self, now: Now, _reason: &str, first: bool) {
        self.now = now;
        let was = self.link_up;
        self.link_up = false;
        self.link_failed = true;
        self.connector = None;
        self.hello_at = None;
        // Requests in flight are lost with the connection: fail them so nothing waits forever.
        let lost: Vec<(u64, Vec<String>)> = self
            .sessions
            .iter_mut()
            .map(|(id, s)| (*id, s.pending.drain().map(|(_, (t, _))| t).collect()))
            .collect();
        for (id, tracks) in lost {
            for t in tracks {
                self.fail(id, Some(&t), "LinkDown", &Msg::BrokerDown);
            }
        }
        if was || first {
            self.broadcast_status();
        }
    }

    fn on_frame(&mut self, now: Now, frame: Frame, out: &mut Outbox) {
        self.now = now;
        if frame.command == "MESSAGE" {
            self.on_message(&frame, out);
        }
    }

    fn on_command(&mut self, now: Now, cmd: Cmd, out: &mut Outbox) {
        self.now = now;
        match cmd {
            Cmd::Add {
                id,
                slot,
                service,
                work_items,
            } => {
                let agent = service.agent_id.clone();
                let password = service.password.as_deref().map(|p| self.wire_password(p).0);
                self.sessions.insert(
                    id,
                    Session {
                        slot,
                        calls: Calls::default(),
                        work_items,
                        service,
                        agent: None,
                        info: None,
                        password,
                        snapshot: None,
                        wrap_timer: None,
                        reasons: HashMap::new(),
                        pending: HashMap::new(),
                    },
                );
                if let Some(a) = agent {
                    if self.bind_agent(out, id, &a) && self.online() {
                        self.attach(out, &a);
                    }
                }
                let msg = self.status_msg();
                self.tell(id, &msg);
                self.refresh_toolbar(id);
            }
            Cmd::Remove { id } => {
                if let Some(s) = self.sessions.remove(&id) {
                    s.slot.release();
                    if let Some(a) = s.agent {
                        if self.by_agent.get(&a) == Some(&id) {
                            self.by_agent.remove(&a);
                            let logged_in = !matches!(
                                s.info.as_ref().and_then(|i| i.state),
                                None | Some(AgentState::Logout)
                            );
                            if self.cfg.force_logout && logged_in {
                                tracing::info!(
                                    "session ended: logging agent {a} out (ForceLogoutOnRelease)"
                                );
                                self.request(
                                    out,
                                    Message::Logout {
                                        agent: a.clone(),
                                        reason: None,
                                    },
                                );
                            }
                            self.request(out, Message::Disconnect { agent: a });
                        }
                    }
                }
            }
            Cmd::Invoke {
                id,
                track,
                command,
                string_param,
                params,
            } => self.invoke(out, id, track, command, string_param, params),
            Cmd::WorkItem { id, tracking, op } => {
                let command = match op {
                    WorkItemOp::Accept => Command::AnswerCall,
                    WorkItemOp::Release => Command::ReleaseCall,
                    WorkItemOp::Suspend => Command::HoldCall,
                    WorkItemOp::Resume => {
                        // Selecting a held call: it becomes current and the calls switch.
                        let held = self.sessions.get_mut(&id).is_some_and(|s| {
                            s.calls.select(&tracking)
                                && s.calls.get(&tracking).is_some_and(|w| w.held)
                        });
                        if !held {
                            return self.refresh_toolbar(id);
                        }
                        Command::AlternateCall
                    }
                };
                let params = vec![("TrackingID".to_string(), tracking.clone())];
                self.invoke(
                    out,
                    id,
                    format!("workitem-{tracking}"),
                    command,
                    String::new(),
                    params,
                );
            }
        }
    }

    fn on_tick(&mut self, now: Now, out: &mut Outbox) {
        self.now = now;
        let expired: Vec<(u64, String)> = self
            .sessions
            .iter_mut()
            .flat_map(|(id, s)| {
                let old: Vec<String> = s
                    .pending
                    .iter()
                    .filter(|(_, (_, at))| self.now.since(*at) >= REQUEST_TIMEOUT)
                    .map(|(k, _)| k.clone())
                    .collect();
                old.into_iter()
                    .filter_map(|k| s.pending.remove(&k))
                    .map(|(t, _)| (*id, t))
                    .collect::<Vec<_>>()
            })
            .collect();
        for (id, track) in expired {
            self.fail(id, Some(&track), "Timeout", &Msg::NoAnswer);
            self.refresh_toolbar(id);
        }
        if self.link_up
            && self.connector.is_none()
            && self
                .hello_at
                .is_none_or(|t| self.now.since(t) >= HELLO_RETRY)
        {
            self.say_hello(out);
        }
    }
}
