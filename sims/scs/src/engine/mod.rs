//! Siebel's event handler / event response engine, as scs-sim reproduces it: a device event
//! is matched to the DEF's event handlers (DeviceEvent, every Filter.X with `*`/`?` wildcards,
//! lowest Order wins), its event response queries a small contact store, pops the single
//! match, the list for several, or the find dialog for none, and runs the matching event log
//! (SingleLog / MultiLog / Log), which writes a phone call activity into SQLite. When the
//! work item ends, the log's AfterWork fields are written to the same activities.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

use crate::def::{self, Def, EventHandler};
use crate::server::SimError;

mod activities;

/// A contact of the store the event responses query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// Row id (`Id`).
    pub id: String,
    /// `First Name`.
    pub first_name: String,
    /// `Last Name`.
    pub last_name: String,
    /// `Work Phone #`.
    pub work_phone: String,
    /// `Account Id`.
    pub account_id: String,
}

impl Contact {
    /// A field by its Siebel name.
    pub fn field(&self, name: &str) -> Option<&str> {
        Some(
            match name.trim().trim_matches('\'').to_ascii_lowercase().as_str() {
                "id" | "row id" => &self.id,
                "first name" => &self.first_name,
                "last name" => &self.last_name,
                "work phone #" | "work phone" => &self.work_phone,
                "account id" => &self.account_id,
                _ => return None,
            },
        )
    }
}

/// What the agent's screen showed for an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pop {
    /// One record: its view and id.
    Single {
        /// The view (SingleView).
        view: String,
        /// The record's id.
        id: String,
    },
    /// Several records: the list view and their ids.
    Multi {
        /// The view (MultiView).
        view: String,
        /// The records' ids.
        ids: Vec<String>,
    },
    /// No record: the find dialog with its prefilled fields.
    Find {
        /// The find object (FindDialog).
        dialog: String,
        /// FindField.X values.
        fields: Vec<(String, String)>,
    },
}

/// One run of an event response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The winning event handler.
    pub handler: String,
    /// The event response.
    pub response: String,
    /// The work item (tracking id) it ran for.
    pub tracking: String,
    /// The screen pop, if the response queries.
    pub pop: Option<Pop>,
    /// The ids of the activities written.
    pub activities: Vec<i64>,
    /// The communication dashboard's fields this response set (its `ServiceMethod` is
    /// [`DASHBOARD_METHOD`]); empty when it set none.
    pub dashboard: Vec<(String, String)>,
}

/// A phone call activity as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    /// Row id.
    pub id: i64,
    /// The work item's tracking id.
    pub tracking: String,
    /// The event log that wrote it.
    pub event_log: String,
    /// `Type` (e.g. Call - Inbound).
    pub activity_type: String,
    /// `Description`.
    pub description: String,
    /// The contact it is linked to (empty: none).
    pub contact_id: String,
    /// Every LogField, expanded.
    pub fields: BTreeMap<String, String>,
    /// The AfterWork fields, once the call ended.
    pub after_work: BTreeMap<String, String>,
}

struct Work {
    start: u64,
    activities: Vec<(i64, String)>,
    fields: Vec<(String, String)>,
}

/// The business service and method an event response calls to fill the communication
/// (customer) dashboard; its `ServiceParam.X` values, expanded from the event, become the
/// dashboard's fields.
pub const DASHBOARD_METHOD: &str = "Persistent Customer Dashboard.Update Dashboard from CTI";

/// How many event response outcomes the engine keeps for inspection.
pub const MAX_OUTCOMES: usize = 10_000;

/// The engine of one simulated Communications Server.
pub struct Engine {
    def: Def,
    contacts: Vec<Contact>,
    db: Mutex<Connection>,
    outcomes: Mutex<Vec<Outcome>>,
    work: Mutex<HashMap<String, Work>>,
    dashboard: Mutex<Vec<(String, String)>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2026-11-26 10:00:00` from seconds since the epoch (UTC), as Siebel shows dates.
fn datetime(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Siebel's wildcard match: `*` any run, `?` one character; case-insensitive.
pub fn wildcard(pattern: &str, value: &str) -> bool {
    fn go(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| go(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && go(rest, &v[1..]),
            Some((c, rest)) => {
                v.first()
                    .is_some_and(|x| x.to_lowercase().eq(c.to_lowercase()))
                    && go(rest, &v[1..])
            }
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    go(&p, &v)
}

/// The `field = value` conditions of a query spec like `'Work Phone #'='4085551234'` or
/// `[Id]='1-ABC' AND [Last Name]='Lee'`.
pub fn conditions(spec: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for part in spec.split(" AND ").map(str::trim).filter(|p| !p.is_empty()) {
        let (field, value) = part
            .split_once('=')
            .ok_or_else(|| format!("query spec part without '=': {part}"))?;
        let field = field
            .trim()
            .trim_start_matches(['[', '\''])
            .trim_end_matches([']', '\''])
            .to_string();
        let value = value.trim().trim_matches(['\'', '"']).to_string();
        out.push((field, value));
    }
    Ok(out)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Engine {
    /// An engine over a DEF, a contact store and a SQLite database (`None`: in memory).
    pub fn new(
        def: Def,
        contacts: Vec<Contact>,
        db_path: Option<&Path>,
    ) -> Result<Engine, SimError> {
        let db = match db_path {
            Some(p) => Connection::open(p),
            None => Connection::open_in_memory(),
        }
        .map_err(|e| SimError(format!("activity database: {e}")))?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS activities (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                tracking TEXT NOT NULL,
                event_log TEXT NOT NULL,
                type TEXT NOT NULL,
                description TEXT NOT NULL,
                contact_id TEXT NOT NULL,
                fields TEXT NOT NULL,
                after_work TEXT NOT NULL DEFAULT '{}',
                created TEXT NOT NULL
            );",
        )
        .map_err(|e| SimError(format!("activity database: {e}")))?;
        Ok(Engine {
            def,
            contacts,
            db: Mutex::new(db),
            outcomes: Mutex::new(Vec::new()),
            work: Mutex::new(HashMap::new()),
            dashboard: Mutex::new(Vec::new()),
        })
    }

    /// The handler that wins for this event: DeviceEvent matches, every filter matches,
    /// lowest Order (a handler without Order comes last).
    pub fn match_handler(&self, name: &str, fields: &[(String, String)]) -> Option<EventHandler> {
        self.def
            .event_handlers()
            .into_iter()
            .filter(|h| h.device_event.eq_ignore_ascii_case(name))
            .filter(|h| {
                h.filters
                    .iter()
                    .all(|(f, pattern)| wildcard(pattern, field(fields, f).unwrap_or("")))
            })
            .min_by_key(|h| h.order.unwrap_or(i64::MAX))
    }

    /// Runs the event response of a device event (what Siebel does on `HandleEvent`).
    pub fn handle_event(
        &self,
        name: &str,
        fields: &[(String, String)],
        tracking: &str,
    ) -> Option<Outcome> {
        let handler = self.match_handler(name, fields)?;
        let response_name = handler.response.clone()?;
        let response = self.def.event_response(&response_name)?;
        // Only a work item Siebel knows (IndicateNewWorkItem .. WorkItemReleased) keeps the
        // event's fields for its after-work.
        if let Some(w) = self
            .work
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(tracking)
        {
            w.fields = fields.to_vec();
        }
        let lookup = |name: &str| self.lookup(name, fields, tracking, None);
        // Step 1 of an event response: the business service method (the dashboard's).
        let mut dashboard = Vec::new();
        if let Some(section) = self.def.section("EventResponse", &response_name) {
            if section
                .get("ServiceMethod")
                .is_some_and(|m| m.eq_ignore_ascii_case(DASHBOARD_METHOD))
            {
                dashboard = section
                    .with_prefix("ServiceParam.")
                    .into_iter()
                    .map(|(k, v)| (k, def::expand(&v, lookup)))
                    .collect();
                *self.dashboard.lock().unwrap_or_else(|e| e.into_inner()) = dashboard.clone();
            }
        }
        let mut outcome = Outcome {
            handler: handler.name.clone(),
            response: response_name.clone(),
            tracking: tracking.to_string(),
            pop: None,
            activities: Vec::new(),
            dashboard,
        };
        let Some(spec) = response.query_spec.as_deref() else {
            self.remember(&outcome);
            return Some(outcome);
        };
        let spec = def::expand(spec, lookup);
        let matches: Vec<&Contact> = match conditions(&spec) {
            Ok(conds) if response.query_bus_comp.as_deref().unwrap_or("Contact") == "Contact" => {
                self.contacts
                    .iter()
                    .filter(|c| {
                        conds
                            .iter()
                            .all(|(f, v)| c.field(f).is_some_and(|x| !v.is_empty() && x == v))
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let (pop, log) = match matches.len() {
            1 => (
                response.single_view.clone().map(|view| Pop::Single {
                    view,
                    id: matches[0].id.clone(),
                }),
                response.single_log.clone(),
            ),
            0 => (
                response.find_dialog.clone().map(|dialog| Pop::Find {
                    dialog,
                    fields: response
                        .find_fields
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                def::expand(v, |n| self.lookup(n, fields, tracking, None)),
                            )
                        })
                        .collect(),
                }),
                response.log.clone(),
            ),
            _ => (
                response.multi_view.clone().map(|view| Pop::Multi {
                    view,
                    ids: matches.iter().map(|c| c.id.clone()).collect(),
                }),
                response.multi_log.clone(),
            ),
        };
        outcome.pop = pop;
        let contact = (matches.len() == 1).then(|| matches[0].clone());
        if let Some(log) = log {
            match self.write_log(&log, fields, tracking, contact.as_ref()) {
                Ok(Some(id)) => outcome.activities.push(id),
                Ok(None) => {}
                Err(e) => eprintln!("scs-sim: event log {log}: {e}"),
            }
        }
        self.remember(&outcome);
        Some(outcome)
    }

    /// Keeps the last [`MAX_OUTCOMES`] outcomes.
    fn remember(&self, outcome: &Outcome) {
        let mut o = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        if o.len() >= MAX_OUTCOMES {
            o.remove(0);
        }
        o.push(outcome.clone());
    }

    /// The value of `{name}` in DEF text: `@` macros, `Contact.X` of the popped record, or
    /// an event field.
    fn lookup(
        &self,
        name: &str,
        fields: &[(String, String)],
        tracking: &str,
        contact: Option<&Contact>,
    ) -> Option<String> {
        if let Some(m) = name.strip_prefix('@') {
            let start = self
                .work
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(tracking)
                .map(|w| w.start);
            return Some(match m.to_ascii_lowercase().as_str() {
                "now" => datetime(now_secs()),
                "workstarttime" => datetime(start.unwrap_or_else(now_secs)),
                "workduration" => now_secs()
                    .saturating_sub(start.unwrap_or_else(now_secs))
                    .to_string(),
                _ => return None,
            });
        }
        if let Some(f) = name.strip_prefix("Contact.") {
            return contact.and_then(|c| c.field(f)).map(str::to_string);
        }
        Some(field(fields, name).unwrap_or("").to_string())
    }

    /// A contact of the store by its id.
    pub fn contact(&self, id: &str) -> Option<Contact> {
        self.contacts.iter().find(|c| c.id == id).cloned()
    }

    /// The communication dashboard's fields, as the last event response filled them.
    pub fn dashboard(&self) -> Vec<(String, String)> {
        self.dashboard
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every event response run so far.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests;
