//! The connector's Finesse document readers (`connector::xml`): the element tree, then every
//! reader on it — User, Dialog(s), ReasonCodes, SystemInfo, ApiErrors — and the notification
//! `Update` envelope. A document from Finesse either reads or is refused, never panics.
#![no_main]

use connector::xml::{self, Element};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(e) = Element::parse(text) {
        let _ = xml::user_info(&e);
        if let Some(u) = e.child("user") {
            let _ = xml::user_info(u);
        }
        let _ = xml::reason_codes(&e);
        let _ = xml::api_error(&e);
        let _ = xml::system_info(&e);
        for d in xml::dialogs(&e) {
            let _ = xml::dialog_info(d, "1001", "5001");
            let ext = d.text_of("toAddress").unwrap_or_default();
            let _ = xml::dialog_info(d, "1001", &ext);
        }
        let _ = xml::agent_state(&e.text);
        let _ = e.path(&["data", "dialogs"]);
        let _ = xml::escape(&e.text);
    }
    if let Ok(xml::Update::Dialogs { dialogs, .. }) = xml::update(text) {
        for d in &dialogs {
            let _ = xml::dialog_info(d, "1001", "5001");
        }
    }
    // What the connector writes into its own requests reads back as the same text.
    let escaped = format!("<a>{}</a>", xml::escape(text));
    if let Ok(e) = Element::parse(&escaped) {
        assert_eq!(e.text, text, "escape/parse changed the text");
    }
});
