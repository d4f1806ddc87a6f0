//! Phone call activities: the event log writes them into SQLite, the end of the work item
//! completes them with the log's AfterWork fields.

use std::collections::BTreeMap;

use rusqlite::params;

use crate::def;
use crate::server::SimError;

use super::{datetime, now_secs, Activity, Contact, Engine, Work};

impl Engine {
    pub(super) fn write_log(
        &self,
        log: &str,
        fields: &[(String, String)],
        tracking: &str,
        contact: Option<&Contact>,
    ) -> Result<Option<i64>, String> {
        let Some(l) = self.def.event_log(log) else {
            return Err("no such event log".into());
        };
        let values: BTreeMap<String, String> = l
            .log_fields
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    def::expand(v, |n| self.lookup(n, fields, tracking, contact)),
                )
            })
            .collect();
        let get = |k: &str| {
            values
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let contact_id = contact.map(|c| c.id.clone()).unwrap_or_default();
        let json = serde_json::to_string(&values).map_err(|e| e.to_string())?;
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        db.execute(
            "INSERT INTO activities (tracking, event_log, type, description, contact_id, fields, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                tracking,
                log,
                get("Type"),
                get("Description"),
                contact_id,
                json,
                datetime(now_secs())
            ],
        )
        .map_err(|e| e.to_string())?;
        let id = db.last_insert_rowid();
        drop(db);
        if let Some(w) = self
            .work
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(tracking)
        {
            w.activities.push((id, log.to_string()));
        }
        Ok(Some(id))
    }

    /// `IndicateNewWorkItem`: a work item begins.
    pub fn work_new(&self, tracking: &str) {
        self.work
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(tracking.to_string())
            .or_insert(Work {
                start: now_secs(),
                activities: Vec::new(),
                fields: Vec::new(),
            });
    }

    /// `WorkItemStarted`: the phone call timer starts now.
    pub fn work_started(&self, tracking: &str, start: i64) {
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let w = work.entry(tracking.to_string()).or_insert(Work {
            start: 0,
            activities: Vec::new(),
            fields: Vec::new(),
        });
        w.start = u64::try_from(start).unwrap_or_else(|_| now_secs());
    }

    /// `WorkItemReleased`: writes the AfterWork fields of the work item's activities.
    pub fn work_released(&self, tracking: &str) {
        let Some(w) = self
            .work
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(tracking)
            .map(|w| (w.activities.clone(), w.fields.clone()))
        else {
            return;
        };
        let (activities, fields) = w;
        for (id, log) in activities {
            let Some(l) = self.def.event_log(&log) else {
                continue;
            };
            let after: BTreeMap<String, String> = l
                .after_work
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        def::expand(v, |n| self.lookup(n, &fields, tracking, None)),
                    )
                })
                .collect();
            let json = serde_json::to_string(&after).unwrap_or_default();
            let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = db.execute(
                "UPDATE activities SET after_work = ?1 WHERE id = ?2",
                params![json, id],
            ) {
                eprintln!("scs-sim: after-work of activity {id}: {e}");
            }
        }
        self.work
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(tracking);
    }

    /// The activities stored, oldest first.
    pub fn activities(&self) -> Result<Vec<Activity>, SimError> {
        let db = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = db
            .prepare(
                "SELECT id, tracking, event_log, type, description, contact_id, fields, after_work
                 FROM activities ORDER BY id",
            )
            .map_err(|e| SimError(e.to_string()))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Activity {
                    id: r.get(0)?,
                    tracking: r.get(1)?,
                    event_log: r.get(2)?,
                    activity_type: r.get(3)?,
                    description: r.get(4)?,
                    contact_id: r.get(5)?,
                    fields: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
                    after_work: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                })
            })
            .map_err(|e| SimError(e.to_string()))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| SimError(e.to_string()))
    }
}
