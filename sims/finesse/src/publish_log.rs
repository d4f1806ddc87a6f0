//! The publish log, a side channel for benchmarks: with `FINESSE_SIM_PUBLISH_LOG=FILE` set,
//! the publisher appends one line per notification it published, so that a benchmark can
//! measure the time from a Finesse event to its arrival in Siebel:
//! `SENT<TAB>NODE<TAB>EVENT<TAB>ID<TAB>QUEUED`, where SENT is when the publish was sent and
//! QUEUED when the simulated event queued it (microseconds since the Unix epoch), EVENT the
//! `<Update>`'s `<event>` (POST, PUT, DELETE) and ID the first `<id>` of its data (the
//! dialog's id in a dialog update; `-` when there is none).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::warn;

use crate::state::Publish;

/// The environment variable naming the log file.
pub const ENV: &str = "FINESSE_SIM_PUBLISH_LOG";

/// An open publish log.
pub struct PublishLog {
    out: BufWriter<File>,
}

impl PublishLog {
    /// The log `FINESSE_SIM_PUBLISH_LOG` names (created or appended to), or `None` when unset.
    pub fn from_env() -> Result<Option<PublishLog>, String> {
        let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let file = File::options()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("{ENV}={}: {e}", path.to_string_lossy()))?;
        Ok(Some(PublishLog {
            out: BufWriter::new(file),
        }))
    }

    /// Records that `p`, queued at `queued`, was sent at `at` (buffered).
    pub fn record(&mut self, at: SystemTime, queued: SystemTime, p: &Publish) {
        if let Err(e) = writeln!(self.out, "{}", line(at, queued, p)) {
            warn!(error = %e, "writing the publish log");
        }
    }

    /// Writes the buffered lines out if `flush` (the publisher does when nothing is queued).
    pub fn flush_if(&mut self, flush: bool) {
        if flush {
            if let Err(e) = self.out.flush() {
                warn!(error = %e, "writing the publish log");
            }
        }
    }
}

/// One line of the log.
pub fn line(at: SystemTime, queued: SystemTime, p: &Publish) -> String {
    let micros = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_micros();
    let after_data = p.update.rfind("</data>").unwrap_or(0);
    let event = element_text(&p.update[after_data..], "event").unwrap_or("-");
    let id = p
        .update
        .find("<data>")
        .and_then(|data| element_text(&p.update[data..], "id"))
        .unwrap_or("-");
    format!(
        "{}\t{}\t{event}\t{id}\t{}",
        micros(at),
        p.node,
        micros(queued)
    )
}

/// The text of the first `<name>` element of `xml` (no attributes, no markup inside).
fn element_text<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find('<')?;
    Some(&xml[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_line_names_the_time_node_event_and_dialog() {
        let p = Publish {
            node: "/finesse/api/User/1001/Dialogs".into(),
            update: "<Update><data><dialogs><Dialog><associatedDialogUri/><id>77</id>\
                     </Dialog></dialogs></data><event>POST</event><requestId/></Update>"
                .into(),
        };
        let queued = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_000);
        let at = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(
            line(at, queued, &p),
            "1700000000123456\t/finesse/api/User/1001/Dialogs\tPOST\t77\t1700000000123000"
        );
        let user = Publish {
            node: "/finesse/api/User/1001".into(),
            update:
                "<Update><data><user><state>READY</state></user></data><event>PUT</event></Update>"
                    .into(),
        };
        assert!(line(at, queued, &user).contains("\tPUT\t-\t"));
    }
}
