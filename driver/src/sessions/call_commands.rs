//! Call commands (answer, release, hold, transfer, conference, DTMF, make call, wrap-up) as
//! the requests they become for the agent's calls, or the reason they cannot run.

use crate::calls::WorkItem;
use crate::commands::Command;
use crate::config::Deployment;
use crate::messages::Msg;
use crate::protocol::{AgentState, CallAction, Message};

use super::commands::{Args, Refusal};
use super::{Session, Sessions};

/// The reason category of wrap-up reasons (Finesse's WrapUpReasons).
pub(super) const WRAP_UP: &str = "WRAP_UP";

impl Sessions {
    /// Builds the requests of a call command, or the reason it cannot run.
    pub(super) fn call_request(
        &self,
        id: u64,
        agent: String,
        command: Command,
        args: &Args,
    ) -> Result<Vec<Message>, Refusal> {
        let number = args.get(&["PhoneNumber", "Number", "Digits", "To"]);
        let reason = args.get(&["WrapUpReason", "Reason"]);
        let s = self
            .sessions
            .get(&id)
            .ok_or(("NoSession", Msg::NotLoggedIn))?;
        let state = s.state();
        let target = match args.tracking() {
            Some(t) => Some(s.calls.get(&t).ok_or(("UnknownWorkItem", Msg::NoCall))?),
            None => s.calls.current(),
        };
        let action =
            |call: &WorkItem, action: CallAction, to: Option<String>| Message::CallAction {
                agent: agent.clone(),
                dialog: call.info.id.clone(),
                action,
                to,
            };
        let number = || number.clone().ok_or(("MissingNumber", Msg::MissingNumber));
        // Checked before anything leaves: the length and the characters (crate::dial).
        let dial = || {
            let n = number()?;
            crate::dial::check_number(&n).map_err(|e| {
                tracing::warn!("number to dial refused: {e}");
                ("InvalidNumber", Msg::BadNumber)
            })?;
            Ok::<String, Refusal>(n)
        };
        let dtmf = || {
            let n = number()?;
            crate::dial::check_dtmf(&n).map_err(|e| {
                tracing::warn!("DTMF digits refused: {e}");
                ("InvalidDigits", Msg::BadDigits)
            })?;
            Ok::<String, Refusal>(n)
        };
        Ok(match command {
            Command::MakeCall => {
                // From Ready only where the connector says Finesse allows it.
                let from_ready = self.cfg.deployment != Deployment::Uccx
                    && s.info.as_ref().is_some_and(|i| i.make_call_from_ready);
                let on_call = s.calls.current().is_some();
                let allowed = |st| crate::commands::make_call_allowed(st, on_call, from_ready);
                if !state.is_some_and(allowed) {
                    return Err(("MakeCallNeedsNotReady", Msg::MakeCallNeedsNotReady));
                }
                vec![Message::MakeCall {
                    agent: agent.clone(),
                    to: dial()?,
                }]
            }
            Command::ChangeWorkReadyState => vec![Message::SetState {
                agent: agent.clone(),
                state: AgentState::WorkReady,
                reason: None,
            }],
            Command::SetWrapUpReason => {
                let dialog = target
                    .map(|c| c.info.id.clone())
                    .or_else(|| s.calls.last_ended().map(str::to_string))
                    .ok_or(("NoCall", Msg::NoCall))?;
                let reason = self.wrap_up_reason(s, reason)?;
                vec![Message::UpdateCallData {
                    agent: agent.clone(),
                    dialog,
                    wrap_up_reason: Some(reason),
                    variables: Vec::new(),
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
            Command::SilentMonitor | Command::BargeIn
                if !s.info.as_ref().is_some_and(|i| i.supervisor) =>
            {
                return Err(("NotSupervisor", Msg::NotSupervisor))
            }
            Command::SilentMonitor => {
                if state != Some(AgentState::NotReady) || s.calls.current().is_some() {
                    return Err(("MonitorNeedsNotReady", Msg::MonitorNeedsNotReady));
                }
                vec![Message::SilentMonitor {
                    agent: agent.clone(),
                    to: dial()?,
                }]
            }
            Command::BargeIn => {
                // The monitoring call (Finesse lists BARGE_CALL on it): the selected one, else
                // any; its toAddress is the monitored agent's extension.
                let barge = |c: &&WorkItem| c.info.actions.iter().any(|a| a == "BARGE_CALL");
                let call = target
                    .filter(barge)
                    .or_else(|| s.calls.all().find(barge))
                    .ok_or(("NoCall", Msg::NoCall))?;
                vec![Message::BargeCall {
                    agent: agent.clone(),
                    dialog: call.info.id.clone(),
                    to: call.info.to_address.clone(),
                }]
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
                    Command::InitTransfer | Command::InitConference => {
                        (CallAction::ConsultCall, Some(dial()?))
                    }
                    Command::TransferMute => (CallAction::TransferSst, Some(dial()?)),
                    _ => (CallAction::SendDtmf, Some(dtmf()?)),
                };
                let mut v = Vec::new();
                if matches!(act, CallAction::ConsultCall | CallAction::TransferSst) {
                    v.extend(self.attach_context(&agent, call, args)?);
                }
                v.push(action(call, act, to));
                v
            }
            _ => Vec::new(),
        })
    }

    /// `AttachContext`: the Siebel context the command carries (its `Context` parameter)
    /// written to the call's `Driver:ContextVariable` before a consult or transfer, so the
    /// receiving agent's call events carry it (field `Context`). Nothing without either.
    fn attach_context(
        &self,
        agent: &str,
        call: &WorkItem,
        args: &Args,
    ) -> Result<Option<Message>, Refusal> {
        // No record on screen: the field reference stays unexpanded (`[Id]`).
        let unexpanded = |c: &String| c.starts_with('[') && c.ends_with(']');
        let Some(context) = args.param("Context").filter(|c| !unexpanded(c)) else {
            return Ok(None);
        };
        let Some(variable) = self.cfg.context_variable.clone() else {
            tracing::debug!("a Siebel context without Driver:ContextVariable: not carried");
            return Ok(None);
        };
        // Finesse holds 40 characters in a call variable, up to 210 in an ECC variable.
        let max = if variable.starts_with("user.") {
            210
        } else {
            40
        };
        if context.chars().count() > max {
            return Err(("ContextTooLong", Msg::ContextTooLong(max)));
        }
        Ok(Some(Message::UpdateCallData {
            agent: agent.to_string(),
            dialog: call.info.id.clone(),
            wrap_up_reason: None,
            variables: vec![(variable, context)],
        }))
    }

    /// The wrap-up reason as Finesse stores it (its label). With `Driver:WrapUpReasonCodes`
    /// on and the agent's WrapUpReasons known, it must be one of them, by label (any case) or
    /// id; otherwise any text.
    fn wrap_up_reason(&self, s: &Session, given: Option<String>) -> Result<String, Refusal> {
        let list = s.reasons.get(WRAP_UP).filter(|_| self.cfg.wrap_up_reasons);
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
            return Err(("MissingReason", Msg::WrapUpReasonRequired(labels())));
        };
        let Some(list) = list else {
            return Ok(given);
        };
        list.iter()
            .find(|r| r.label.eq_ignore_ascii_case(&given) || r.id == given)
            .map(|r| r.label.clone())
            .ok_or_else(|| ("UnknownReason", Msg::UnknownReason(given, labels())))
    }
}
