//! The C boundary (`libsiebel_cti`'s `extern "C"` entry points, linked as an rlib) with
//! hostile UTF-16 strings and parameter lists: unterminated-looking long strings, lone
//! surrogates, embedded NULs, null pointers, list lengths that lie (negative, huge, with a null
//! item array), unknown handles and tracking ids. A fake host checks every string the driver
//! hands back. The driver instance points at a closed port (it never reaches a broker), so the
//! sessions see "CTI unavailable" and refuse or queue what the input asks.
#![no_main]

use std::ffi::c_long;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use scapi_types::*;
use siebel_cti as lib;

/// Longest string the fuzzer builds, in UTF-16 units (the driver's own limit is 64 Ki units:
/// a few inputs run into it with the long-string case below).
const MAX_UNITS: usize = 256;

/// Owns the UTF-16 buffers and lists one call is given (all NUL-terminated, as the ABI says).
#[derive(Default)]
struct Arena {
    strings: Vec<Vec<u16>>,
    kvs: Vec<Vec<ISC_KeyValue>>,
    // Boxed: a list's address is handed to the driver and must not move when more are added.
    #[allow(clippy::vec_box)]
    lists: Vec<Box<ISC_KVParamList>>,
}

impl Arena {
    fn units(&mut self, units: Vec<u16>) -> ISC_STRING {
        self.strings.push(units);
        self.strings.last_mut().unwrap().as_mut_ptr()
    }

    /// Text the fuzzer chose: null, a fuzzed UTF-16 string (lone surrogates and all), a
    /// string just at or over the driver's length limit, or valid text.
    fn string(&mut self, u: &mut Unstructured) -> Result<ISC_STRING> {
        let mut units: Vec<u16> = match u.int_in_range(0..=7u8)? {
            0 => return Ok(null_mut()),
            1 => {
                let n = u.int_in_range(65_534..=65_537usize)?;
                let fill = u.arbitrary::<u16>()?.max(1);
                vec![fill; n]
            }
            2 | 3 => {
                let n = u.int_in_range(0..=MAX_UNITS)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(u.arbitrary::<u16>()?);
                }
                v
            }
            _ => {
                let s: &str = u.arbitrary()?;
                s.encode_utf16().take(MAX_UNITS).collect()
            }
        };
        units.push(0);
        Ok(self.units(units))
    }

    fn text(&mut self, s: &str) -> ISC_STRING {
        self.units(s.encode_utf16().chain(Some(0)).collect())
    }

    /// A key/value list: null, one that lies about its length with a null item array, or
    /// real items (names and values fuzzed, or taken from `keys`).
    fn kv(&mut self, u: &mut Unstructured, keys: &[&str]) -> Result<*const ISC_KVParamList> {
        let list = match u.int_in_range(0..=5u8)? {
            0 => return Ok(null()),
            1 => ISC_KVParamList {
                len: *u.choose(&[-1, c_long::MIN, 1, 10_001, c_long::MAX])?,
                dataItems: null_mut(),
            },
            _ => {
                let n = u.int_in_range(0..=8usize)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    let name = if !keys.is_empty() && u.arbitrary()? {
                        let k = *u.choose(keys)?;
                        self.text(k)
                    } else {
                        self.string(u)?
                    };
                    let value = self.string(u)?;
                    items.push(ISC_KeyValue {
                        paramName: name,
                        paramValue: value,
                    });
                }
                self.kvs.push(items);
                let items = self.kvs.last_mut().unwrap();
                ISC_KVParamList {
                    len: items.len() as c_long,
                    dataItems: items.as_mut_ptr(),
                }
            }
        };
        self.lists.push(Box::new(list));
        Ok(&**self.lists.last().unwrap())
    }
}

/// Reads a string the driver handed the host: NUL-terminated, valid UTF-16, bounded.
unsafe fn check(s: ISC_STRING) {
    if s.is_null() {
        return;
    }
    let mut n = 0;
    while *s.add(n) != 0 {
        n += 1;
        assert!(n < 1 << 20, "string from the driver without a NUL");
    }
    let units = std::slice::from_raw_parts(s, n);
    assert!(
        String::from_utf16(units).is_ok(),
        "malformed UTF-16 from the driver"
    );
}

unsafe fn check_kv(l: *const ISC_KVParamList) {
    if l.is_null() {
        return;
    }
    let l = &*l;
    assert!(l.len >= 0, "negative list length from the driver");
    if l.len == 0 {
        return;
    }
    assert!(!l.dataItems.is_null(), "null items from the driver");
    for kv in std::slice::from_raw_parts(l.dataItems, l.len as usize) {
        assert!(
            !kv.paramName.is_null(),
            "null parameter name from the driver"
        );
        check(kv.paramName);
        check(kv.paramValue);
    }
}

unsafe fn check_strs(l: *const ISC_StrParamList) {
    if l.is_null() || (*l).len == 0 {
        return;
    }
    for s in std::slice::from_raw_parts((*l).dataItems, (*l).len as usize) {
        check(*s);
    }
}

// The fake Siebel client: every callback checks what it is given.
unsafe extern "C" fn h_plain(_: ISC_CLIENT_HANDLE) -> ISC_RESULT {
    0
}
unsafe extern "C" fn h_cache(
    _: ISC_CLIENT_HANDLE,
    a: *const ISC_StrParamList,
    b: *const ISC_StrParamList,
    _: *const ISC_LongParamList,
) -> ISC_RESULT {
    check_strs(a);
    check_strs(b);
    0
}
unsafe extern "C" fn h_error(_: ISC_CLIENT_HANDLE, a: ISC_STRING, b: ISC_STRING) -> ISC_RESULT {
    check(a);
    check(b);
    0
}
unsafe extern "C" fn h_event(
    _: ISC_CLIENT_HANDLE,
    name: ISC_STRING,
    fields: *const ISC_KVParamList,
    _: ISC_BOOLEAN,
    tracking: ISC_STRING,
) -> ISC_RESULT {
    check(name);
    check_kv(fields);
    check(tracking);
    0
}
unsafe extern "C" fn h_new_item(
    _: ISC_CLIENT_HANDLE,
    a: ISC_STRING,
    b: ISC_STRING,
    c: ISC_STRING,
    _: SCWorkItemMode,
) -> ISC_RESULT {
    check(a);
    check(b);
    check(c);
    0
}
unsafe extern "C" fn h_str(_: ISC_CLIENT_HANDLE, a: ISC_STRING) -> ISC_RESULT {
    check(a);
    0
}
unsafe extern "C" fn h_update(
    _: ISC_CLIENT_HANDLE,
    a: ISC_STRING,
    b: ISC_STRING,
    kv: *const ISC_KVParamList,
) -> ISC_RESULT {
    check(a);
    check(b);
    check_kv(kv);
    0
}
unsafe extern "C" fn h_released(_: ISC_CLIENT_HANDLE, a: ISC_STRING, _: TimeT) -> ISC_RESULT {
    check(a);
    0
}
unsafe extern "C" fn h_started(
    _: ISC_CLIENT_HANDLE,
    a: ISC_STRING,
    b: ISC_STRING,
    c: ISC_STRING,
    d: ISC_STRING,
    _: TimeT,
) -> ISC_RESULT {
    check(a);
    check(b);
    check(c);
    check(d);
    0
}

fn client() -> ISC_CLIENT_INTERFACE {
    ISC_CLIENT_INTERFACE {
        clientHandle: 0x5eb1 as ISC_CLIENT_HANDLE,
        BeginBatch: Some(h_plain),
        CacheCommandInformation: Some(h_cache),
        CleanAllWorkItem: Some(h_plain),
        EndBatch: Some(h_plain),
        HandleError: Some(h_error),
        HandleEvent: Some(h_event),
        IndicateNewWorkItem: Some(h_new_item),
        ShowStatusText: Some(h_str),
        UpdateObjectInformation: Some(h_update),
        WorkItemReleased: Some(h_released),
        WorkItemResumed: Some(h_str),
        WorkItemStarted: Some(h_started),
        WorkItemSuspended: Some(h_str),
    }
}

/// Parameters that would reach outside the process (broker address, log file, log level):
/// the fuzzer's are dropped and these fixed ones appended.
const FIXED: [(&str, &str); 4] = [
    ("Driver:BrokerHost", "127.0.0.1"),
    // The discard port: nothing listens on loopback, the link retries with backoff.
    ("Driver:BrokerPort", "9"),
    ("Driver:LogLevel", "off"),
    ("Driver:ReconnectMinMs", "30000"),
];

fn fixed_params(arena: &mut Arena) -> Vec<ISC_KeyValue> {
    FIXED
        .iter()
        .map(|(k, v)| ISC_KeyValue {
            paramName: arena.text(k),
            paramValue: arena.text(v),
        })
        .collect()
}

/// The driver instance every input's sessions live in (created once, never released).
fn driver() -> ISC_DRIVER_HANDLE {
    static D: OnceLock<usize> = OnceLock::new();
    *D.get_or_init(|| {
        let mut a = Arena::default();
        let mut items = fixed_params(&mut a);
        let list = ISC_KVParamList {
            len: items.len() as c_long,
            dataItems: items.as_mut_ptr(),
        };
        let mut h: ISC_DRIVER_HANDLE = null_mut();
        let rc = unsafe {
            lib::CreateISCDriverInstance(a.text("Voice"), a.text("ENU"), null_mut(), &list, &mut h)
        };
        assert_eq!(rc, 0, "the fuzz target's own driver instance");
        h as usize
    }) as ISC_DRIVER_HANDLE
}

const COMMANDS: &[&str] = &[
    "LogIn",
    "LogOut",
    "ChangeReadyState",
    "ChangeNotReadyState",
    "MakeCall",
    "AnswerCall",
    "ReleaseCall",
    "HoldCall",
    "RetrieveCall",
    "InitTransfer",
    "CompleteTransfer",
    "InitConference",
    "CompleteConference",
    "BlindTransfer",
    "SendDTMF",
    "AttachData",
    "ChangeWorkMode",
];
const SERVICE_KEYS: &[&str] = &[
    "Service:AgentId",
    "Service:AgentPassword",
    "Service:Extension",
    "Param.AgentId",
    "Param.Password",
    "Param.Extension",
    "Param.PhoneNumber",
    "Param.ReasonCode",
    "Param.DTMF",
    "PhoneNumber",
];
const DRIVER_KEYS: &[&str] = &[
    "Driver:ClientId",
    "Driver:RequestQueue",
    "Driver:HeartbeatMs",
    "Driver:DeploymentType",
    "Driver:UseSecurePassword",
    "Driver:SecureKey",
    "Driver:SecureIV",
    "Driver:ReconnectMaxMs",
    "Driver:NotReadyReasonCodes",
    "Driver:CedVariable",
];

/// Reads back a string the fuzzer built (for the filters below).
unsafe fn lossy(s: ISC_STRING) -> String {
    if s.is_null() {
        return String::new();
    }
    let mut n = 0;
    while *s.add(n) != 0 {
        n += 1;
    }
    String::from_utf16_lossy(std::slice::from_raw_parts(s, n))
}

unsafe fn run(u: &mut Unstructured) -> Result<()> {
    let d = driver();
    let mut a = Arena::default();
    let c = client();
    let mut service: ISC_SERVICE_HANDLE = null_mut();
    let params = a.kv(u, SERVICE_KEYS)?;
    let connect = a.string(u)?;
    let rc = lib::RequestService(d, c, connect, params, &mut service);
    assert!(
        rc != 0 || !service.is_null(),
        "RequestService OK without a handle"
    );
    // The session is released however the calls end (the fuzzer's data may run out).
    let result = calls(u, &mut a, service);
    if !service.is_null() {
        assert_eq!(lib::ReleaseISCServiceInstance(service), 0);
        // Released: the handle is unknown from now on.
        assert_ne!(lib::ReleaseISCServiceInstance(service), 0);
    }
    result
}

/// Up to 12 entry point calls chosen by the fuzzer.
unsafe fn calls(u: &mut Unstructured, a: &mut Arena, service: ISC_SERVICE_HANDLE) -> Result<()> {
    for _ in 0..u.int_in_range(1..=12u8)? {
        // Half the calls use the live session, some a made-up or null handle.
        let h = match u.int_in_range(0..=5u8)? {
            0 => null_mut(),
            1 => u.arbitrary::<usize>()? as ISC_SERVICE_HANDLE,
            _ => service,
        };
        let rc = match u.int_in_range(0..=13u8)? {
            0 => {
                let track = a.string(u)?;
                let name = if u.arbitrary()? {
                    let n = *u.choose(COMMANDS)?;
                    a.text(n)
                } else {
                    a.string(u)?
                };
                // SetLogLevel would turn the process's log on (stderr): not from here.
                if lossy(name).to_ascii_lowercase().contains("loglevel") {
                    continue;
                }
                let sp = a.string(u)?;
                let kv = a.kv(u, SERVICE_KEYS)?;
                lib::InvokeCommand(h, track, name, sp, kv)
            }
            1 => {
                let track = a.string(u)?;
                let kv = a.kv(u, SERVICE_KEYS)?;
                lib::InvokeCommandEx(h, track, u.int_in_range(0..=3)?, kv)
            }
            2 => lib::AcceptWorkItem(h, a.string(u)?),
            3 => lib::ReleaseWorkItem(h, a.string(u)?),
            4 => lib::SuspendWorkItem(h, a.string(u)?),
            5 => lib::ResumeWorkItem(h, a.string(u)?),
            6 => lib::RevokeQueuedWorkItem(h, a.string(u)?),
            7 => lib::CancelQueuedEvent(h, a.string(u)?),
            8 => {
                let name = a.string(u)?;
                let kv = a.kv(u, &[])?;
                lib::HandleQueuedWorkItem(h, name, kv, a.string(u)?)
            }
            9 => {
                let name = a.string(u)?;
                let kv = a.kv(u, &[])?;
                lib::HandleQueuedEvent(h, name, kv, a.string(u)?)
            }
            10 => lib::NotifyEventHandlingFinished(h, a.string(u)?, u.arbitrary()?),
            11 => {
                // The command and event lists: given out, checked, freed; a second free and a
                // list this driver never made are refused, not freed.
                let mut cmds = ISC_StrParamList {
                    len: 0,
                    dataItems: null_mut(),
                };
                let mut evs = cmds;
                let rc = lib::RequestCommandEventList(a.string(u)?, &mut cmds, &mut evs);
                if rc == 0 {
                    check_strs(&cmds);
                    check_strs(&evs);
                    lib::FreeSCStrParamList(cmds);
                    lib::FreeSCStrParamList(evs);
                    if u.arbitrary()? {
                        lib::FreeSCStrParamList(cmds);
                    }
                }
                let mut fake = [a.string(u)?];
                lib::FreeSCStrParamList(ISC_StrParamList {
                    len: u.arbitrary()?,
                    dataItems: fake.as_mut_ptr(),
                });
                rc
            }
            12 => {
                // Another driver instance, with fuzzed parameters (broker address and log
                // settings fixed), released at once.
                let media = a.string(u)?;
                let lang = a.string(u)?;
                let connect = a.string(u)?;
                let fuzzed = a.kv(u, DRIVER_KEYS)?;
                let mut items: Vec<ISC_KeyValue> = Vec::new();
                let mut list = ISC_KVParamList {
                    len: 0,
                    dataItems: null_mut(),
                };
                let plist: *const ISC_KVParamList = if !fuzzed.is_null()
                    && ((*fuzzed).len < 0 || (*fuzzed).dataItems.is_null() && (*fuzzed).len > 0)
                {
                    // A list that lies about its length: refused before any parameter is read.
                    fuzzed
                } else {
                    let given = if fuzzed.is_null() || (*fuzzed).len == 0 {
                        &[][..]
                    } else {
                        std::slice::from_raw_parts((*fuzzed).dataItems, (*fuzzed).len as usize)
                    };
                    for kv in given {
                        let k = lossy(kv.paramName).to_ascii_lowercase();
                        if !k.contains("broker") && !k.contains("log") && !k.contains("reconnect") {
                            items.push(*kv);
                        }
                    }
                    items.extend(fixed_params(a));
                    list.len = items.len() as c_long;
                    list.dataItems = items.as_mut_ptr();
                    &list
                };
                let mut h2: ISC_DRIVER_HANDLE = null_mut();
                let rc = lib::CreateISCDriverInstance(media, lang, connect, plist, &mut h2);
                if rc == 0 {
                    assert!(!h2.is_null(), "CreateISCDriverInstance OK without a handle");
                    assert_eq!(lib::ReleaseISCDriverInstance(h2), 0);
                }
                rc
            }
            _ => {
                let mut obj: ISC_HANDLE = null_mut();
                lib::GetImplementationObject(u.arbitrary::<usize>()? as ISC_HANDLE, &mut obj)
            }
        };
        // A panic caught at the boundary would be SC_EC_ERROR; libfuzzer-sys's panic hook has
        // already aborted by then, so any code is fine here.
        let _ = rc;
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = unsafe { run(&mut u) };
});
