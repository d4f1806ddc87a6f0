//! One log record as a line: readable text (`TIME LEVEL thread target: message key=value`)
//! or one JSON object per line.

use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level};

/// How records are written (`Driver:LogFormat`, `log.format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line a record.
    #[default]
    Text,
    /// One JSON object a line (`time`, `level`, `target`, `thread`, `message`, fields).
    Json,
}

impl LogFormat {
    /// Parses `text` or `json` (case-insensitive).
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "" => Some(LogFormat::Text),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

/// What a record says, taken from a `tracing` event or given directly.
#[derive(Debug, Default)]
pub struct Record {
    /// The message.
    pub message: String,
    /// Further fields, in order.
    pub fields: Vec<(String, String)>,
}

impl Visit for Record {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields
                .push((field.name().to_string(), value.to_string()));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields
                .push((field.name().to_string(), format!("{value:?}")));
        }
    }
}

impl Record {
    /// The fields of an event.
    pub fn of(event: &Event<'_>) -> Record {
        let mut r = Record::default();
        event.record(&mut r);
        r
    }
}

/// The line for a record (ending in a newline).
pub fn line(
    format: LogFormat,
    time: SystemTime,
    level: &Level,
    target: &str,
    thread: &str,
    record: &Record,
) -> String {
    let time = rfc3339(time);
    match format {
        LogFormat::Text => {
            let mut s = format!("{time} {level:>5} {thread} {target}: {}", record.message);
            for (k, v) in &record.fields {
                let _ = write!(s, " {k}={}", quoted(v));
            }
            s.push('\n');
            s
        }
        LogFormat::Json => {
            let mut m = serde_json::Map::new();
            m.insert("time".into(), time.into());
            m.insert("level".into(), level.as_str().into());
            m.insert("target".into(), target.into());
            m.insert("thread".into(), thread.into());
            m.insert("message".into(), record.message.clone().into());
            for (k, v) in &record.fields {
                m.insert(k.clone(), v.clone().into());
            }
            let mut s = serde_json::Value::Object(m).to_string();
            s.push('\n');
            s
        }
    }
}

/// A value as `key=value` shows it: quoted when it holds a space, a quote or nothing.
fn quoted(v: &str) -> String {
    if v.is_empty() || v.contains([' ', '"', '=']) {
        format!("{v:?}")
    } else {
        v.to_string()
    }
}

/// UTC time as `2026-11-27T17:01:02.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(ms)
    }

    #[test]
    fn utc_times() {
        assert_eq!(rfc3339(at(0, 0)), "1970-01-01T00:00:00.000Z");
        // 2024-02-29 (a leap day) 23:59:59.5
        assert_eq!(rfc3339(at(1_709_251_199, 500)), "2024-02-29T23:59:59.500Z");
        assert_eq!(rfc3339(at(1_798_761_600, 7)), "2027-01-01T00:00:00.007Z");
    }

    #[test]
    fn text_and_json_lines() {
        let r = Record {
            message: "connector starting".into(),
            fields: vec![
                ("broker".into(), "tls://mq:61614".into()),
                ("node".into(), "two words".into()),
            ],
        };
        let t = line(
            LogFormat::Text,
            at(0, 0),
            &Level::WARN,
            "connector",
            "main",
            &r,
        );
        assert_eq!(
            t,
            "1970-01-01T00:00:00.000Z  WARN main connector: connector starting \
             broker=tls://mq:61614 node=\"two words\"\n"
        );
        let j = line(LogFormat::Json, at(0, 0), &Level::INFO, "c", "t", &r);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["message"], "connector starting");
        assert_eq!(v["node"], "two words");
        assert_eq!(v["time"], "1970-01-01T00:00:00.000Z");
        assert!(j.ends_with("}\n") && j.matches('\n').count() == 1);
    }

    #[test]
    fn formats_parse() {
        assert_eq!(LogFormat::parse("JSON"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("text"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("xml"), None);
    }
}
