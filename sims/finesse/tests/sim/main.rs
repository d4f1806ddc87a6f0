//! End-to-end tests of finesse-sim against the real Prosody (SIEBEL_CTI_TEST_XMPP, default
//! 127.0.0.1:5222; start it with scripts/prosody.sh start). Each test uses its own agent ids,
//! so the tests run in parallel against one Prosody.

mod agents;
mod calls;
mod fixture;
