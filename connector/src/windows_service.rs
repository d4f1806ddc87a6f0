//! `--service`: the connector under the Windows service manager (service name
//! `SiebelCtiConnector`; installing it: docs/operations.md). Stop and shutdown requests stop it
//! as Ctrl-C does: drivers are told it is out of service first.

use std::ffi::OsString;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use windows_service::service::{
    ServiceControl, ServiceControlAccept, ServiceExitCode, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::{define_windows_service, service_dispatcher};

/// The name the service is installed under.
pub const SERVICE_NAME: &str = "SiebelCtiConnector";

static CONFIG: OnceLock<String> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

/// Hands the process to the service manager; returns (exits) when the service stopped.
pub fn run(config: String) {
    let _ = CONFIG.set(config);
    if let Err(e) = service_dispatcher::start(SERVICE_NAME, ffi_service_main) {
        eprintln!("{}: not started by the service manager: {e}", super::NAME);
        std::process::exit(2);
    }
}

fn status(state: ServiceState, code: u32) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: if state == ServiceState::Running {
            ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN
        } else {
            ServiceControlAccept::empty()
        },
        exit_code: ServiceExitCode::Win32(code),
        checkpoint: 0,
        wait_hint: Duration::from_secs(10),
        process_id: None,
    }
}

fn service_main(_args: Vec<OsString>) {
    let handler = |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown => {
            super::STOP.store(true, Ordering::Release);
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    };
    let Ok(handle) = service_control_handler::register(SERVICE_NAME, handler) else {
        return;
    };
    let _ = handle.set_service_status(status(ServiceState::Running, 0));
    let path = CONFIG.get().cloned().unwrap_or_default();
    let code = super::serve(&path, false);
    let _ = handle.set_service_status(status(ServiceState::Stopped, code as u32));
}
