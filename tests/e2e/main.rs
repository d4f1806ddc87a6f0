//! End-to-end tests of the driver library through scs-sim and a real ActiveMQ
//! (closed, STOMP over TLS: `SIEBEL_CTI_TEST_BROKER`, default 127.0.0.1:61612; `scripts/test.sh`
//! starts it; `common::BrokerAccess::shared()` says how to reach it).

mod agent_state;
mod bench_smoke;
mod broker_down;
mod broker_failover;
mod broker_housekeeping;
mod buttons;
mod c_host;
mod calls;
mod chain;
mod common;
mod console;
mod def_templates;
mod desktop;
mod exports;
mod finesse_fit;
mod finesse_login;
mod ha;
mod ha_sessions;
mod hostile_input;
mod login_flow;
mod operations;
mod pickers;
mod screen_pops;
mod security;
mod security_proof;
mod security_rig;
mod security_tls;
mod supervisor;
mod webdriver;
