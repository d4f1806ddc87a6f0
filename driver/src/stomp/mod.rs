//! STOMP 1.2: the frame codec and a blocking client (`codec`), and the socket-free session
//! logic of one connection: handshake, heart-beats, timeouts (`session`); the broker address
//! list and the failover and backoff decisions over it (`failover`).
//!
//! Why not the `stomp` crate (stomp-rs)? Its last release (0.11) is built on mio 0.3 from 2015
//! and no longer compiles with a current Rust toolchain (`M cannot be sent between threads
//! safely` inside the crate), it brings its own event loop into the host process, and it has
//! no STOMP 1.2 receipts. The subset we need (CONNECT, SEND, SUBSCRIBE, ACK-less delivery,
//! RECEIPT, heart-beats, header escaping, content-length bodies) is small, so we keep it here,
//! over plain std / mio sockets and without any async runtime in Siebel's process.

mod client;
mod codec;
mod failover;
mod session;
mod tls;

pub use client::{resolve, Connection};
pub use codec::{expires_at, expires_in, Decoder, Frame, Item, StompError, MAX_FRAME_BYTES};
pub use failover::{
    parse_brokers, AddressError, Attempt, BrokerAddr, Failover, MAX_BROKERS, STABLE,
};
pub use session::{
    broker_message, connect_frame, negotiate, parse_heartbeat, Received, Session, SessionError,
};
pub use tls::{describe as describe_tls_error, TlsError, TlsSettings, UNTRUSTED};
