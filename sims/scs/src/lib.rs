//! scs-sim: a mock Siebel Communications Server.
//!
//! It loads the real driver library with `dlopen`, reads DEF files, calls the SCAPI entry
//! points in the channel manager's order, implements every client-interface callback and
//! records each call with its decoded arguments, so tests and demos see what Siebel would.
//! [`desktop`] shows each agent session as a live web page (toolbar, work items, pops).

pub mod bench;
pub mod client;
pub mod def;
pub mod desktop;
pub mod engine;
pub mod library;
pub mod peer;
pub mod picker;
pub mod press;
pub mod server;

/// The SCAPI C types (the `scapi-types` crate, shared with the driver library).
pub use scapi_types as scapi;

pub use client::{Call, Client};
pub use library::Library;
pub use server::{Agent, CommServer, Invoked, SimError};
