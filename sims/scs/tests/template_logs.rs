//! The templates' activities for the calls the agent did not take from a queue: a campaign's
//! customer call is logged as outbound (its reservation call not at all), and the agent's own
//! consultation call is logged too.

use std::path::Path;

use scs_sim::engine::{Contact, Engine};
use scs_sim::CommServer;

fn engine(template: &str) -> Engine {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../def-templates")
        .join(template);
    let def = CommServer::read_def(&path).unwrap();
    let ann = Contact {
        id: "1-ANN".into(),
        first_name: "Ann".into(),
        last_name: "Archer".into(),
        work_phone: "5550100".into(),
        account_id: "1-ACC".into(),
    };
    Engine::new(def, vec![ann], None).unwrap()
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn campaign_calls_are_logged_as_outbound_and_reservations_not_at_all() {
    for t in ["ucce.def", "uccx.def"] {
        let e = engine(t);
        let ringing = |call_type: &str, tracking: &str| {
            e.handle_event(
                "EventRinging",
                &fields(&[
                    ("CallType", call_type),
                    ("Direction", "Inbound"),
                    ("ANI", "5550100"),
                    ("DialogId", tracking),
                ]),
                tracking,
            )
            .unwrap()
        };
        let reservation = ringing("OUTBOUND_RESERVATION", "d0");
        assert_eq!(reservation.handler, "CampaignReservation", "{t}");
        assert!(reservation.activities.is_empty(), "{t}");
        let campaign = ringing("OUTBOUND_PREVIEW", "d1");
        assert_eq!(campaign.handler, "CampaignCall", "{t}");
        let inbound = ringing("ACD_IN", "d2");
        assert_eq!(inbound.handler, "InboundCall", "{t}");
        let acts = e.activities().unwrap();
        assert_eq!(acts.len(), 2, "{t}: {acts:?}");
        let c = acts.iter().find(|a| a.tracking == "d1").unwrap();
        assert_eq!(c.activity_type, "Call - Outbound", "{t}");
        assert_eq!(c.description, "Campaign call to 5550100", "{t}");
        assert_eq!(c.contact_id, "1-ANN", "{t}");
        assert!(c.fields["Comment"].contains("OUTBOUND_PREVIEW"), "{t}");
        let i = acts.iter().find(|a| a.tracking == "d2").unwrap();
        assert_eq!(i.activity_type, "Call - Inbound", "{t}");
    }
}

#[test]
fn the_agents_own_consult_call_is_logged() {
    for t in ["ucce.def", "uccx.def"] {
        let e = engine(t);
        let out = e
            .handle_event(
                "EventDialing",
                &fields(&[
                    ("CallType", "CONSULT"),
                    ("Direction", "Outbound"),
                    ("ToAddress", "5002"),
                    ("DialogId", "c1"),
                    ("AssociatedDialogId", "d1"),
                ]),
                "c1",
            )
            .unwrap();
        assert_eq!(out.handler, "ConsultDialing", "{t}");
        assert!(out.pop.is_none(), "{t}: the customer's record stays");
        let acts = e.activities().unwrap();
        assert_eq!(acts.len(), 1, "{t}");
        assert_eq!(acts[0].activity_type, "Call - Outbound", "{t}");
        assert_eq!(acts[0].description, "Consultation call to 5002", "{t}");
        assert_eq!(acts[0].fields["Comment"], "Consultation for call d1", "{t}");
        assert_eq!(acts[0].contact_id, "", "{t}");
    }
}

#[test]
fn the_templates_pickers_are_read_with_every_select_key() {
    for t in ["ucce.def", "uccx.def"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../def-templates")
            .join(t);
        let def = CommServer::read_def(&path).unwrap();
        for (cmd, bus_comp, param) in [
            (
                "NotReadyWithReason",
                "List Of Values",
                ("ReasonCode", "[Code]"),
            ),
            (
                "SignOffPickReason",
                "List Of Values",
                ("ReasonCode", "[Code]"),
            ),
            (
                "WrapUpWithReason",
                "List Of Values",
                ("WrapUpReason", "[Name]"),
            ),
            (
                "ConsultTransferToEmployee",
                "Employee",
                ("PhoneNumber", "[Work Phone #]"),
            ),
            (
                "BlindTransferToEmployee",
                "Employee",
                ("PhoneNumber", "[Work Phone #]"),
            ),
            ("SendDTMFPad", "DTMF Key", ("Digits", "[Digit]")),
        ] {
            let c = def.command(cmd).unwrap();
            let d = def.command_data(c.cmd_data.as_deref().unwrap()).unwrap();
            assert!(
                d.select_applet.is_some() && d.select_title.is_some(),
                "{t} {cmd}"
            );
            assert_eq!(d.select_bus_comp.as_deref(), Some(bus_comp), "{t} {cmd}");
            assert_eq!(d.select_param.as_deref(), Some("TRUE"), "{t} {cmd}");
            assert!(
                d.params
                    .contains(&(param.0.to_string(), param.1.to_string())),
                "{t} {cmd}: {:?}",
                d.params
            );
        }
    }
}
