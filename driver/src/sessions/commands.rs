//! What Siebel asks: sessions added and removed, toolbar commands and work-item operations,
//! each turned into requests to the connector (or refused with the reason).

use std::collections::HashMap;
use std::sync::Arc;

use crate::calls::Calls;
use crate::clock::Now;
use crate::commands::Command;
use crate::config::{present, LogLevel, ServiceConfig};
use crate::host::HostSlot;
use crate::link::Outbox;
use crate::messages::Msg;
use crate::protocol::{AgentState, Message};
use crate::secure::NoRandom;

use super::report::play;
use super::{Session, Sessions, WorkItemIds, WorkItemOp};

/// Why a command cannot run: the error code for `EventError` and the text for the agent.
pub(super) type Refusal = (&'static str, Msg);

/// The values a command carries: named parameters, with the string parameter as fallback.
pub(super) struct Args<'a> {
    /// The toolbar's text (`InvokeCommand`'s string parameter).
    pub string_param: &'a str,
    /// Named parameters from the DEF's command and command data.
    pub params: &'a [(String, String)],
}

impl Args<'_> {
    /// The first parameter with one of these names (any case, `Param.` optional), else the
    /// string parameter; unexpanded macros count as absent.
    pub(super) fn get(&self, names: &[&str]) -> Option<String> {
        self.params
            .iter()
            .find(|(k, _)| {
                let k = k.trim();
                let k = k.strip_prefix("Param.").unwrap_or(k);
                names.iter().any(|n| n.eq_ignore_ascii_case(k))
            })
            .and_then(|(_, v)| present(v))
            .or_else(|| present(self.string_param))
    }

    /// The work item a call command names (`TrackingID`), if any.
    /// The parameter `name` (with or without `Param.`), never the string parameter.
    pub(super) fn param(&self, name: &str) -> Option<String> {
        self.params
            .iter()
            .find(|(k, _)| {
                let k = k.trim();
                k.strip_prefix("Param.")
                    .unwrap_or(k)
                    .eq_ignore_ascii_case(name)
            })
            .and_then(|(_, v)| present(v))
    }

    pub(super) fn tracking(&self) -> Option<String> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("TrackingID"))
            .and_then(|(_, v)| present(v))
    }
}

/// Commands about the agent rather than a call: they run whether or not an agent is bound.
fn is_agent_command(command: Command) -> bool {
    matches!(
        command,
        Command::LogIn
            | Command::LogOut
            | Command::ChangeReadyState
            | Command::ChangeNotReadyState
            | Command::SetLogLevel
            | Command::ResetState
    )
}

impl Sessions {
    /// A new session: binds and attaches the agent of its parameters, shows the link status.
    pub(super) fn add_session(
        &mut self,
        now: Now,
        out: &mut Outbox,
        id: u64,
        slot: Arc<HostSlot>,
        service: ServiceConfig,
        work_items: WorkItemIds,
    ) {
        let agent = service.agent_id.clone();
        let password = service.password.clone();
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
                overtaken: false,
                served_by: None,
                wrap_timer: None,
                reasons: HashMap::new(),
                pending: HashMap::new(),
                state_since: None,
                logging_in: false,
                resetting: false,
            },
        );
        if let Some(a) = agent {
            if self.bind_agent(now, out, id, &a) && self.online() {
                self.attach(now, out, &a);
            }
        }
        let msg = self.status_msg();
        self.tell(id, &msg);
        self.refresh_toolbar(id);
    }

    /// The session ended: the connector stops routing its agent here, and with
    /// `Driver:ForceLogoutOnRelease` a logged-in agent is logged out.
    pub(super) fn remove_session(&mut self, now: Now, out: &mut Outbox, id: u64) {
        let Some(s) = self.sessions.remove(&id) else {
            return;
        };
        s.slot.release();
        let Some(a) = s.agent else { return };
        if self.by_agent.get(&a) != Some(&id) {
            return;
        }
        self.by_agent.remove(&a);
        let logged_in = !matches!(
            s.info.as_ref().and_then(|i| i.state),
            None | Some(AgentState::Logout)
        );
        // The session is gone: its password still proves these last requests.
        let proof = s
            .password
            .as_deref()
            .map(|p| crate::protocol::agent_proof(&a, p));
        if self.cfg.force_logout && logged_in {
            tracing::info!("session ended: logging agent {a} out (ForceLogoutOnRelease)");
            self.request_with(
                now,
                out,
                Message::Logout {
                    agent: a.clone(),
                    reason: None,
                    force: true,
                },
                proof.clone(),
            );
        }
        self.request_with(now, out, Message::Disconnect { agent: a }, proof);
    }

    /// Siebel acted on a work item: the matching call command on that call.
    pub(super) fn work_item(
        &mut self,
        now: Now,
        out: &mut Outbox,
        id: u64,
        tracking: &str,
        op: WorkItemOp,
    ) {
        let command = match op {
            WorkItemOp::Accept => Command::AnswerCall,
            WorkItemOp::Release => Command::ReleaseCall,
            WorkItemOp::Suspend => Command::HoldCall,
            WorkItemOp::Resume => {
                // Selecting a held call: it becomes current and the calls switch.
                let held = self.sessions.get_mut(&id).is_some_and(|s| {
                    s.calls.select(tracking) && s.calls.get(tracking).is_some_and(|w| w.held)
                });
                if !held {
                    return self.refresh_toolbar(id);
                }
                Command::AlternateCall
            }
        };
        let params = [("TrackingID".to_string(), tracking.to_string())];
        let track = format!("workitem-{tracking}");
        let args = Args {
            string_param: "",
            params: &params,
        };
        self.invoke(now, out, id, &track, command, &args);
    }

    /// A toolbar command: sends its requests, or fails it with the reason.
    pub(super) fn invoke(
        &mut self,
        now: Now,
        out: &mut Outbox,
        id: u64,
        track: &str,
        command: Command,
        args: &Args<'_>,
    ) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        if command == Command::SetLogLevel {
            return self.set_log_level(id, track, args);
        }
        if !self.online() {
            let (code, msg) = self.offline_reason();
            return self.fail(id, Some(track), code, &msg);
        }
        match (command, s.agent.clone()) {
            (Command::SetCurrentWorkItem, Some(_)) => {
                return self.set_current_work_item(now, out, id, track, args)
            }
            (Command::ResetState, Some(agent)) => {
                tracing::info!("agent {agent}: state read again (ResetState)");
                self.tell(id, &Msg::ResetState);
                if let Some(s) = self.sessions.get_mut(&id) {
                    s.resetting = true;
                }
                return self.attach(now, out, &agent);
            }
            _ => {}
        }
        let requests = match s.agent.clone() {
            Some(agent) if !is_agent_command(command) => {
                self.call_request(id, agent, command, args)
            }
            _ => match command {
                Command::LogIn => self.login_request(now, out, id, args).map(|m| vec![m]),
                Command::LogOut | Command::ChangeReadyState | Command::ChangeNotReadyState => {
                    self.state_request(id, command, args).map(|m| vec![m])
                }
                // Call commands without a logged-in agent.
                _ => Err(("NotLoggedIn", Msg::NotLoggedIn)),
            },
        };
        match requests {
            Ok(msgs) => {
                for m in msgs {
                    self.send_tracked(now, out, id, track, m);
                }
            }
            Err((code, msg)) => self.fail(id, Some(track), code, &msg),
        }
    }

    /// `SetCurrentWorkItem` (the toolbar's work-item list): the named work item becomes the
    /// current call, as when Siebel selects it (`ResumeWorkItem`).
    fn set_current_work_item(
        &mut self,
        now: Now,
        out: &mut Outbox,
        id: u64,
        track: &str,
        args: &Args,
    ) {
        let known = args.tracking().filter(|t| {
            self.sessions
                .get(&id)
                .is_some_and(|s| s.calls.get(t).is_some())
        });
        match known {
            Some(t) => self.work_item(now, out, id, &t, WorkItemOp::Resume),
            None => self.fail(id, Some(track), "UnknownWorkItem", &Msg::NoCall),
        }
    }

    /// `SetLogLevel`: changes the process's log level at once (no request).
    fn set_log_level(&self, id: u64, track: &str, args: &Args) {
        let admins = &self.cfg.admin_agents;
        if !admins.is_empty() {
            let who = self
                .sessions
                .get(&id)
                .and_then(|s| s.agent.clone().or_else(|| s.service.agent_id.clone()));
            if !who.as_ref().is_some_and(|a| admins.contains(a)) {
                tracing::warn!(
                    "SetLogLevel refused for session {id} (agent {}): not in Driver:AdminAgents",
                    who.as_deref().unwrap_or("-")
                );
                return self.fail(id, Some(track), "NotAdmin", &Msg::NotAdmin);
            }
        }
        let wanted = args.get(&["LogLevel", "Level"]).unwrap_or_default();
        match LogLevel::parse(&wanted) {
            Some(level) => {
                crate::logging::set_level(level);
                tracing::warn!("log level changed to {} by session {id}", level.directive());
                self.tell(id, &Msg::LogLevel(level.directive().to_string()));
            }
            None => self.fail(id, Some(track), "BadLogLevel", &Msg::BadLogLevel(wanted)),
        }
    }

    /// `LogIn`: binds the agent to the session, connects it, and builds the Login request.
    fn login_request(
        &mut self,
        now: Now,
        out: &mut Outbox,
        id: u64,
        args: &Args,
    ) -> Result<Message, Refusal> {
        let login = match self.sessions.get(&id) {
            Some(s) => s.service.overlay(args.params),
            None => return Err(("NoSession", Msg::NotLoggedIn)),
        };
        let agent = login
            .agent_id
            .ok_or(("MissingAgentId", Msg::Missing("agent_id")))?;
        let password = login
            .password
            .ok_or(("MissingPassword", Msg::Missing("password")))?;
        let extension = login
            .extension
            .ok_or(("MissingExtension", Msg::Missing("extension")))?;
        if !self.bind_agent(now, out, id, &agent) {
            return Err(("AgentInUse", Msg::AgentInUse(agent)));
        }
        // Kept in the process only: each message carries a fresh encryption (secure
        // passwords are refused when replayed) and each request a proof made from it.
        if let Some(s) = self.sessions.get_mut(&id) {
            s.password = Some(password.clone());
            s.logging_in = true;
        }
        let reply_to = self.reply_queue.clone();
        self.request(
            now,
            out,
            Message::Connect {
                agent: agent.clone(),
                reply_to,
                password: None,
                encrypted: false,
            },
        );
        let (password, encrypted) = self.wire_password(now, &password).map_err(|e| {
            let message = e.to_string();
            tracing::error!("agent {agent}: {message}");
            (
                "NoRandom",
                Msg::Failed {
                    code: "NoRandom".into(),
                    message,
                },
            )
        })?;
        self.tell(id, &Msg::LoggingIn(agent.clone()));
        Ok(Message::Login {
            agent,
            password,
            encrypted,
            extension,
        })
    }

    /// `LogOut`, `ChangeReadyState`, `ChangeNotReadyState`: the state request, with the
    /// reason code checked against the agent's list.
    fn state_request(&self, id: u64, command: Command, args: &Args) -> Result<Message, Refusal> {
        let agent = self
            .sessions
            .get(&id)
            .and_then(|s| s.agent.clone())
            .ok_or(("NotLoggedIn", Msg::NotLoggedIn))?;
        let given = args.get(&["ReasonCode", "Reason"]);
        Ok(match command {
            Command::LogOut => Message::Logout {
                reason: self.resolve_reason(id, "LOGOUT", given.as_deref())?,
                agent,
                force: false,
            },
            Command::ChangeReadyState => Message::SetState {
                agent,
                state: AgentState::Ready,
                reason: None,
            },
            _ => Message::SetState {
                reason: self.resolve_reason(id, "NOT_READY", given.as_deref())?,
                agent,
                state: AgentState::NotReady,
            },
        })
    }

    /// Sends a request on behalf of a command; its answer (or failure) settles the command.
    fn send_tracked(&mut self, now: Now, out: &mut Outbox, id: u64, track: &str, msg: Message) {
        match self.request(now, out, msg.clone()) {
            Some(req) => {
                if let Some(s) = self.sessions.get_mut(&id) {
                    let pending = super::Pending {
                        track: track.to_string(),
                        at: now.mono,
                        msg,
                        to: s.served_by.clone(),
                        retried: false,
                    };
                    s.pending.insert(req, pending);
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
    ) -> Result<Option<String>, Refusal> {
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
    pub(super) fn fetch_reasons(&mut self, now: Now, out: &mut Outbox, agent: &str) {
        let wanted = [
            ("NOT_READY", self.cfg.not_ready_reasons),
            ("LOGOUT", self.cfg.logout_reasons),
            (super::call_commands::WRAP_UP, self.cfg.wrap_up_reasons),
        ];
        for (category, on) in wanted {
            if on {
                self.request(
                    now,
                    out,
                    Message::GetReasonCodes {
                        agent: agent.to_string(),
                        category: category.to_string(),
                    },
                );
            }
        }
    }

    /// Connect + Snapshot for an agent, so the connector routes its events here and Siebel's
    /// view is rebuilt from the contact center's state.
    pub(super) fn attach(&mut self, now: Now, out: &mut Outbox, agent: &str) {
        let reply_to = self.reply_queue.clone();
        let owner = self.owner(agent);
        let password = owner
            .and_then(|id| self.sessions.get(&id))
            .and_then(|s| s.password.as_deref())
            .and_then(|p| match self.wire_password(now, p) {
                Ok((wire, _)) => Some(wire),
                Err(e) => {
                    tracing::error!("agent {agent}: Connect sent without the password: {e}");
                    None
                }
            });
        self.request(
            now,
            out,
            Message::Connect {
                agent: agent.to_string(),
                reply_to,
                password,
                encrypted: self.cfg.secure.is_some(),
            },
        );
        let snapshot = self.request(
            now,
            out,
            Message::Snapshot {
                agent: agent.to_string(),
            },
        );
        if let Some(s) = owner.and_then(|id| self.sessions.get_mut(&id)) {
            s.snapshot = snapshot.map(|req| (req, now.mono));
            s.overtaken = false;
        }
    }

    /// The password as sent: encrypted when `Driver:UseSecurePassword` is on.
    fn wire_password(&self, now: Now, clear: &str) -> Result<(String, bool), NoRandom> {
        Ok(match &self.cfg.secure {
            Some(t) => (t.encrypt(clear, now)?, true),
            None => (clear.to_string(), false),
        })
    }

    /// Binds an agent to a session; false if another session has it. Another agent in the
    /// same session: the old agent's calls end here and the connector stops routing the old
    /// agent to us.
    fn bind_agent(&mut self, now: Now, out: &mut Outbox, id: u64, agent: &str) -> bool {
        if self.owner(agent).is_some_and(|other| other != id) {
            return false;
        }
        self.by_agent.insert(agent.to_string(), id);
        let Some(s) = self.sessions.get_mut(&id) else {
            return true;
        };
        if s.agent.as_deref() == Some(agent) {
            return true;
        }
        let extension = s.extension();
        let effects = s.calls.end_all(&extension, now);
        s.pending.clear();
        s.info = None;
        let old = s.agent.replace(agent.to_string());
        // The old agent's password (the new one is kept after this) proves its Disconnect.
        let proof = old
            .as_deref()
            .zip(s.password.as_deref())
            .map(|(a, p)| crate::protocol::agent_proof(a, p));
        let slot = s.slot.clone();
        play(&slot, &effects);
        if let Some(old) = old {
            self.by_agent.remove(&old);
            self.request_with(now, out, Message::Disconnect { agent: old }, proof);
        }
        true
    }
}
