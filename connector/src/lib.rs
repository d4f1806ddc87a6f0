//! The Generic Connector: serves the Siebel CTI driver protocol (see `docs/protocol.md`) from
//! ActiveMQ against Cisco Finesse, by REST for requests and XMPP for notifications.

pub mod check;
pub mod config;
pub mod console_auth;
pub mod log_config;
pub mod metrics;
pub mod monitor;
pub mod rest;
pub mod service;
pub mod xml;
pub mod xmpp;

pub use config::{ConfigError, ConnectorConfig};
pub use service::{Connector, StartError};
