//! UTF-16 `ISC_STRING`s and parameter lists, both ways, with limits on hostile input.

use std::collections::HashMap;
use std::ffi::c_long;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use scapi_types::*;

/// Longest string accepted from the host, in UTF-16 units.
pub const MAX_STRING_UNITS: usize = 64 * 1024;
/// Longest parameter list accepted from the host.
pub const MAX_LIST_ITEMS: usize = 10_000;

/// Bad input from the host. `what` names the argument (e.g. `datasetParams[2] name`); the
/// message, for the log, starts with it.
#[derive(Debug)]
pub enum BadInput {
    /// No NUL within [`MAX_STRING_UNITS`] units.
    TooLong {
        /// The argument.
        what: String,
    },
    /// Not valid UTF-16.
    Malformed {
        /// The argument.
        what: String,
        /// The decoding error.
        source: std::string::FromUtf16Error,
    },
    /// A null string where one is required.
    Null {
        /// The argument.
        what: String,
    },
    /// A list length below 0 or above [`MAX_LIST_ITEMS`].
    ListLength {
        /// The argument.
        what: String,
        /// The length the host gave.
        len: c_long,
    },
    /// A non-empty list with a null item array.
    NullItems {
        /// The argument.
        what: String,
        /// The length the host gave.
        len: c_long,
    },
    /// A list handed to `FreeSCStrParamList` that this driver did not allocate, or freed
    /// already.
    NotAllocated {
        /// The address of its item array.
        items: usize,
    },
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadInput::TooLong { what } => {
                write!(f, "{what}: string longer than {MAX_STRING_UNITS} UTF-16 units")
            }
            BadInput::Malformed { what, .. } => {
                write!(f, "{what}: malformed UTF-16 (lone surrogate)")
            }
            BadInput::Null { what } => write!(f, "{what}: null string"),
            BadInput::ListLength { what, len } => write!(
                f,
                "{what}: list length {len} is out of range (0..={MAX_LIST_ITEMS})"
            ),
            BadInput::NullItems { what, len } => {
                write!(f, "{what}: {len} items but a null item array")
            }
            BadInput::NotAllocated { items } => write!(
                f,
                "FreeSCStrParamList: list at {items:#x} was not allocated by this driver or was freed already"
            ),
        }
    }
}

impl std::error::Error for BadInput {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BadInput::Malformed { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Reads a NUL-terminated UTF-16 string; `None` for a null pointer.
///
/// # Safety
/// `p` is null or points to readable UTF-16 units ending with NUL (or at least
/// `MAX_STRING_UNITS` readable units).
pub unsafe fn read(p: *const ISC_CHAR, what: &str) -> Result<Option<String>, BadInput> {
    if p.is_null() {
        return Ok(None);
    }
    let mut len = 0usize;
    while *p.add(len) != 0 {
        len += 1;
        if len >= MAX_STRING_UNITS {
            return Err(BadInput::TooLong { what: what.into() });
        }
    }
    let units = std::slice::from_raw_parts(p, len);
    String::from_utf16(units)
        .map(Some)
        .map_err(|source| BadInput::Malformed {
            what: what.into(),
            source,
        })
}

/// Like [`read`], but null is an error.
///
/// # Safety
/// As for [`read`].
pub unsafe fn read_required(p: *const ISC_CHAR, what: &str) -> Result<String, BadInput> {
    read(p, what)?.ok_or_else(|| BadInput::Null { what: what.into() })
}

/// Reads a key/value list; a null list is empty.
///
/// # Safety
/// `list` is null or points to a list whose `dataItems` holds `len` readable items.
pub unsafe fn read_kv(
    list: *const ISC_KVParamList,
    what: &str,
) -> Result<Vec<(String, String)>, BadInput> {
    if list.is_null() {
        return Ok(Vec::new());
    }
    let l = &*list;
    if l.len < 0 || l.len as usize > MAX_LIST_ITEMS {
        return Err(BadInput::ListLength {
            what: what.into(),
            len: l.len,
        });
    }
    if l.len == 0 {
        return Ok(Vec::new());
    }
    if l.dataItems.is_null() {
        return Err(BadInput::NullItems {
            what: what.into(),
            len: l.len,
        });
    }
    let items = std::slice::from_raw_parts(l.dataItems, l.len as usize);
    let mut out = Vec::with_capacity(items.len());
    for (i, kv) in items.iter().enumerate() {
        let name = read_required(kv.paramName, &format!("{what}[{i}] name"))?;
        let value = read(kv.paramValue, &format!("{what}[{i}] value"))?.unwrap_or_default();
        out.push((name, value));
    }
    Ok(out)
}

/// A NUL-terminated UTF-16 copy of `s`.
pub fn wide(s: &str) -> Vec<ISC_CHAR> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Lists handed to the host (item array address -> length), so that `FreeSCStrParamList`
/// frees only what we allocated, once.
fn allocated() -> &'static Mutex<HashMap<usize, usize>> {
    static A: OnceLock<Mutex<HashMap<usize, usize>>> = OnceLock::new();
    A.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Allocates a string list for the host; it must come back through [`free_list`].
pub fn alloc_list(items: &[&str]) -> ISC_StrParamList {
    let strings: Box<[ISC_STRING]> = items
        .iter()
        .map(|s| Box::into_raw(wide(s).into_boxed_slice()) as *mut ISC_CHAR)
        .collect();
    let len = strings.len();
    let ptr = Box::into_raw(strings) as *mut ISC_STRING;
    allocated()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(ptr as usize, len);
    ISC_StrParamList {
        len: len as _,
        dataItems: ptr,
    }
}

/// Frees a list made by [`alloc_list`]. A list we did not make, or one freed already, is
/// refused with an error (never freed twice).
pub fn free_list(list: ISC_StrParamList) -> Result<(), BadInput> {
    let key = list.dataItems as usize;
    let len = allocated()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&key)
        .ok_or(BadInput::NotAllocated { items: key })?;
    if list.len as i128 != len as i128 {
        tracing::warn!(
            "FreeSCStrParamList: list length {} differs from the allocated {len}; freeing {len}",
            list.len
        );
    }
    // SAFETY: `key` was produced by `alloc_list` from a boxed slice of `len` strings, each a
    // boxed NUL-terminated slice; it was removed from the registry, so it is freed once.
    unsafe {
        let strings = Box::from_raw(std::ptr::slice_from_raw_parts_mut(
            key as *mut ISC_STRING,
            len,
        ));
        for &s in strings.iter() {
            let mut n = 0;
            while *s.add(n) != 0 {
                n += 1;
            }
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(s, n + 1)));
        }
    }
    Ok(())
}

/// Owned UTF-16 key/value pairs and the C list pointing into them, for one callback.
pub struct KvBuffer {
    _strings: Vec<Vec<ISC_CHAR>>,
    items: Vec<ISC_KeyValue>,
}

impl KvBuffer {
    /// Converts pairs to UTF-16.
    pub fn new(pairs: &[(String, String)]) -> Self {
        let mut strings = Vec::with_capacity(pairs.len() * 2);
        let mut items = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let mut k = wide(k);
            let mut v = wide(v);
            items.push(ISC_KeyValue {
                paramName: k.as_mut_ptr(),
                paramValue: v.as_mut_ptr(),
            });
            strings.push(k);
            strings.push(v);
        }
        KvBuffer {
            _strings: strings,
            items,
        }
    }

    /// The C list; valid while `self` lives.
    pub fn list(&mut self) -> ISC_KVParamList {
        ISC_KVParamList {
            len: self.items.len() as _,
            dataItems: self.items.as_mut_ptr(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let w = wide("Agent é 😀");
        assert_eq!(
            unsafe { read(w.as_ptr(), "t") }.unwrap().unwrap(),
            "Agent é 😀"
        );
        let lone = [0xD800u16, 0x41, 0];
        assert!(unsafe { read(lone.as_ptr(), "t") }.is_err());
        let long: Vec<u16> = std::iter::repeat_n(0x41, MAX_STRING_UNITS + 5)
            .chain([0])
            .collect();
        assert!(unsafe { read(long.as_ptr(), "t") }.is_err());
        assert!(unsafe { read(std::ptr::null(), "t") }.unwrap().is_none());
    }

    #[test]
    fn bad_input_names_the_argument_and_keeps_the_decoding_error() {
        use std::error::Error;
        let lone = [0xD800u16, 0];
        let e = unsafe { read(lone.as_ptr(), "name") }.unwrap_err();
        assert_eq!(e.to_string(), "name: malformed UTF-16 (lone surrogate)");
        assert!(e.source().is_some());
        let e = unsafe { read_required(std::ptr::null(), "name") }.unwrap_err();
        assert_eq!(e.to_string(), "name: null string");
        assert!(e.source().is_none());
    }

    #[test]
    fn lists_are_freed_once() {
        let l = alloc_list(&["LogIn", "LogOut"]);
        assert_eq!(
            unsafe { read(*l.dataItems.add(1), "t") }.unwrap().unwrap(),
            "LogOut"
        );
        assert!(free_list(l).is_ok());
        assert!(free_list(l).is_err(), "double free refused");
        let foreign = ISC_StrParamList {
            len: 1,
            dataItems: 0x1000 as *mut ISC_STRING,
        };
        assert!(free_list(foreign).is_err());
    }

    #[test]
    fn kv_lists() {
        let mut b = KvBuffer::new(&[("AgentId".into(), "1001".into())]);
        let l = b.list();
        let back = unsafe { read_kv(&l, "t") }.unwrap();
        assert_eq!(back, vec![("AgentId".to_string(), "1001".to_string())]);
        let bad = ISC_KVParamList {
            len: -1,
            dataItems: std::ptr::null_mut(),
        };
        assert!(unsafe { read_kv(&bad, "t") }.is_err());
        let huge = ISC_KVParamList {
            len: (MAX_LIST_ITEMS + 1) as _,
            dataItems: std::ptr::null_mut(),
        };
        assert!(unsafe { read_kv(&huge, "t") }.is_err());
        let null_items = ISC_KVParamList {
            len: 2,
            dataItems: std::ptr::null_mut(),
        };
        assert!(unsafe { read_kv(&null_items, "t") }.is_err());
    }
}
