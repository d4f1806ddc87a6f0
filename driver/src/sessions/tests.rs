//! The sessions driven through their link handler with no broker: a fake host records every
//! callback, a manual clock stands in for time, and the requests are read back from the
//! outbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Cmd, Sessions, WorkItemIds, WorkItemOp};
use crate::clock::Now;
use crate::commands::{flags, Command};
use crate::config::{DriverConfig, ServiceConfig};
use crate::host::{CommandStatus, Host, HostSlot};
use crate::link::{LinkHandler, Outbox};
use crate::messages::Catalog;
use crate::protocol::{
    AgentInfo, AgentState, CallAction, DialogInfo, Envelope, Message, ReasonCode, SystemStatus,
};
use crate::stomp::Frame;

/// One callback the driver made into "Siebel".
#[derive(Clone, Debug, PartialEq)]
enum Call {
    Event(String, Vec<(String, String)>, String),
    Status(String),
    Error(Option<String>, String),
    Toolbar(Vec<CommandStatus>),
    Object(String, Vec<(String, String)>),
    NewWorkItem(String, String, i32),
    Started(String, String, String, i64),
    Suspended(String),
    Resumed(String),
    Released(String, i64),
}

/// A host that records every callback.
struct FakeHost(Arc<Mutex<Vec<Call>>>);

impl FakeHost {
    fn push(&self, c: Call) {
        self.0.lock().unwrap().push(c);
    }
}

impl Host for FakeHost {
    fn handle_event(&self, name: &str, fields: &[(String, String)], tracking_id: &str) {
        self.push(Call::Event(
            name.into(),
            fields.to_vec(),
            tracking_id.into(),
        ));
    }
    fn show_status_text(&self, text: &str) {
        self.push(Call::Status(text.into()));
    }
    fn handle_error(&self, command_tracking_id: Option<&str>, text: &str) {
        self.push(Call::Error(
            command_tracking_id.map(String::from),
            text.into(),
        ));
    }
    fn cache_command_information(&self, commands: &[CommandStatus]) {
        self.push(Call::Toolbar(commands.to_vec()));
    }
    fn update_object_information(&self, _tracking: &str, target: &str, info: &[(String, String)]) {
        self.push(Call::Object(target.into(), info.to_vec()));
    }
    fn indicate_new_work_item(&self, tracking_id: &str, description: &str, mode: i32) {
        self.push(Call::NewWorkItem(
            tracking_id.into(),
            description.into(),
            mode,
        ));
    }
    fn work_item_started(&self, tracking_id: &str, description: &str, target: &str, start: i64) {
        self.push(Call::Started(
            tracking_id.into(),
            description.into(),
            target.into(),
            start,
        ));
    }
    fn work_item_suspended(&self, tracking_id: &str) {
        self.push(Call::Suspended(tracking_id.into()));
    }
    fn work_item_resumed(&self, tracking_id: &str) {
        self.push(Call::Resumed(tracking_id.into()));
    }
    fn work_item_released(&self, tracking_id: &str, stop: i64) {
        self.push(Call::Released(tracking_id.into(), stop));
    }
}

/// The wall-clock start of every test (2023-11-14T22:13:20Z).
const T0: i64 = 1_700_000_000;

/// One driver instance's sessions, a manual clock, the hosts' records and the requests sent.
struct Rig {
    s: Sessions,
    now: Now,
    up: bool,
    frames: Vec<Frame>,
    hosts: HashMap<u64, Arc<Mutex<Vec<Call>>>>,
    items: HashMap<u64, WorkItemIds>,
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn login_params(agent: &str) -> Vec<(String, String)> {
    kv(&[
        ("AgentId", agent),
        ("Password", "pw"),
        ("Extension", &format!("5{}", &agent[1..])),
    ])
}

fn agent(id: &str, state: AgentState) -> AgentInfo {
    AgentInfo {
        agent: id.into(),
        state: Some(state),
        extension: Some(format!("5{}", &id[1..])),
        first_name: Some("Ann".into()),
        last_name: Some("Archer".into()),
        ..AgentInfo::default()
    }
}

fn dialog(agent: &str, id: &str, agent_state: &str) -> DialogInfo {
    DialogInfo {
        agent: agent.into(),
        id: id.into(),
        state: agent_state.into(),
        agent_state: agent_state.into(),
        from_address: "0611".into(),
        to_address: format!("5{}", &agent[1..]),
        actions: match agent_state {
            "ALERTING" => vec!["ANSWER".into()],
            "ACTIVE" => vec!["HOLD".into(), "DROP".into(), "CONSULT_CALL".into()],
            "HELD" => vec!["RETRIEVE".into(), "DROP".into()],
            _ => vec![],
        },
        ..DialogInfo::default()
    }
}

fn codes() -> Vec<ReasonCode> {
    vec![
        ReasonCode {
            id: "11".into(),
            code: "1".into(),
            label: "Lunch".into(),
        },
        ReasonCode {
            id: "12".into(),
            code: "2".into(),
            label: "Meeting".into(),
        },
    ]
}

impl Rig {
    /// A rig with these `Driver:` parameters (client id `t`), link down, no session.
    fn new(params: &[(&str, &str)]) -> Rig {
        // Liveness is off unless a test turns it on (its tests send heartbeats).
        let mut p = kv(&[("Driver:ConnectorTimeoutMs", "0")]);
        p.extend(kv(params));
        p.push(("Driver:ClientId".into(), "t".into()));
        let cfg = DriverConfig::from_params(&p).unwrap().config;
        Rig {
            s: Sessions::new(
                Arc::new(cfg),
                Catalog::for_language("ENU"),
                "test-nonce".into(),
            ),
            now: Now {
                mono: Instant::now(),
                unix: T0,
            },
            up: false,
            frames: Vec::new(),
            hosts: HashMap::new(),
            items: HashMap::new(),
        }
    }

    /// Link up, connector `c1/i1` in service, session 1 added (no agent yet).
    fn online() -> Rig {
        Rig::online_with(&[])
    }

    fn online_with(params: &[(&str, &str)]) -> Rig {
        let mut r = Rig::new(params);
        r.link_up();
        r.in_service("c1", "i1");
        r.add(1, &[]);
        r.take_sent();
        r
    }

    /// `online` plus agent 1001 logged in, NOT_READY; records cleared.
    fn logged_in(params: &[(&str, &str)]) -> Rig {
        let mut r = Rig::online_with(params);
        r.login(1, "1001");
        r.clear();
        r
    }

    fn advance(&mut self, d: Duration) {
        self.now = self.now.after(d);
    }

    fn collect(&mut self, mut out: Outbox) {
        self.frames.extend(out.take());
    }

    fn link_up(&mut self) {
        self.up = true;
        let mut out = Outbox::new(true);
        self.s.on_up(self.now, &mut out);
        self.collect(out);
    }

    fn link_down(&mut self) {
        self.up = false;
        self.s.on_down(self.now, "test", true);
    }

    fn command(&mut self, cmd: Cmd) {
        let mut out = Outbox::new(self.up);
        self.s.on_command(self.now, cmd, &mut out);
        self.collect(out);
    }

    fn tick(&mut self) {
        let mut out = Outbox::new(self.up);
        self.s.on_tick(self.now, &mut out);
        self.collect(out);
    }

    fn add(&mut self, id: u64, service: &[(&str, &str)]) {
        let record = Arc::new(Mutex::new(Vec::new()));
        let slot = Arc::new(HostSlot::new(Box::new(FakeHost(record.clone()))));
        let work_items = WorkItemIds::default();
        self.hosts.insert(id, record);
        self.items.insert(id, work_items.clone());
        self.command(Cmd::Add {
            id,
            slot,
            service: ServiceConfig::from_params(&kv(service)).config,
            work_items,
        });
    }

    fn invoke(
        &mut self,
        id: u64,
        track: &str,
        name: &str,
        text: &str,
        params: Vec<(String, String)>,
    ) {
        self.command(Cmd::Invoke {
            id,
            track: track.into(),
            command: Command::from_name(name).unwrap(),
            string_param: text.into(),
            params,
        });
    }

    /// A MESSAGE from a connector, answering `re` if given.
    fn deliver(&mut self, msg: Message, re: Option<&str>) {
        let announce = matches!(msg, Message::Announce { .. });
        let mut env = Envelope::new("c-1", msg);
        env.re = re.map(String::from);
        if announce {
            // Announces come from the drivers' topic.
            self.deliver_frame(
                Frame::new("MESSAGE")
                    .header("destination", "/topic/siebelcti.requests.drivers")
                    .header("subscription", "drivers")
                    .body(env.to_json()),
            );
        } else {
            self.deliver_body(env.to_json());
        }
    }

    fn deliver_body(&mut self, body: Vec<u8>) {
        self.deliver_frame(
            Frame::new("MESSAGE")
                .header("destination", "/queue/siebelcti.driver.t")
                .body(body),
        );
    }

    /// A MESSAGE from the connector instance `from` (`name/instance`), answering `re`.
    fn deliver_from(&mut self, from: &str, msg: Message, re: Option<&str>) {
        let mut env = Envelope::new("c-1", msg);
        env.re = re.map(String::from);
        self.deliver_frame(
            Frame::new("MESSAGE")
                .header("destination", "/queue/siebelcti.driver.t")
                .header(crate::protocol::CONNECTOR_HEADER, from)
                .body(env.to_json()),
        );
    }

    fn deliver_frame(&mut self, frame: Frame) {
        let mut out = Outbox::new(self.up);
        self.s.on_frame(self.now, frame, &mut out);
        self.collect(out);
    }

    fn in_service(&mut self, connector: &str, instance: &str) {
        self.system(SystemStatus::InService, connector, instance, "");
    }

    fn system(&mut self, status: SystemStatus, connector: &str, instance: &str, detail: &str) {
        self.deliver(
            Message::System {
                status,
                connector: connector.into(),
                detail: detail.into(),
                instance: instance.into(),
            },
            None,
        );
    }

    /// Logs an agent in through LogIn and the connector's NOT_READY answer.
    fn login(&mut self, id: u64, agent_id: &str) {
        self.invoke(id, "login", "LogIn", "", login_params(agent_id));
        let req = self.request_id("Login");
        self.deliver(
            Message::Agent(agent(agent_id, AgentState::NotReady)),
            Some(&req),
        );
    }

    /// The requests sent so far (and forgets them); announces on the status topic are left
    /// out (see [`Rig::announces`]).
    fn take_sent(&mut self) -> Vec<Envelope> {
        std::mem::take(&mut self.frames)
            .into_iter()
            .filter(|f| f.command == "SEND" && !is_status(f))
            .map(|f| Envelope::from_json(&f.body).unwrap())
            .collect()
    }

    /// The messages of the requests sent so far (and forgets them).
    fn sent(&mut self) -> Vec<Message> {
        self.take_sent().into_iter().map(|e| e.msg).collect()
    }

    /// The id of the last request of this type sent (the requests stay).
    fn request_id(&self, kind: &str) -> String {
        self.frames
            .iter()
            .rev()
            .filter(|f| f.command == "SEND" && !is_status(f))
            .map(|f| Envelope::from_json(&f.body).unwrap())
            .find(|e| serde_json::to_value(e).unwrap()["type"] == kind)
            .map(|e| e.id)
            .unwrap_or_else(|| panic!("no {kind} request sent"))
    }

    fn calls(&self, id: u64) -> Vec<Call> {
        self.hosts[&id].lock().unwrap().clone()
    }

    fn clear(&mut self) {
        for h in self.hosts.values() {
            h.lock().unwrap().clear();
        }
        self.frames.clear();
    }

    fn events(&self, id: u64) -> Vec<String> {
        self.calls(id)
            .into_iter()
            .filter_map(|c| match c {
                Call::Event(n, ..) => Some(n),
                _ => None,
            })
            .collect()
    }

    fn event_fields(&self, id: u64, name: &str) -> Vec<(String, String)> {
        self.calls(id)
            .into_iter()
            .find_map(|c| match c {
                Call::Event(n, f, _) if n == name => Some(f),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {name}"))
    }

    fn statuses(&self, id: u64) -> Vec<String> {
        self.calls(id)
            .into_iter()
            .filter_map(|c| match c {
                Call::Status(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    fn status(&self, id: u64) -> String {
        self.statuses(id).pop().unwrap_or_default()
    }

    fn errors(&self, id: u64) -> Vec<(Option<String>, String)> {
        self.calls(id)
            .into_iter()
            .filter_map(|c| match c {
                Call::Error(t, text) => Some((t, text)),
                _ => None,
            })
            .collect()
    }

    /// The error code of the last EventError.
    fn error_code(&self, id: u64) -> String {
        let f = self
            .calls(id)
            .into_iter()
            .rev()
            .find_map(|c| match c {
                Call::Event(n, f, _) if n == "EventError" => Some(f),
                _ => None,
            })
            .expect("an EventError");
        field(&f, "ErrorCode")
    }

    /// The flags of a command in the last toolbar refresh.
    fn flags(&self, id: u64, command: &str) -> u32 {
        self.calls(id)
            .into_iter()
            .rev()
            .find_map(|c| match c {
                Call::Toolbar(t) => Some(t),
                _ => None,
            })
            .expect("a toolbar refresh")
            .into_iter()
            .find(|c| c.name == command)
            .unwrap()
            .flags
    }

    fn enabled(&self, id: u64, command: &str) -> bool {
        self.flags(id, command) & flags::DISABLED == 0
    }

    fn work_items(&self, id: u64) -> Vec<String> {
        let mut v: Vec<String> = self.items[&id].lock().unwrap().iter().cloned().collect();
        v.sort();
        v
    }
}

/// Whether a frame goes to the drivers' topic (a driver's announce).
fn is_status(f: &Frame) -> bool {
    f.get("destination")
        .is_some_and(|d| d.starts_with("/topic/") && d.ends_with(".drivers"))
}

fn field(fields: &[(String, String)], name: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"))
}

mod calls;
mod connector;
mod context;
mod ha;
mod login;
mod supervisor;
mod toolbar_features;
