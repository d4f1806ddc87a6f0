//! The driver–connector protocol envelope (`driver::protocol::Envelope::from_json`), every
//! message type: a body from the broker either decodes or is refused, never panics; what
//! decodes encodes again to the same message, and its redacted log form is made.
#![no_main]

use driver::protocol::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(env) = Envelope::from_json(data) else {
        return;
    };
    let _ = env.redacted();
    let json = env.to_json();
    let again = Envelope::from_json(&json)
        .unwrap_or_else(|e| panic!("re-encoded envelope is refused ({e}): {json:?}"));
    assert_eq!(env, again, "envelope changed by encode/decode");
});
