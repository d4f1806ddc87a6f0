//! A supervisor's dialogs: SILENT_MONITOR and BARGE_CALL (Cisco's "Dialog—Make a Silent
//! Monitor Call" and "Dialog—Start a Barge Call").

use super::{escape, safe_id, user_url, Credentials, Rest, RestError};

/// The body of a supervisor's `POST /User/{id}/Dialogs`: `SILENT_MONITOR` (the supervisor's
/// extension `from`, the agent's `to`) or `BARGE_CALL` (also the monitoring dialog).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupervisorDialog {
    /// `SILENT_MONITOR` or `BARGE_CALL`.
    pub action: String,
    /// The supervisor's extension (`fromAddress`).
    pub from: String,
    /// The monitored agent's extension (`toAddress`).
    pub to: String,
    /// The supervisor's monitoring dialog (`associatedDialogUri`, BARGE_CALL).
    pub monitoring: Option<String>,
}

impl SupervisorDialog {
    /// The XML body.
    pub fn xml(&self) -> String {
        let mut s = format!(
            "<Dialog><requestedAction>{}</requestedAction><fromAddress>{}</fromAddress><toAddress>{}</toAddress>",
            escape(&self.action),
            escape(&self.from),
            escape(&self.to)
        );
        if let Some(d) = &self.monitoring {
            s.push_str(&format!(
                "<associatedDialogUri>/finesse/api/Dialog/{}</associatedDialogUri>",
                safe_id(d)
            ));
        }
        s.push_str("</Dialog>");
        s
    }
}

impl Rest {
    /// `POST /User/{id}/Dialogs` by a supervisor: SILENT_MONITOR or BARGE_CALL (202 expected).
    pub fn supervise(
        &self,
        base: &str,
        id: &str,
        creds: &Credentials,
        body: &SupervisorDialog,
        request_id: &str,
    ) -> Result<(), RestError> {
        let url = format!("{}/Dialogs", user_url(base, id));
        self.call(
            "POST",
            &url,
            Some(creds),
            Some(&body.xml()),
            Some(request_id),
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barge_names_the_monitoring_dialog() {
        let body = SupervisorDialog {
            action: "BARGE_CALL".into(),
            from: "5009".into(),
            to: "5001".into(),
            monitoring: Some("12".into()),
        }
        .xml();
        assert_eq!(
            body,
            "<Dialog><requestedAction>BARGE_CALL</requestedAction><fromAddress>5009</fromAddress>\
             <toAddress>5001</toAddress><associatedDialogUri>/finesse/api/Dialog/12\
             </associatedDialogUri></Dialog>"
        );
    }
}
