//! Driver and service handles: opaque numbers handed to Siebel, looked up on every call, so
//! a null, forged, or already released handle is an error code instead of a crash.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use driver::{Driver, Service};

/// Handles are never reused; the low bits tell a driver handle from a service handle.
static NEXT: AtomicUsize = AtomicUsize::new(1);
const DRIVER_TAG: usize = 0x1;
const SERVICE_TAG: usize = 0x2;

/// A live agent session and the driver instance it belongs to.
pub struct ServiceEntry {
    /// The driver instance.
    pub driver: Arc<Driver>,
    /// The driver handle, to release sessions with their driver.
    pub driver_handle: usize,
    /// The session.
    pub service: Arc<Service>,
}

#[derive(Default)]
struct Tables {
    drivers: HashMap<usize, Arc<Driver>>,
    services: HashMap<usize, ServiceEntry>,
}

fn tables() -> std::sync::MutexGuard<'static, Tables> {
    static T: OnceLock<Mutex<Tables>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(Tables::default()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn fresh(tag: usize) -> usize {
    (NEXT.fetch_add(1, Ordering::Relaxed) << 4) | tag
}

/// Registers a driver instance; returns its handle.
pub fn add_driver(d: Arc<Driver>) -> usize {
    let h = fresh(DRIVER_TAG);
    tables().drivers.insert(h, d);
    h
}

/// The driver instance of a handle.
pub fn driver(h: usize) -> Option<Arc<Driver>> {
    tables().drivers.get(&h).cloned()
}

/// Unregisters a driver instance and every session it still has.
pub fn remove_driver(h: usize) -> Option<(Arc<Driver>, Vec<Arc<Service>>)> {
    let mut t = tables();
    let d = t.drivers.remove(&h)?;
    let orphans: Vec<usize> = t
        .services
        .iter()
        .filter(|(_, e)| e.driver_handle == h)
        .map(|(k, _)| *k)
        .collect();
    let services = orphans
        .into_iter()
        .filter_map(|k| t.services.remove(&k))
        .map(|e| e.service)
        .collect();
    Some((d, services))
}

/// Registers a session; returns its handle.
pub fn add_service(e: ServiceEntry) -> usize {
    let h = fresh(SERVICE_TAG);
    tables().services.insert(h, e);
    h
}

/// The session of a handle.
pub fn service(h: usize) -> Option<(Arc<Driver>, Arc<Service>)> {
    tables()
        .services
        .get(&h)
        .map(|e| (e.driver.clone(), e.service.clone()))
}

/// Unregisters a session.
pub fn remove_service(h: usize) -> Option<ServiceEntry> {
    tables().services.remove(&h)
}
