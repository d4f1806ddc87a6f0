//! A day in the life of an agent who only presses the standard toolbar's buttons (the
//! group commands of the DEF templates): scs-sim resolves each press to the first
//! sub-command the driver's last toolbar enables, through the real library, ActiveMQ, the
//! connector and finesse-sim.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use finesse_sim::Deployment;
use scs_sim::engine::{Contact, Engine};
use scs_sim::Invoked;
use serde_json::json;

use crate::chain::*;
use crate::common::*;

/// Presses `button` and checks it ran `command` (one sub-command, device `device`, OK).
fn press(agent: &mut scs_sim::Agent, button: &str, command: &str, device: &str) -> Invoked {
    let ran = agent
        .press(button)
        .unwrap_or_else(|e| panic!("{button}: {e}"));
    assert_eq!(ran.len(), 1, "{button}: {ran:?}");
    let i = ran.into_iter().next().unwrap();
    assert_eq!(
        (
            i.pressed.as_str(),
            i.command.as_str(),
            i.device_command.as_str(),
            i.result
        ),
        (button, command, device, 0),
        "{button}"
    );
    i
}

#[test]
fn agent_works_a_day_with_the_standard_toolbar_buttons_only() {
    let mut chain = Chain::start(Deployment::Ucce, 1);
    let db = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}.sqlite", unique("buttons")));
    let contacts = vec![Contact {
        id: "1-ANN".into(),
        first_name: "Ann".into(),
        last_name: "Archer".into(),
        work_phone: "4085551234".into(),
        account_id: "ACC-1".into(),
    }];
    let engine = Arc::new(Engine::new(template("ucce.def"), contacts, Some(&db)).unwrap());
    chain.server.set_engine(engine.clone());
    let id = chain.agents[0].id.clone();
    let mut agent = chain.session(0);
    let c = agent.client.clone();

    // Log In: SignOnGroup runs SignOn (LogIn with the agent's login data).
    let m = c.mark();
    press(&mut agent, "SignOnGroup", "SignOn", "LogIn");
    let ev = wait_event(&c, m, "EventAgentLogin");
    assert_eq!(ev.field("AgentId"), Some(id.as_str()));
    wait_event(&c, m, "EventAgentNotReady");
    wait_toolbar(&c, m, "ChangeReadyState", N);

    // Busy button while Not Ready: Not Ready is disabled, so it makes the agent Ready.
    let m = c.mark();
    press(
        &mut agent,
        "ChangeBusyStateGroup",
        "Ready",
        "ChangeReadyState",
    );
    wait_event(&c, m, "EventAgentReady");
    wait_toolbar(&c, m, "ChangeReadyState", N | D | C);

    // Answer with no call ringing: nothing to run, nothing sent to the driver.
    let m = c.mark();
    let e = agent.press("AcceptWorkGroup").unwrap_err().to_string();
    assert!(e.contains("AnswerCall is disabled"), "{e}");
    assert!(no_event_since(&c, m, "EventError"));

    // A call rings (the contact pops); Answer (blinking) answers it.
    let m = c.mark();
    let dialog = place(chain.sim(), &id, "4085551234", json!({}));
    wait_event(&c, m, "EventRinging");
    wait_toolbar(&c, m, "AnswerCall", N | B);
    let m = c.mark();
    press(&mut agent, "AcceptWorkGroup", "AnswerCall", "AnswerCall");
    wait_event(&c, m, "EventEstablished");
    wait_toolbar(&c, m, "HoldCall", N);
    assert_eq!(agent.current_work_item().as_deref(), Some(dialog.as_str()));

    // Hold and Resume.
    let m = c.mark();
    press(&mut agent, "SuspendWorkGroup", "HoldCall", "HoldCall");
    wait_event(&c, m, "EventHeld");
    wait_toolbar(&c, m, "RetrieveCall", N);
    let m = c.mark();
    press(
        &mut agent,
        "ResumeWorkGroup",
        "RetrieveCall",
        "RetrieveCall",
    );
    wait_event(&c, m, "EventRetrieved");
    wait_toolbar(&c, m, "HoldCall", N);

    // Release: the call ends, the work item is released, the activity is closed.
    let m = c.mark();
    press(&mut agent, "ReleaseWorkGroup", "ReleaseCall", "ReleaseCall");
    wait_event(&c, m, "EventReleased");
    wait_released(&c, m, &dialog);
    wait_event(&c, m, "EventAgentReady");
    wait_toolbar(&c, m, "ChangeReadyState", N | D | C);
    let acts = wait_until("the call's activity, closed", WAIT, || {
        let acts = engine.activities().unwrap();
        match acts.as_slice() {
            [a] if !a.after_work.is_empty() => Ok(acts),
            _ => Err(acts),
        }
    });
    assert_eq!(acts[0].contact_id, "1-ANN");
    assert_eq!(acts[0].tracking, dialog);

    // Busy button while Ready: Not Ready.
    let m = c.mark();
    press(
        &mut agent,
        "ChangeBusyStateGroup",
        "NotReady",
        "ChangeNotReadyState",
    );
    wait_event(&c, m, "EventAgentNotReady");
    wait_toolbar(&c, m, "LogOut", N | S);

    // Make Call with the contact selected and nothing typed: the contact's work phone.
    agent.select_record(&[("Id", "1-ANN"), ("Work Phone #", "4085551234")]);
    let m = c.mark();
    press(
        &mut agent,
        "InitiateWorkGroup",
        "MakeCallToContact",
        "MakeCall",
    );
    let dialing = wait_event(&c, m, "EventDialing");
    assert_eq!(dialing.field("ToAddress"), Some("4085551234"));
    let out = dialing.field("DialogId").unwrap().to_string();
    far_end_answers(chain.sim(), &out);
    wait_event(&c, m, "EventEstablished");
    wait_toolbar(&c, m, "HoldCall", N);
    let m = c.mark();
    press(&mut agent, "ReleaseWorkGroup", "ReleaseCall", "ReleaseCall");
    wait_released(&c, m, &out);
    wait_toolbar(&c, m, "LogOut", N | S);

    // Log Out.
    let m = c.mark();
    press(&mut agent, "SignOffGroup", "SignOff", "LogOut");
    wait_event(&c, m, "EventAgentLogout");
    wait_toolbar(&c, m, "LogIn", N);
}

#[test]
fn consultative_transfer_button_consults_then_completes() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    let (original, _) = ring_and_answer(chain.sim(), &mut agent, &id, "4085551234");
    wait_toolbar(&c, 0, "InitTransfer", N | S);

    // Nothing typed: Init... needs the edit box, Complete... is disabled.
    let e = agent
        .press("ConsultativeTransferGroup")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("CompleteTransfer is disabled") && e.contains("edit box is empty"),
        "{e}"
    );
    // First press with a number typed: the consultation call.
    agent.set_text("5552000");
    let m = c.mark();
    press(
        &mut agent,
        "ConsultativeTransferGroup",
        "InitTransfer",
        "InitTransfer",
    );
    wait_event(&c, m, "EventHeld");
    let consult = wait_event(&c, m, "EventDialing")
        .field("DialogId")
        .unwrap()
        .to_string();
    far_end_answers(chain.sim(), &consult);
    wait_event(&c, m, "EventEstablished");
    wait_toolbar(&c, m, "CompleteTransfer", N);
    // Second press: the transfer.
    let m = c.mark();
    press(
        &mut agent,
        "ConsultativeTransferGroup",
        "CompleteTransfer",
        "CompleteTransfer",
    );
    for d in [&original, &consult] {
        wait_released(&c, m, d);
    }
}

#[test]
fn reset_reads_the_state_again_and_forward_transfers_the_call_in_one_step() {
    let chain = Chain::start(Deployment::Ucce, 1);
    let id = chain.agents[0].id.clone();
    let mut agent = logged_in(&chain, 0, true);
    let c = agent.client.clone();
    // Reset: the agent's state is read from Finesse again and raised anew.
    let m = c.mark();
    press(&mut agent, "ResetStateGroup", "ResetState", "ResetState");
    wait_status(
        &c,
        m,
        "Reading your state and calls from the contact center again...",
    );
    wait_event(&c, m, "EventAgentReady");
    wait_status(&c, m, "State: Ready.");

    // Forward: the call goes in one step to the number typed (single-step transfer).
    let (dialog, _) = ring_and_answer(chain.sim(), &mut agent, &id, "4085551234");
    wait_toolbar(&c, 0, "TransferMute", N | S);
    agent.set_text("5552000");
    let m = c.mark();
    press(
        &mut agent,
        "ForwardWorkGroup",
        "TransferMute",
        "TransferMute",
    );
    wait_released(&c, m, &dialog);
}

#[test]
fn scs_sim_presses_buttons_from_the_command_line_and_stdin() {
    let (_peer, queue) = peer();
    let exe = scs_sim::library::default_library_path().with_file_name("scs-sim");
    assert!(
        exe.exists(),
        "{} (cargo build --workspace first)",
        exe.display()
    );
    // The suite's broker access (credentials, TLS, secure key) as --set parameters.
    let sets: Vec<String> = BrokerAccess::shared()
        .driver_params(&queue)
        .into_iter()
        .flat_map(|(k, v)| ["--set".to_string(), format!("{k}={v}")])
        .collect();
    let mut child = Command::new(&exe)
        .args(["--def", "def-templates/ucce.def", "--profile", "Cisco UCCE"])
        .args(["--agent", "1001", "--pin", "secret", "--dn", "5001"])
        .args(&sets)
        .args(["--wait", "1", "--command", "SignOnGroup", "--stdin"])
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"press ChangeBusyStateGroup\nwait 1\nChangeBusyStateGroup\nwait 1\nAcceptWorkGroup\npick SignOffPickReason\npick SignOffPickReason 1\npick AcceptWorkGroup\nworkitem no-such-call\nwait 1\nquit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "(button SignOnGroup: sub-command SignOn)",
        "Event EventAgentLogin:",
        "(button ChangeBusyStateGroup: sub-command Ready)",
        "Event EventAgentReady:",
        "(button ChangeBusyStateGroup: sub-command NotReady)",
        "command AcceptWorkGroup: button \"AcceptWorkGroup\": no sub-command is available now: AnswerCall: AnswerCall is disabled",
        // The logout reason picker (no reason codes from this peer: an empty list).
        "Picker \"Log out reason\" (0 rows)",
        "command SignOffPickReason: picker \"Log out reason\" has 0 rows, no row 1",
        "command AcceptWorkGroup: opens no picker now",
        // The work-item list (WorkItemList -> SetCurrentWorkItem) with a work item the
        // driver does not have: refused in plain words.
        "SetCurrentWorkItem [no-such-call] -> 0",
        "Status line: There is no call to do this on.",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
    let ready = stdout.find("EventAgentReady").unwrap();
    let not_ready = stdout
        .find("(button ChangeBusyStateGroup: sub-command NotReady)")
        .unwrap();
    assert!(ready < not_ready, "{stdout}");
}
