//! Logs: each driver instance (and the connector) opens a [`Log`] of its own: a file with a
//! size cap and rotation ([`rotate`]), or standard error, at its own level, as text or JSON
//! ([`format`]). One `tracing` subscriber per process routes each record to the log of the
//! instance whose thread wrote it: the instance's link thread is bound to its log, and calls
//! from the host enter it for their duration ([`Log::enter`]). Records of threads bound to
//! no log go to the log opened first. Two instances naming the same file share it, each at
//! its own level. `SetLogLevel` changes the level of the log of the instance that ran it.

pub mod format;
pub mod rotate;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once, RwLock};
use std::time::SystemTime;

use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Registry;

pub use format::LogFormat;
use format::Record;
use rotate::RotatingFile;

use crate::config::LogLevel;

/// Where and how one log is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// The file (`None`: standard error).
    pub file: Option<PathBuf>,
    /// The most verbose level written.
    pub level: LogLevel,
    /// Size cap in KiB (0: none): past it the file is rotated.
    pub max_kb: u64,
    /// Older files kept on rotation (0: the file is emptied, as Siebel's `MaxLogKB`).
    pub keep: u32,
    /// Text or JSON lines.
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            file: None,
            level: LogLevel::Info,
            max_kb: 10_240,
            keep: 5,
            format: LogFormat::Text,
        }
    }
}

/// The log file could not be opened (or reopened); records go to standard error instead.
#[derive(Debug)]
pub struct LogFileError {
    /// The file.
    pub path: PathBuf,
    /// Why it could not be opened.
    pub source: std::io::Error,
}

impl std::fmt::Display for LogFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot open log file {}: {}",
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for LogFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

enum Output {
    Stderr,
    File(RotatingFile),
}

impl Output {
    fn write(&mut self, line: &str) {
        use std::io::Write;
        match self {
            Output::Stderr => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
            Output::File(f) => {
                if let Err(e) = f.write_record(line.as_bytes()) {
                    let _ = writeln!(
                        std::io::stderr(),
                        "siebel-cti: log file {}: {e}; the record: {}",
                        f.path().display(),
                        line.trim_end()
                    );
                }
            }
        }
    }
}

struct Sink {
    id: u64,
    level: AtomicU8,
    format: LogFormat,
    file: Option<PathBuf>,
    out: Arc<Mutex<Output>>,
}

static SINKS: RwLock<Vec<Arc<Sink>>> = RwLock::new(Vec::new());
/// The most verbose level of any open log (a quick test before routing).
static MAX: AtomicU8 = AtomicU8::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static INSTALL: Once = Once::new();

thread_local! {
    /// The log this thread's records go to (0: the first opened).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

fn rank(level: LogLevel) -> u8 {
    match level {
        LogLevel::Off => 0,
        LogLevel::Error => 1,
        LogLevel::Warn => 2,
        LogLevel::Info => 3,
        LogLevel::Debug => 4,
        LogLevel::Trace => 5,
    }
}

fn level_rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn sinks() -> std::sync::RwLockReadGuard<'static, Vec<Arc<Sink>>> {
    SINKS.read().unwrap_or_else(|e| e.into_inner())
}

fn sinks_mut() -> std::sync::RwLockWriteGuard<'static, Vec<Arc<Sink>>> {
    SINKS.write().unwrap_or_else(|e| e.into_inner())
}

fn update_max(all: &[Arc<Sink>]) {
    let max = all
        .iter()
        .map(|s| s.level.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    MAX.store(max, Ordering::Relaxed);
}

/// The log of the calling thread.
fn current_sink() -> Option<Arc<Sink>> {
    let id = CURRENT.try_with(Cell::get).unwrap_or(0);
    let all = sinks();
    all.iter()
        .find(|s| s.id == id)
        .or_else(|| all.first())
        .cloned()
}

/// Routes each event to its thread's log.
struct Router;

impl<S: Subscriber> Layer<S> for Router {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        // Levels change at run time (per log): ask `enabled` every time.
        Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        !meta.is_span() && level_rank(meta.level()) <= MAX.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let Some(sink) = current_sink() else {
            return;
        };
        let meta = event.metadata();
        if level_rank(meta.level()) > sink.level.load(Ordering::Relaxed) {
            return;
        }
        let thread = std::thread::current();
        let line = format::line(
            sink.format,
            SystemTime::now(),
            meta.level(),
            meta.target(),
            thread.name().unwrap_or("-"),
            &Record::of(event),
        );
        sink.out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .write(&line);
    }
}

/// One open log; dropping it closes it (records of its threads then go to the first log).
#[derive(Debug)]
pub struct Log {
    id: u64,
}

/// Routes the calling thread's records to a log until dropped.
#[derive(Debug)]
pub struct Scope {
    previous: u64,
}

impl Drop for Scope {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
    }
}

/// Binds a thread to a [`Log`], to be moved into a thread of its instance.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    id: u64,
}

impl Binding {
    /// Routes the calling thread's records to the log for the rest of its life.
    pub fn bind_thread(self) {
        let _ = CURRENT.try_with(|c| c.set(self.id));
    }
}

impl Log {
    /// Opens a log. When its file cannot be opened, the log writes to standard error and the
    /// error is returned beside it (to be logged).
    pub fn open(settings: &LogSettings) -> (Log, Option<LogFileError>) {
        INSTALL.call_once(|| {
            let _ = Registry::default().with(Router).try_init();
        });
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let mut all = sinks_mut();
        let mut problem = None;
        let shared = settings
            .file
            .as_ref()
            .and_then(|p| all.iter().find(|s| s.file.as_ref() == Some(p)))
            .map(|s| s.out.clone());
        let (file, out) = match (shared, &settings.file) {
            (Some(out), file) => (file.clone(), out),
            (None, None) => (None, Arc::new(Mutex::new(Output::Stderr))),
            (None, Some(path)) => {
                match RotatingFile::open(path, settings.max_kb * 1024, settings.keep) {
                    Ok(f) => (Some(path.clone()), Arc::new(Mutex::new(Output::File(f)))),
                    Err(e) => {
                        problem = Some(LogFileError {
                            path: path.clone(),
                            source: e,
                        });
                        (None, Arc::new(Mutex::new(Output::Stderr)))
                    }
                }
            }
        };
        all.push(Arc::new(Sink {
            id,
            level: AtomicU8::new(rank(settings.level)),
            format: settings.format,
            file,
            out,
        }));
        update_max(&all);
        (Log { id }, problem)
    }

    /// Routes the calling thread's records here until the scope is dropped.
    pub fn enter(&self) -> Scope {
        let previous = CURRENT.try_with(|c| c.replace(self.id)).unwrap_or(0);
        Scope { previous }
    }

    /// What binds a thread of this instance to this log (see [`Binding::bind_thread`]).
    pub fn thread_binding(&self) -> Binding {
        Binding { id: self.id }
    }

    /// Sets this log's level.
    pub fn set_level(&self, level: LogLevel) {
        let all = sinks();
        if let Some(s) = all.iter().find(|s| s.id == self.id) {
            s.level.store(rank(level), Ordering::Relaxed);
        }
        update_max(&all);
    }

    /// Closes and opens the log file again (after logrotate moved it).
    pub fn reopen(&self) -> Result<(), LogFileError> {
        let sink = sinks().iter().find(|s| s.id == self.id).cloned();
        let Some(sink) = sink else {
            return Ok(());
        };
        let mut out = sink.out.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *out {
            Output::Stderr => Ok(()),
            Output::File(f) => f.reopen().map_err(|e| LogFileError {
                path: f.path().to_path_buf(),
                source: e,
            }),
        }
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let mut all = sinks_mut();
        all.retain(|s| s.id != self.id);
        update_max(&all);
    }
}

/// Changes the level of the log the calling thread writes to (`SetLogLevel`).
pub fn set_level(level: LogLevel) {
    if let Some(s) = current_sink() {
        s.level.store(rank(level), Ordering::Relaxed);
        update_max(&sinks());
    }
}

/// Writes one ERROR record straight to a file, without a [`Log`] (a driver instance whose
/// parameters were refused has none). Returns whether it was written.
pub fn write_error_to(path: &Path, message: &str) -> bool {
    let line = format::line(
        LogFormat::Text,
        SystemTime::now(),
        &Level::ERROR,
        "siebel_cti",
        std::thread::current().name().unwrap_or("-"),
        &Record {
            message: message.to_string(),
            fields: Vec::new(),
        },
    );
    RotatingFile::open(path, 0, 0)
        .and_then(|mut f| f.write_record(line.as_bytes()))
        .is_ok()
}

#[cfg(test)]
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("siebel-cti-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(file: &Path, level: LogLevel, format: LogFormat) -> LogSettings {
        LogSettings {
            file: Some(file.to_path_buf()),
            level,
            format,
            ..LogSettings::default()
        }
    }

    #[test]
    fn each_instance_has_its_own_file_and_level() {
        let dir = temp_dir("instances");
        let (a_path, b_path) = (dir.join("a.log"), dir.join("b.log"));
        let (a, e) = Log::open(&settings(&a_path, LogLevel::Warn, LogFormat::Text));
        assert!(e.is_none());
        let (b, _) = Log::open(&settings(&b_path, LogLevel::Debug, LogFormat::Json));
        let bind_b = b.thread_binding();
        let b_thread = std::thread::spawn(move || {
            bind_b.bind_thread();
            tracing::debug!("instance B debug line");
            tracing::info!(agent = "1001", "instance B info line");
        });
        {
            let _in_a = a.enter();
            tracing::info!("instance A info line");
            tracing::warn!("instance A warn line");
        }
        b_thread.join().unwrap();
        let a_text = std::fs::read_to_string(&a_path).unwrap();
        let b_text = std::fs::read_to_string(&b_path).unwrap();
        assert!(a_text.contains("WARN") && a_text.contains("instance A warn line"));
        assert!(!a_text.contains("instance A info line"), "A logs at WARN");
        assert!(!a_text.contains("instance B"), "{a_text}");
        assert!(b_text.contains("instance B debug line"));
        assert!(!b_text.contains("instance A"), "{b_text}");
        let info = b_text
            .lines()
            .find(|l| l.contains("instance B info line"))
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(info).unwrap();
        assert_eq!(v["agent"], "1001");
        // SetLogLevel from A's thread changes A only.
        {
            let _in_a = a.enter();
            set_level(LogLevel::Info);
            tracing::info!("instance A after SetLogLevel");
        }
        assert!(std::fs::read_to_string(&a_path)
            .unwrap()
            .contains("instance A after SetLogLevel"));
        drop((a, b));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reopen_writes_to_a_new_file_after_a_move() {
        let dir = temp_dir("log-reopen");
        let path = dir.join("c.log");
        let (log, _) = Log::open(&settings(&path, LogLevel::Info, LogFormat::Text));
        let _in = log.enter();
        tracing::info!("line before the move");
        std::fs::rename(&path, dir.join("c.log.1")).unwrap();
        log.reopen().unwrap();
        tracing::info!("line after the reopen");
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(now.contains("line after the reopen") && !now.contains("before"));
        drop(_in);
        drop(log);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unopenable_file_is_reported_and_errors_can_be_written_directly() {
        let dir = temp_dir("log-direct");
        let (log, e) = Log::open(&settings(
            &dir.join("no/such/dir/x.log"),
            LogLevel::Info,
            LogFormat::Text,
        ));
        assert!(e.unwrap().to_string().contains("no/such/dir/x.log"));
        drop(log);
        let path = dir.join("refused.log");
        assert!(write_error_to(
            &path,
            "Driver:LogLevel \"loud\" is not valid"
        ));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("ERROR") && text.contains("Driver:LogLevel \"loud\""));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
