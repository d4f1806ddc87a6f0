//! `GET /events`: the connector's state document as server-sent events, each stream on its
//! own thread (at most [`MAX_STREAMS`]) until the browser goes away or the console stops.
//! The document is looked at every second and sent when it changed (clocks aside: the page
//! advances times in state and durations by itself); a comment line every 15 s otherwise
//! shows a browser that went away.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::document;
use crate::service::Shared;

/// Event streams open at most; beyond, a browser gets 503 and retries.
pub(super) const MAX_STREAMS: usize = 16;
/// How often a stream sends the document.
const EVERY: Duration = Duration::from_secs(1);
/// The browser's reconnection delay after a stream ends.
const RETRY_MS: u64 = 2000;
/// Looks without a change between two keep-alive comments.
const KEEPALIVE_EVERY: u32 = 15;

/// The open event streams.
pub(super) struct Streams {
    open: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
}

/// One event of the stream: the document on one `data:` line.
pub(super) fn event(doc: &serde_json::Value) -> String {
    // JSON text has no raw line breaks, so one `data:` line carries it.
    format!("event: state\ndata: {doc}\n\n")
}

/// What a stream sends after the document `doc` when it last sent `last`: the event when
/// the document changed (its clock fields aside), a keep-alive comment when `quiet` looks
/// passed without one, else nothing. Updates `last`.
pub(super) fn next(doc: &serde_json::Value, last: &mut String, quiet: &mut u32) -> Option<String> {
    let mut key = doc.clone();
    if let Some(o) = key.as_object_mut() {
        o.remove("nowMs");
        o.remove("uptimeSeconds");
    }
    let key = key.to_string();
    if key != *last {
        *last = key;
        *quiet = 0;
        return Some(event(doc));
    }
    *quiet += 1;
    if *quiet >= KEEPALIVE_EVERY {
        *quiet = 0;
        return Some(": keep-alive\n\n".into());
    }
    None
}

/// Releases a stream's slot when its thread ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Streams {
    pub(super) fn new(stopping: Arc<AtomicBool>) -> Streams {
        Streams {
            open: Arc::new(AtomicUsize::new(0)),
            stopping,
        }
    }

    /// Answers `req` with a stream on a thread of its own.
    pub(super) fn open(&self, req: tiny_http::Request, shared: Arc<Shared>) {
        if self.open.fetch_add(1, Ordering::AcqRel) >= MAX_STREAMS {
            self.open.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!("monitor: {MAX_STREAMS} event streams open; one more refused");
            let _ = req.respond(
                tiny_http::Response::from_string("too many streams").with_status_code(503),
            );
            return;
        }
        let slot = Slot(self.open.clone());
        let stopping = self.stopping.clone();
        let spawned = std::thread::Builder::new()
            .name("connector-monitor-events".into())
            .spawn(move || {
                let _slot = slot;
                let mut out = req.into_writer();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
                     Cache-Control: no-store\r\nConnection: close\r\n\r\nretry: {RETRY_MS}\n\n"
                );
                if out.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let (mut last, mut quiet) = (String::new(), 0);
                while !stopping.load(Ordering::Acquire) {
                    let doc = document::health(&shared);
                    if let Some(ev) = next(&doc, &mut last, &mut quiet) {
                        if out
                            .write_all(ev.as_bytes())
                            .and_then(|()| out.flush())
                            .is_err()
                        {
                            return; // The browser went away.
                        }
                    }
                    // Sleep in steps so a stopping console ends its streams at once.
                    for _ in 0..10 {
                        if stopping.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::sleep(EVERY / 10);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("monitor: cannot start an event stream: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_data_line_even_with_line_breaks_in_texts() {
        let doc = serde_json::json!({"events": [{"text": "two\nlines"}]});
        let ev = event(&doc);
        assert!(ev.starts_with("event: state\ndata: {"));
        assert!(ev.ends_with("}\n\n"));
        assert_eq!(ev.matches('\n').count(), 3, "{ev}");
        let data = ev.lines().nth(1).unwrap().strip_prefix("data: ").unwrap();
        let back: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn the_document_goes_when_it_changed_and_a_keep_alive_when_quiet() {
        let (mut last, mut quiet) = (String::new(), 0);
        let doc = |now: u64, state: &str| serde_json::json!({"nowMs": now, "uptimeSeconds": now / 1000, "agents": [{"state": state}]});
        assert!(
            next(&doc(1000, "READY"), &mut last, &mut quiet).is_some_and(|e| e.contains("READY"))
        );
        for i in 1..KEEPALIVE_EVERY {
            assert_eq!(
                next(
                    &doc(1000 + u64::from(i) * 1000, "READY"),
                    &mut last,
                    &mut quiet
                ),
                None
            );
        }
        assert_eq!(
            next(&doc(99_000, "READY"), &mut last, &mut quiet).as_deref(),
            Some(": keep-alive\n\n")
        );
        let changed = next(&doc(100_000, "TALKING"), &mut last, &mut quiet).unwrap();
        assert!(
            changed.contains("TALKING") && changed.contains("100000"),
            "{changed}"
        );
    }
}
