//! The driver's log: `tracing` to the file named by `Driver:LogFile` (standard error when
//! empty), at the level of `Driver:LogLevel`. One subscriber per process: the first driver
//! instance sets it up. A later instance can only make the log more verbose (the process logs
//! at the most verbose level any instance asks for), so creating one never silences what an
//! administrator turned on; `SetLogLevel` sets the level outright, without a restart.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::reload;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Registry;

use crate::config::{DriverConfig, LogLevel};

static RELOAD: OnceLock<reload::Handle<LevelFilter, Registry>> = OnceLock::new();

fn filter(level: LogLevel) -> LevelFilter {
    match level {
        LogLevel::Off => LevelFilter::OFF,
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
        LogLevel::Trace => LevelFilter::TRACE,
    }
}

/// The more verbose of two levels (tracing orders more verbose filters as greater).
fn more_verbose(a: LevelFilter, b: LevelFilter) -> LevelFilter {
    a.max(b)
}

/// The log file could not be opened; logging goes to standard error instead.
#[derive(Debug)]
pub struct LogFileError {
    /// The file of `Driver:LogFile`.
    pub path: PathBuf,
    /// Why it could not be opened.
    pub source: std::io::Error,
}

impl std::fmt::Display for LogFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot open Driver:LogFile {}: {}",
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

/// Installs the process-wide subscriber once; later calls only raise the level to theirs.
/// Fails if the log file cannot be opened (logging then goes to stderr).
pub fn init(cfg: &DriverConfig) -> Result<(), LogFileError> {
    if let Some(h) = RELOAD.get() {
        let _ = h.modify(|f| *f = more_verbose(*f, filter(cfg.log_level)));
        return Ok(());
    }
    let (layer, handle) = reload::Layer::new(filter(cfg.log_level));
    let mut problem = None;
    let writer: Box<dyn Fn() -> Box<dyn std::io::Write> + Send + Sync> = match &cfg.log_file {
        Some(path) => match OpenOptions::new().create(true).append(true).open(path) {
            Ok(file) => {
                let file = std::sync::Arc::new(Mutex::new(file));
                Box::new(move || Box::new(SharedFile(file.clone())))
            }
            Err(e) => {
                problem = Some(LogFileError {
                    path: path.clone(),
                    source: e,
                });
                Box::new(|| Box::new(std::io::stderr()))
            }
        },
        None => Box::new(|| Box::new(std::io::stderr())),
    };
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_thread_names(true)
        .with_writer(writer);
    if Registry::default().with(layer).with(fmt).try_init().is_ok() {
        let _ = RELOAD.set(handle);
    }
    match problem {
        Some(p) => Err(p),
        None => Ok(()),
    }
}

/// Changes the log level of the running process.
pub fn set_level(level: LogLevel) {
    if let Some(h) = RELOAD.get() {
        let _ = h.modify(|f| *f = filter(level));
    }
}

struct SharedFile(std::sync::Arc<Mutex<std::fs::File>>);

impl std::io::Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_instance_only_makes_the_log_more_verbose() {
        let trace = filter(LogLevel::Trace);
        let debug = filter(LogLevel::Debug);
        assert_eq!(more_verbose(trace, debug), LevelFilter::TRACE);
        assert_eq!(more_verbose(debug, trace), LevelFilter::TRACE);
        assert_eq!(
            more_verbose(filter(LogLevel::Off), filter(LogLevel::Info)),
            LevelFilter::INFO
        );
        assert_eq!(
            more_verbose(filter(LogLevel::Warn), filter(LogLevel::Error)),
            LevelFilter::WARN
        );
    }
}
