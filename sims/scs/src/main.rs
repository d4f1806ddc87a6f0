//! scs-sim command line: load the driver, read a DEF profile, log agents in, run commands.
//!
//! ```text
//! scs-sim --def def-templates/ucce.def --profile "Cisco UCCE" \
//!         --agent 1001 --pin secret --dn 5001 --command SignOnGroup --command Ready
//! scs-sim --def def-templates/ucce.def --profile "Cisco UCCE" --agent 1001 --pin secret \
//!         --dn 5001 --http 127.0.0.1:8091 --finesse-admin http://127.0.0.1:8082 --serve
//! scs-sim peer --broker 127.0.0.1:61613 --agent 1001:secret:Ann:Lee
//! ```

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use scs_sim::desktop::{Desktop, Session};
use scs_sim::engine::{Contact, Engine};
use scs_sim::library::{default_library_path, Library};
use scs_sim::peer::{PeerAccess, PeerAgent, ScriptedPeer};
use scs_sim::server::AgentLogin;
use scs_sim::{CommServer, SimError};

const USAGE: &str = "usage:
  scs-sim [--lib PATH] --def FILE --profile NAME [--lang ENU] [--set Driver:Key=Value]...
          (--agent ID --pin PIN --dn EXT)... [--command NAME [--text TOOLBAR-TEXT]]... [--wait SECONDS]
          [--stdin] [--contacts CONTACTS.csv] [--activities ACTIVITIES.sqlite]
          [--http HOST:PORT [--finesse-admin URL] [--serve]]
          (--agent again: one more agent session; commands go to the first one;
           --http: the agent desktop, a web page per agent at http://HOST:PORT/agent/ID/;
           --finesse-admin: finesse-sim's base URL, for the page's phone network panel;
           --serve: after the commands, keep serving the desktop until killed)
          (--command NAME: a DEF command or a toolbar button, i.e. a group command such as
           SignOnGroup, ChangeBusyStateGroup, AcceptWorkGroup, ReleaseWorkGroup;
           --stdin: more from standard input, one per line:
           NAME [text] | press NAME [text] | wait S | quit
           | workitem TRACKING-ID: the agent picks a work item in the work-item list
             (WorkItemList, {@SelectedWorkItem:DriverWorkTrackID}; ResumeWorkItem without it)
           | pick NAME [ROW]: the picker NAME opens (SelectApplet): without ROW its rows
             are listed; ROW (a number from 1, or a value of the row) answers it)
  scs-sim peer [--broker HOST:PORT] [--queue /queue/siebelcti.requests] --agent ID:PIN:FIRST:LAST...
               [--login USER:PASSWORD] [--ca-file CA.pem (STOMP over TLS)] [--key-file SECURE.key]
  scs-sim --check [--lib PATH] --def FILE --profile NAME [--set Driver:Key=Value]...
          (the library loads, the DEF parses, has the profile, and the driver accepts its
           Driver: parameters; exit 0, or 2 with the reason)
  scs-sim --help | --version";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("scs-sim {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let result = if args.first().map(String::as_str) == Some("peer") {
        run_peer(&args[1..])
    } else {
        run_server(&args)
    };
    if let Err(e) = result {
        eprintln!("scs-sim: {e}");
        std::process::exit(2);
    }
}

fn value<'a>(args: &'a [String], i: &mut usize) -> Result<&'a str, SimError> {
    *i += 1;
    args.get(*i)
        .map(String::as_str)
        .ok_or_else(|| SimError(format!("{} needs a value\n{USAGE}", args[*i - 1])))
}

fn run_server(args: &[String]) -> Result<(), SimError> {
    let mut lib = default_library_path();
    let (mut def, mut profile, mut lang) = (None, None, "ENU".to_string());
    let mut logins: Vec<AgentLogin> = Vec::new();
    let mut http: Option<String> = None;
    let mut finesse_admin: Option<String> = None;
    let mut serve = false;
    let mut overrides = Vec::new();
    let mut commands = Vec::new();
    let mut wait = 3.0f64;
    let mut stdin_commands = false;
    let mut contacts_file: Option<PathBuf> = None;
    let mut activities: Option<PathBuf> = None;
    let mut check = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--lib" => lib = PathBuf::from(value(args, &mut i)?),
            "--def" => def = Some(PathBuf::from(value(args, &mut i)?)),
            "--profile" => profile = Some(value(args, &mut i)?.to_string()),
            "--lang" => lang = value(args, &mut i)?.to_string(),
            "--agent" => {
                let id = value(args, &mut i)?.to_string();
                logins.push(AgentLogin {
                    user: id.clone(),
                    agent_id: id,
                    ..AgentLogin::default()
                });
            }
            "--pin" | "--dn" => {
                let flag = args[i].clone();
                let v = value(args, &mut i)?.to_string();
                let login = logins
                    .last_mut()
                    .ok_or_else(|| SimError(format!("{flag} follows an --agent")))?;
                if flag == "--pin" {
                    login.pin = v;
                } else {
                    login.dn = v;
                }
            }
            "--http" => http = Some(value(args, &mut i)?.to_string()),
            "--finesse-admin" => finesse_admin = Some(value(args, &mut i)?.to_string()),
            "--serve" => serve = true,
            "--command" => commands.push((value(args, &mut i)?.to_string(), String::new())),
            "--text" => {
                // Text box content for the next --command ({@SelectedText}).
                let t = value(args, &mut i)?.to_string();
                match commands.last_mut() {
                    Some((_, text)) => *text = t,
                    None => return Err(SimError("--text follows a --command".into())),
                }
            }
            "--wait" => {
                wait = value(args, &mut i)?
                    .parse()
                    .map_err(|_| SimError("--wait takes seconds".into()))?
            }
            "--stdin" => stdin_commands = true,
            "--contacts" => contacts_file = Some(PathBuf::from(value(args, &mut i)?)),
            "--activities" => activities = Some(PathBuf::from(value(args, &mut i)?)),
            "--set" => {
                let kv = value(args, &mut i)?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| SimError(format!("--set {kv}: expected Key=Value")))?;
                overrides.push((k.to_string(), v.to_string()));
            }
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(SimError(format!("unknown argument {other}\n{USAGE}"))),
        }
        i += 1;
    }
    let def_path = def.ok_or_else(|| SimError(format!("--def is required\n{USAGE}")))?;
    let profile = profile.ok_or_else(|| SimError(format!("--profile is required\n{USAGE}")))?;
    if logins.is_empty() {
        logins.push(AgentLogin::default());
    }
    let library = Arc::new(Library::load(&lib)?);
    println!("loaded {}", library.path().display());
    let def = CommServer::read_def(&def_path)?;
    let contacts = match &contacts_file {
        Some(p) => read_contacts(p)?,
        None => Vec::new(),
    };
    let engine = Arc::new(Engine::new(def.clone(), contacts, activities.as_deref())?);
    let mut server = CommServer::from_def(library, def, &profile, &lang, &overrides)?;
    if check {
        println!("check passed: the library loads, profile {profile:?} is in the DEF and the driver accepts its parameters");
        return Ok(());
    }
    server.set_engine(engine.clone());
    println!("driver commands: {}", server.commands.join(", "));
    println!("driver events:   {}", server.events.join(", "));
    let desktop = match &http {
        Some(addr) => Some(Desktop::start(addr, finesse_admin)?),
        None => None,
    };
    let mut agents = Vec::new();
    for login in &logins {
        let agent = server.request_service(login, &[], true)?;
        agents.push(match &desktop {
            Some(d) => {
                println!(
                    "agent desktop of {}: {}",
                    login.agent_id,
                    d.agent_url(&login.agent_id)
                );
                CliSession::Desk(d.add(agent))
            }
            None => CliSession::Plain(Box::new(agent)),
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    let first = &mut agents[0];
    for (c, text) in &commands {
        first.run(c, text);
        std::thread::sleep(Duration::from_secs_f64(wait));
    }
    if stdin_commands {
        // One line each: `COMMAND [toolbar text]`, `wait SECONDS`, or `quit`.
        for line in std::io::stdin().lines() {
            let line = line.map_err(|e| SimError(format!("stdin: {e}")))?;
            let (word, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            match word {
                "" => {}
                "quit" => break,
                "wait" => {
                    std::thread::sleep(Duration::from_secs_f64(rest.trim().parse().unwrap_or(1.0)))
                }
                "press" => {
                    let (button, text) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
                    first.run(button, text.trim())
                }
                "workitem" => first.select_work_item(rest.trim()),
                "pick" => {
                    let (button, row) = rest.trim().split_once(' ').unwrap_or((rest.trim(), ""));
                    first.pick(button, row.trim())
                }
                command => first.run(command, rest.trim()),
            }
        }
    }
    if serve && desktop.is_some() {
        println!("serving the agent desktop until killed");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    for a in &mut agents {
        a.release();
    }
    for a in engine.activities()? {
        println!(
            "activity {}: {} {:?} contact {:?} call {} {:?}",
            a.id, a.activity_type, a.description, a.contact_id, a.tracking, a.after_work
        );
    }
    Ok(())
}

/// An agent session of the command line: on the desktop or not.
enum CliSession {
    Plain(Box<scs_sim::Agent>),
    Desk(Arc<Session>),
}

impl CliSession {
    /// Presses a button (or runs a command) with this text in the text box; prints what ran.
    fn run(&mut self, command: &str, text: &str) {
        let result = match self {
            CliSession::Plain(agent) => {
                agent.set_text(text);
                agent.press(command)
            }
            CliSession::Desk(s) => s.press(command, text),
        };
        match result {
            Ok(results) => {
                for i in results {
                    let via = if i.command == command {
                        String::new()
                    } else {
                        format!(" (button {command}: sub-command {})", i.command)
                    };
                    println!(
                        "InvokeCommand {} [{}] -> {}{via}",
                        i.device_command, i.tracking, i.result
                    );
                }
            }
            Err(e) => println!("command {command}: {e}"),
        }
    }

    /// The agent presses a command that opens a picker: lists its rows (`row` empty) or
    /// picks one (a number from 1, or a value of one of the row's fields) and runs it.
    fn pick(&mut self, command: &str, row: &str) {
        let picker = match self {
            CliSession::Plain(agent) => agent.picker(command),
            CliSession::Desk(s) => s.agent().picker(command),
        };
        let picker = match picker {
            Ok(Some(p)) => p,
            Ok(None) => return println!("command {command}: opens no picker now"),
            Err(e) => return println!("command {command}: {e}"),
        };
        println!("Picker {:?} ({} rows)", picker.title, picker.rows.len());
        for (i, r) in picker.rows.iter().enumerate() {
            println!("  {}. {}", i + 1, scs_sim::picker::label(r));
        }
        if row.is_empty() {
            return;
        }
        let index = row
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .or_else(|| {
                picker
                    .rows
                    .iter()
                    .position(|r| r.iter().any(|(_, v)| v.eq_ignore_ascii_case(row)))
            });
        let Some(index) = index else {
            return println!("command {command}: no row {row:?} in the picker");
        };
        let result = match self {
            CliSession::Plain(agent) => agent.press_picked(command, index),
            CliSession::Desk(s) => s.press_picked(command, index),
        };
        match result {
            Ok(results) => {
                for i in results {
                    println!(
                        "InvokeCommand {} [{}] -> {} (picked row {})",
                        i.device_command,
                        i.tracking,
                        i.result,
                        index + 1
                    );
                }
            }
            Err(e) => println!("command {command}: {e}"),
        }
    }

    /// The agent picks a work item in the toolbar's list.
    /// The agent picks a work item in the work-item list (`WorkItemList`).
    fn select_work_item(&mut self, tracking: &str) {
        let result = match self {
            CliSession::Plain(agent) => agent.select_work_item(tracking),
            CliSession::Desk(s) => s.agent().select_work_item(tracking),
        };
        match result {
            Ok(ran) => {
                for i in ran {
                    let line = format!("{} [{tracking}] -> {}", i.device_command, i.result);
                    if let CliSession::Desk(s) = self {
                        s.note(line.clone());
                    }
                    println!("{line}");
                }
            }
            Err(e) => println!("work item {tracking}: {e}"),
        }
    }

    fn release(&mut self) {
        match self {
            CliSession::Plain(agent) => agent.release(),
            CliSession::Desk(s) => s.agent().release(),
        };
    }
}

/// Reads a contact store: CSV lines `id,first name,last name,work phone,account id`.
fn read_contacts(path: &std::path::Path) -> Result<Vec<Contact>, SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SimError(format!("cannot read {}: {e}", path.display())))?;
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            match f.as_slice() {
                [id, first, last, phone, account] => Ok(Contact {
                    id: id.to_string(),
                    first_name: first.to_string(),
                    last_name: last.to_string(),
                    work_phone: phone.to_string(),
                    account_id: account.to_string(),
                }),
                _ => Err(SimError(format!(
                    "{}: bad contact line {l:?}",
                    path.display()
                ))),
            }
        })
        .collect()
}

fn run_peer(args: &[String]) -> Result<(), SimError> {
    let mut broker = "127.0.0.1:61613".to_string();
    let mut queue = driver::protocol::DEFAULT_REQUEST_QUEUE.to_string();
    let mut agents = HashMap::new();
    let mut access = PeerAccess::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--broker" => broker = value(args, &mut i)?.to_string(),
            "--login" => {
                let spec = value(args, &mut i)?;
                let (login, password) = spec
                    .split_once(':')
                    .ok_or_else(|| SimError("--login: expected USER:PASSWORD".to_string()))?;
                access.login = login.to_string();
                access.password = password.to_string();
            }
            "--ca-file" => access.ca_file = Some(value(args, &mut i)?.into()),
            "--key-file" => {
                let path = value(args, &mut i)?;
                let key = std::fs::read_to_string(path)
                    .map_err(|e| SimError(format!("--key-file {path}: {e}")))?;
                access.secure = Some(
                    driver::secure::TripleDes::from_hex("--key-file", key.trim(), "", "")
                        .map_err(|e| SimError(e.to_string()))?,
                );
            }
            "--queue" => queue = value(args, &mut i)?.to_string(),
            "--agent" => {
                let spec = value(args, &mut i)?;
                let p: Vec<&str> = spec.split(':').collect();
                if p.len() != 4 {
                    return Err(SimError(format!(
                        "--agent {spec}: expected ID:PIN:FIRST:LAST"
                    )));
                }
                agents.insert(
                    p[0].to_string(),
                    PeerAgent {
                        password: p[1].to_string(),
                        first_name: p[2].to_string(),
                        last_name: p[3].to_string(),
                    },
                );
            }
            other => return Err(SimError(format!("unknown argument {other}\n{USAGE}"))),
        }
        i += 1;
    }
    let addr = broker.parse().map_err(|_| {
        SimError(format!(
            "--broker {broker}: expected HOST:PORT (an IP address)"
        ))
    })?;
    let _peer = ScriptedPeer::start_with(addr, &access, &queue, agents)
        .map_err(|e| SimError(e.to_string()))?;
    println!("scripted peer serving {queue} on {broker}; Ctrl-C to stop");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
