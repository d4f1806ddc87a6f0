//! The agent desktop's view model: what the page shows, as JSON, built only from what the
//! driver told scs-sim through SCAPI (the recorded callbacks), the DEF and what the event
//! responses did (pops, dashboard, activities). Ages are milliseconds before `now`.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use serde_json::{json, Value};

use crate::client::{describe, Call};
use crate::def::{Command, Def};
use crate::engine::Pop;
use crate::server::Agent;

/// `SC_CF_NOTSUPPORTED`, `SC_CF_DISABLED`, `SC_CF_CHECKED`, `SC_CF_BLINKING`.
const NOT_SUPPORTED: i64 = 1;
const DISABLED: i64 = 2;
const CHECKED: i64 = 4;
const BLINKING: i64 = 8;

/// How many log lines the view carries.
pub const LOG_LINES: usize = 300;

/// The buttons of Siebel's standard communications toolbar, in its order: the group command
/// each invokes and the button's label ("Communications Group Commands in Toolbar").
pub const TOOLBAR: &[(&str, &str)] = &[
    ("SignOnGroup", "Log In"),
    ("SignOffGroup", "Log Out"),
    ("ChangeBusyStateGroup", "Busy"),
    ("NotReadyGroup", "Not Ready"),
    ("InitiateWorkGroup", "Make Call"),
    ("AcceptWorkGroup", "Answer"),
    ("ReleaseWorkGroup", "Release"),
    ("SuspendWorkGroup", "Hold"),
    ("ResumeWorkGroup", "Resume"),
    ("HoldResumeGroup", "Hold/Resume"),
    ("RetrieveWorkGroup", "Retrieve"),
    ("ForwardWorkGroup", "Forward"),
    ("BlindTransferGroup", "Blind Transfer"),
    ("ConsultativeTransferGroup", "Consult Transfer"),
    ("ConferenceTransferGroup", "Conference"),
    ("ResetStateGroup", "Reset"),
];

/// One entry of the desktop's own log (presses, work-item selections).
#[derive(Clone, Debug)]
pub struct LogLine {
    /// When it happened.
    pub at: Instant,
    /// What happened.
    pub text: String,
}

fn ms(now: Instant, then: Instant) -> u64 {
    now.saturating_duration_since(then).as_millis() as u64
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The flags of a device command on the driver's last toolbar (`None`: not on it).
fn flags_of(toolbar: &[(String, String, i64)], device: &str) -> Option<i64> {
    toolbar
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(device))
        .map(|(_, _, f)| *f)
}

/// The first leaf (command with a device command) of a command, following first
/// sub-commands.
fn first_leaf(def: &Def, cmd: &Command, depth: usize) -> Option<Command> {
    if cmd.sub_commands.is_empty() {
        return Some(cmd.clone());
    }
    if depth > 8 {
        return None;
    }
    let sub = def.command(cmd.sub_commands.first()?)?;
    first_leaf(def, &sub, depth + 1)
}

/// A button or menu item: enabled when a press would run something now (the sub-commands
/// it would run, `runs`, and why others are skipped, `why`); blinking when a command it
/// would run blinks on the driver's toolbar; checked when its first command is checked.
fn button(agent: &Agent, def: &Def, toolbar: &[(String, String, i64)], name: &str) -> Value {
    let Some(cmd) = def.command(name) else {
        return json!({"command": name, "defined": false, "enabled": false,
                      "why": ["not defined in the DEF"]});
    };
    let (runs, why) = agent
        .plan_now(name)
        .unwrap_or_else(|e| (Vec::new(), vec![e.0]));
    let device_flags = |c: &str| {
        def.command(c)
            .and_then(|c| c.device_command)
            .and_then(|d| flags_of(toolbar, &d))
            .unwrap_or(0)
    };
    let blinking = runs.iter().any(|c| device_flags(c) & BLINKING != 0);
    let checked = first_leaf(def, &cmd, 0).is_some_and(|l| device_flags(&l.name) & CHECKED != 0);
    let hot_key = runs
        .first()
        .and_then(|c| def.command(c))
        .and_then(|c| c.hot_key)
        .or(cmd.hot_key.clone());
    // The picker the press opens (SelectApplet): the page shows its rows in a dialog.
    let picker = match agent.picker(name) {
        Ok(Some(p)) if !runs.is_empty() => json!({
            "title": p.title,
            "applet": p.applet,
            "rows": p.rows.iter().map(|r| json!({
                "label": crate::picker::label(r),
                "fields": r.iter().map(|(k, v)| (k.clone(), json!(v)))
                    .collect::<serde_json::Map<String, Value>>(),
            })).collect::<Vec<_>>(),
        }),
        _ => Value::Null,
    };
    json!({
        "command": name,
        "defined": true,
        "enabled": !runs.is_empty(),
        "checked": checked,
        "blinking": blinking,
        "runs": runs,
        "why": why,
        "hotKey": hot_key,
        "description": cmd.description,
        "editBox": cmd.on_edit_control,
        "picker": picker,
    })
}

/// A work item as the work-item callbacks left it.
struct Item {
    tracking: String,
    description: String,
    state: &'static str,
    since: Instant,
    changed: Instant,
    event: String,
    fields: Vec<(String, String)>,
}

/// The name and fields of a work item's last device event.
type LastEvent<'a> = (&'a str, &'a [(String, String)]);

fn set_item(
    items: &mut Vec<Item>,
    t: &str,
    at: Instant,
    state: &'static str,
    description: Option<&str>,
) {
    match items.iter_mut().find(|i| i.tracking == t) {
        Some(i) => {
            i.state = state;
            i.changed = at;
            if let Some(d) = description.filter(|d| !d.is_empty()) {
                i.description = d.to_string();
            }
        }
        None => items.push(Item {
            tracking: t.to_string(),
            description: description.unwrap_or_default().to_string(),
            state,
            since: at,
            changed: at,
            event: String::new(),
            fields: Vec::new(),
        }),
    }
}

/// The work items, in the order the driver indicated them, with their last state and the
/// last device event about each; `CleanAllWorkItem` empties the list.
fn work_items(calls: &[(Call, Instant)]) -> Vec<Item> {
    let mut items: Vec<Item> = Vec::new();
    let mut last_event: HashMap<&str, LastEvent> = HashMap::new();
    for (c, at) in calls {
        match c {
            Call::IndicateNewWorkItem {
                tracking_id,
                description,
                ..
            } => set_item(&mut items, tracking_id, *at, "Alerting", Some(description)),
            Call::WorkItemStarted {
                tracking_id,
                description,
                ..
            } => set_item(&mut items, tracking_id, *at, "Active", Some(description)),
            Call::WorkItemSuspended(t) => set_item(&mut items, t, *at, "Suspended", None),
            Call::WorkItemResumed(t) => set_item(&mut items, t, *at, "Active", None),
            Call::WorkItemReleased { tracking_id, .. } => {
                set_item(&mut items, tracking_id, *at, "Released", None)
            }
            Call::CleanAllWorkItem => items.clear(),
            Call::HandleEvent {
                name,
                fields,
                tracking_id,
                ..
            } => {
                last_event.insert(tracking_id, (name, fields));
            }
            _ => {}
        }
    }
    for i in &mut items {
        if let Some((name, fields)) = last_event.get(i.tracking.as_str()) {
            i.event = name.to_string();
            i.fields = fields.to_vec();
        }
    }
    items
}

/// The reason codes of the driver's last `EventReasonCodes` of each category (Not Ready,
/// Logout): the choices of the text box's picker.
fn reasons(calls: &[(Call, Instant)]) -> Vec<Value> {
    let mut by_category: Vec<(String, Vec<Value>)> = Vec::new();
    for (c, _) in calls {
        let Call::HandleEvent { name, fields, .. } = c else {
            continue;
        };
        if name != "EventReasonCodes" {
            continue;
        }
        let category = field(fields, "Category").to_string();
        let count: usize = field(fields, "Count").parse().unwrap_or(0);
        let list: Vec<Value> = (1..=count.min(100))
            .map(|n| {
                json!({"category": category, "code": field(fields, &format!("ReasonCode{n}")),
                       "label": field(fields, &format!("ReasonLabel{n}"))})
            })
            .collect();
        by_category.retain(|(k, _)| *k != category);
        by_category.push((category, list));
    }
    by_category.into_iter().flat_map(|(_, l)| l).collect()
}

fn pop_json(agent: &Agent, pop: &Pop) -> Value {
    let contact = |id: &str| {
        let c = agent.client.engine().and_then(|e| e.contact(id)).map(|c| {
            json!([
                ["Id", c.id],
                ["First Name", c.first_name],
                ["Last Name", c.last_name],
                ["Work Phone #", c.work_phone],
                ["Account Id", c.account_id]
            ])
        });
        c.unwrap_or_else(|| json!([["Id", id]]))
    };
    match pop {
        Pop::Single { view, id } => {
            json!({"kind": "single", "view": view, "records": [contact(id)]})
        }
        Pop::Multi { view, ids } => json!({"kind": "multi", "view": view,
            "records": ids.iter().map(|i| contact(i)).collect::<Vec<_>>()}),
        Pop::Find { dialog, fields } => json!({"kind": "find", "view": dialog,
            "fields": fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()}),
    }
}

/// The whole view of one agent session at `now`; `log` is the desktop's own log of this
/// session (presses), merged with the callbacks into the log pane.
pub fn view(agent: &Agent, log: &[LogLine], now: Instant) -> Value {
    let calls = agent.client.calls_timed();
    let toolbar = agent.client.toolbar().unwrap_or_default();
    let empty = Def::default();
    let def = agent.def().unwrap_or(&empty);

    // The agent's state: the fields of the driver's last agent event.
    let state = calls.iter().rev().find_map(|(c, at)| match c {
        Call::HandleEvent { name, fields, .. } if name.starts_with("EventAgent") => {
            Some((name.clone(), fields.clone(), *at))
        }
        _ => None,
    });
    let status = calls.iter().rev().find_map(|(c, at)| match c {
        Call::ShowStatusText(t) => Some((t.clone(), *at)),
        _ => None,
    });
    let error = calls.iter().rev().find_map(|(c, at)| match c {
        Call::HandleError { text, .. } => Some((text.clone(), *at)),
        _ => None,
    });

    let buttons: Vec<Value> = TOOLBAR
        .iter()
        .map(|(name, label)| {
            let mut b = button(agent, def, &toolbar, name);
            b["label"] = json!(label);
            b
        })
        .collect();
    let menu: Vec<Value> = def
        .commands()
        .into_iter()
        .filter(|c| c.title.is_some() && !c.hidden)
        .map(|c| {
            let mut b = button(agent, def, &toolbar, &c.name);
            b["label"] = json!(c.title);
            b["device"] = json!(c.device_command);
            b
        })
        .collect();
    // Every command with a hot key, for the page's keyboard shortcuts.
    let hot_keys: Vec<Value> = def
        .commands()
        .into_iter()
        .filter_map(|c| c.hot_key.map(|k| json!({"key": k, "command": c.name})))
        .collect();
    let raw_toolbar: Vec<Value> = toolbar
        .iter()
        .map(|(n, d, f)| {
            json!({"command": n, "description": d, "flags": f,
                   "notSupported": f & NOT_SUPPORTED != 0, "disabled": f & DISABLED != 0,
                   "checked": f & CHECKED != 0, "blinking": f & BLINKING != 0})
        })
        .collect();

    let current = agent.current_work_item();
    let items: Vec<Value> = work_items(&calls)
        .into_iter()
        .filter(|i| i.state != "Released")
        .map(|i| {
            json!({
                "tracking": i.tracking,
                "description": i.description,
                "state": i.state,
                "event": i.event,
                "direction": field(&i.fields, "Direction"),
                "otherParty": field(&i.fields, "OtherParty"),
                "callState": field(&i.fields, "CallState"),
                "dialogId": field(&i.fields, "DialogId"),
                "ageMs": ms(now, i.since),
                "stateAgeMs": ms(now, i.changed),
                "current": current.as_deref() == Some(i.tracking.as_str()),
            })
        })
        .collect();

    // Screen pop, dashboard and activities: what this agent's event responses did.
    let outcomes = agent.client.outcomes();
    let pop = outcomes.iter().rev().find_map(|o| {
        o.pop.as_ref().map(|p| {
            let mut v = pop_json(agent, p);
            v["handler"] = json!(o.handler);
            v["response"] = json!(o.response);
            v["tracking"] = json!(o.tracking);
            v
        })
    });
    let dashboard = outcomes
        .iter()
        .rev()
        .find(|o| !o.dashboard.is_empty())
        .map(|o| o.dashboard.clone())
        .unwrap_or_default();
    let mine: BTreeSet<&str> = outcomes.iter().map(|o| o.tracking.as_str()).collect();
    let activities: Vec<Value> = agent
        .client
        .engine()
        .and_then(|e| e.activities().ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|a| mine.contains(a.tracking.as_str()))
        .rev()
        .take(20)
        .map(|a| {
            json!({"id": a.id, "type": a.activity_type, "description": a.description,
                   "contactId": a.contact_id, "tracking": a.tracking, "eventLog": a.event_log,
                   "afterWork": a.after_work, "done": !a.after_work.is_empty()})
        })
        .collect();

    // The log pane: callbacks (driver -> Siebel) and presses (Siebel -> driver), in order.
    let start = calls
        .first()
        .map(|(_, at)| *at)
        .into_iter()
        .chain(log.first().map(|l| l.at))
        .min()
        .unwrap_or(now);
    let mut lines: Vec<(Instant, String)> = calls
        .iter()
        .filter(|(c, _)| !matches!(c, Call::BeginBatch | Call::EndBatch))
        .map(|(c, at)| (*at, format!("<- {}", describe(c))))
        .chain(log.iter().map(|l| (l.at, format!("-> {}", l.text))))
        .collect();
    lines.sort_by_key(|(at, _)| *at);
    let skip = lines.len().saturating_sub(LOG_LINES);
    let lines: Vec<Value> = lines
        .into_iter()
        .skip(skip)
        .map(|(at, t)| json!({"t": ms(at, start), "text": t}))
        .collect();

    let login = agent.login();
    json!({
        "reasons": reasons(&calls),
        "agent": {
            "id": login.agent_id,
            "extension": login.dn,
            "user": login.user,
            "state": state.as_ref().map(|(_, f, _)| field(f, "AgentState")),
            "event": state.as_ref().map(|(n, _, _)| n),
            "reason": state.as_ref().map(|(_, f, _)| field(f, "ReasonLabel")),
            "pending": state.as_ref().map(|(_, f, _)| field(f, "PendingState")),
            "name": state.as_ref().map(|(_, f, _)| {
                format!("{} {}", field(f, "FirstName"), field(f, "LastName")).trim().to_string()
            }),
            "stateAgeMs": state.as_ref().map(|(_, _, at)| ms(now, *at)),
        },
        "status": status.as_ref().map(|(t, _)| t),
        "statusAgeMs": status.as_ref().map(|(_, at)| ms(now, *at)),
        "error": error.as_ref().map(|(t, _)| t),
        "errorAgeMs": error.as_ref().map(|(_, at)| ms(now, *at)),
        "text": login.selected_text,
        "editBox": def.commands().iter().any(|c| c.on_edit_control),
        "toolbar": buttons,
        "menu": menu,
        "hotKeys": hot_keys,
        "driverToolbar": raw_toolbar,
        "workItems": items,
        "pop": pop,
        "dashboard": dashboard.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "activities": activities,
        "log": lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn new_item(t: &str) -> Call {
        Call::IndicateNewWorkItem {
            tracking_id: t.into(),
            old_tracking_id: String::new(),
            description: format!("Call {t}"),
            mode: 0,
        }
    }

    #[test]
    fn work_items_follow_the_work_item_callbacks() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let ringing = Call::HandleEvent {
            name: "EventRinging".into(),
            fields: vec![("Direction".into(), "Inbound".into())],
            notify_when_done: false,
            tracking_id: "A".into(),
        };
        let calls = vec![
            (ringing, at(0)),
            (new_item("A"), at(1)),
            (
                Call::WorkItemStarted {
                    tracking_id: "A".into(),
                    old_tracking_id: String::new(),
                    description: String::new(),
                    media_target: "5001".into(),
                    start_time: 0,
                },
                at(2),
            ),
            (new_item("B"), at(3)),
            (Call::WorkItemSuspended("A".into()), at(4)),
            (
                Call::WorkItemReleased {
                    tracking_id: "B".into(),
                    stop_time: 0,
                },
                at(5),
            ),
        ];
        let items = work_items(&calls);
        let seen: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|i| (i.tracking.as_str(), i.state, i.description.as_str()))
            .collect();
        assert_eq!(
            seen,
            [("A", "Suspended", "Call A"), ("B", "Released", "Call B")]
        );
        // The event that came before IndicateNewWorkItem still describes the item.
        assert_eq!(items[0].event, "EventRinging");
        assert_eq!(field(&items[0].fields, "Direction"), "Inbound");
        assert_eq!((items[0].since, items[0].changed), (at(1), at(4)));

        let mut cleaned = calls.clone();
        cleaned.push((Call::CleanAllWorkItem, at(6)));
        assert!(work_items(&cleaned).is_empty());
        cleaned.push((new_item("C"), at(7)));
        assert_eq!(work_items(&cleaned)[0].state, "Alerting");
    }

    #[test]
    fn a_group_button_is_checked_by_its_first_command() {
        let def = crate::def::parse(
            "[Command:Busy]\n SubCommand_1 = \"NotReady\"\n SubCommand_2 = \"Ready\"\n\
             [Command:NotReady]\n DeviceCommand = \"ChangeNotReadyState\"\n\
             [Command:Ready]\n DeviceCommand = \"ChangeReadyState\"\n",
        )
        .unwrap();
        let busy = def.command("Busy").unwrap();
        assert_eq!(first_leaf(&def, &busy, 0).unwrap().name, "NotReady");
        let bar = vec![("ChangeNotReadyState".to_string(), String::new(), 16 | 2 | 4)];
        assert_eq!(flags_of(&bar, "changenotreadystate"), Some(22));
        assert_eq!(flags_of(&bar, "ChangeReadyState"), None);
    }
}
