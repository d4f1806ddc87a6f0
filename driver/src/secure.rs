//! Secure agent password: Triple-DES (EDE3) in CBC mode with PKCS#7 padding. Each message
//! gets a fresh random IV and carries the time it was made, so a replayed copy is refused:
//! `v2:` + base64(IV ‖ CBC(key, IV, "<unix ms>:<password>")). The key is given in hex (as
//! `openssl enc -des-ede3-cbc -K …` takes it); weak keys are refused. The driver encrypts
//! before a password leaves Siebel; the connector opens it (with a [`ReplayGuard`]).

use crate::clock::Now;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};

type Encryptor = cbc::Encryptor<des::TdesEde3>;
type Decryptor = cbc::Decryptor<des::TdesEde3>;

/// The prefix of the current format (random IV and timestamp inside).
const V2: &str = "v2:";

/// How old (or how far in the future) a secure password may be when it is opened.
pub const WINDOW_MS: u64 = 5 * 60 * 1000;

/// A Triple-DES key.
#[derive(Clone, PartialEq, Eq)]
pub struct TripleDes {
    key: [u8; 24],
}

impl std::fmt::Debug for TripleDes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TripleDes(***)")
    }
}

/// A key or IV that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// Not the right number of hexadecimal digits.
    Digits {
        /// The parameter that holds it (e.g. `Driver:SecureKey`).
        name: String,
        /// How many hexadecimal digits it must have.
        digits: usize,
    },
    /// A weak key: Triple-DES would fall back to single DES or worse.
    Weak {
        /// The parameter that holds it.
        name: String,
        /// Why, e.g. "its first and second 8-byte parts are equal".
        why: &'static str,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Digits { name, digits } => {
                write!(f, "{name} must be {digits} hexadecimal digits")
            }
            KeyError::Weak { name, why } => write!(
                f,
                "{name} is a weak Triple-DES key ({why}): choose 24 random bytes, \
                 e.g. `openssl rand -hex 24`"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// The operating system's random source failed, so no password can be encrypted.
#[derive(Debug)]
pub struct NoRandom(pub getrandom::Error);

impl std::fmt::Display for NoRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no random bytes from the operating system to encrypt the password: {}",
            self.0
        )
    }
}

impl std::error::Error for NoRandom {}

/// Why an encrypted password could not be opened.
#[derive(Debug)]
pub enum DecryptError {
    /// Not the `v2:` format (an old fixed-IV form is refused: it could be replayed).
    OldFormat,
    /// The text is not base64.
    NotBase64(base64::DecodeError),
    /// The padding is wrong after decryption: another key, or not a whole number of blocks.
    BadPadding,
    /// The decrypted bytes are not `<ms>:<password>` in UTF-8.
    Malformed,
    /// Made outside the time window (a replay, or clocks far apart).
    Stale {
        /// How far from now it was made, in milliseconds.
        age_ms: u64,
    },
    /// Seen before inside the window: a replay.
    Replayed,
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::OldFormat => {
                f.write_str("encrypted password is not in the v2 format (random IV, timestamp)")
            }
            DecryptError::NotBase64(_) => f.write_str("encrypted password is not base64"),
            DecryptError::BadPadding => {
                f.write_str("encrypted password does not decrypt with this key (bad padding)")
            }
            DecryptError::Malformed => f.write_str("decrypted password is malformed"),
            DecryptError::Stale { age_ms } => write!(
                f,
                "encrypted password made {} s away from now (window {} s): refused as a replay",
                age_ms / 1000,
                WINDOW_MS / 1000
            ),
            DecryptError::Replayed => {
                f.write_str("encrypted password already used: refused as a replay")
            }
        }
    }
}

impl std::error::Error for DecryptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecryptError::NotBase64(e) => Some(e),
            _ => None,
        }
    }
}

/// `N` bytes from `2N` hexadecimal digits; the error names the parameter `what`.
fn hex<const N: usize>(what: &str, s: &str) -> Result<[u8; N], KeyError> {
    let s = s.trim();
    let bad = || KeyError::Digits {
        name: what.to_string(),
        digits: N * 2,
    };
    if s.len() != N * 2 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// The DES weak and semi-weak keys (parity bits included; compared without them).
const WEAK_DES: [u64; 16] = [
    0x0101_0101_0101_0101,
    0xFEFE_FEFE_FEFE_FEFE,
    0xE0E0_E0E0_F1F1_F1F1,
    0x1F1F_1F1F_0E0E_0E0E,
    0x011F_011F_010E_010E,
    0x1F01_1F01_0E01_0E01,
    0x01E0_01E0_01F1_01F1,
    0xE001_E001_F101_F101,
    0x01FE_01FE_01FE_01FE,
    0xFE01_FE01_FE01_FE01,
    0x1FE0_1FE0_0EF1_0EF1,
    0xE01F_E01F_F10E_F10E,
    0x1FFE_1FFE_0EFE_0EFE,
    0xFE1F_FE1F_FE0E_FE0E,
    0xE0FE_E0FE_F1FE_F1FE,
    0xFEE0_FEE0_FEF1_FEF1,
];

/// Why a 24-byte key is weak, if it is.
fn weakness(key: &[u8; 24]) -> Option<&'static str> {
    let part = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&key[i * 8..i * 8 + 8]);
        u64::from_be_bytes(b) & 0xFEFE_FEFE_FEFE_FEFE
    };
    let (k1, k2, k3) = (part(0), part(1), part(2));
    if k1 == 0 && k2 == 0 && k3 == 0 {
        return Some("all zero");
    }
    if k1 == k2 {
        return Some("its first and second 8-byte parts are equal");
    }
    if k2 == k3 {
        return Some("its second and third 8-byte parts are equal");
    }
    let weak = |k: u64| WEAK_DES.iter().any(|w| w & 0xFEFE_FEFE_FEFE_FEFE == k);
    [k1, k2, k3]
        .into_iter()
        .any(weak)
        .then_some("a part is a DES weak or semi-weak key")
}

/// Milliseconds since the Unix epoch now.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl TripleDes {
    /// From a 48-hex-digit key; the error names `key_name`. A weak key is refused. The
    /// former fixed IV (`iv`, 16 hex digits, may be empty) is checked but no longer used:
    /// every message has a random IV of its own.
    pub fn from_hex(
        key_name: &str,
        key: &str,
        iv_name: &str,
        iv: &str,
    ) -> Result<TripleDes, KeyError> {
        let key = hex::<24>(key_name, key)?;
        if !iv.trim().is_empty() {
            hex::<8>(iv_name, iv)?;
        }
        if let Some(why) = weakness(&key) {
            return Err(KeyError::Weak {
                name: key_name.to_string(),
                why,
            });
        }
        Ok(TripleDes { key })
    }

    /// Encrypts a password as made at `now` (its wall clock, whole seconds: the caller's
    /// reading, no clock read here) with a fresh random IV; fails only if the operating
    /// system gives no random bytes (never a fixed IV instead: that would make it replayable).
    pub fn encrypt(&self, plain: &str, now: Now) -> Result<String, NoRandom> {
        let mut iv = [0u8; 8];
        getrandom::getrandom(&mut iv).map_err(NoRandom)?;
        let at_ms = u64::try_from(now.unix).unwrap_or(0).saturating_mul(1000);
        Ok(self.seal(plain, at_ms, iv))
    }

    /// Encrypts `plain` as made at `at_ms` with `iv` (tests give both).
    pub fn seal(&self, plain: &str, at_ms: u64, iv: [u8; 8]) -> String {
        let text = format!("{at_ms}:{plain}");
        let mut all = iv.to_vec();
        all.extend(
            Encryptor::new(&self.key.into(), &iv.into())
                .encrypt_padded_vec_mut::<Pkcs7>(text.as_bytes()),
        );
        format!(
            "{V2}{}",
            base64::engine::general_purpose::STANDARD.encode(all)
        )
    }

    /// Opens a password made by [`TripleDes::encrypt`]: checks the window around `now_ms`
    /// and, through `guard`, that it was not seen before.
    pub fn open(
        &self,
        text: &str,
        now_ms: u64,
        guard: &mut ReplayGuard,
    ) -> Result<String, DecryptError> {
        let b64 = text
            .trim()
            .strip_prefix(V2)
            .ok_or(DecryptError::OldFormat)?;
        let all = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(DecryptError::NotBase64)?;
        if all.len() < 16 {
            return Err(DecryptError::BadPadding);
        }
        let (iv, ct) = all.split_at(8);
        let iv: [u8; 8] = iv.try_into().map_err(|_| DecryptError::BadPadding)?;
        let pt = Decryptor::new(&self.key.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ct)
            .map_err(|_| DecryptError::BadPadding)?;
        let pt = String::from_utf8(pt).map_err(|_| DecryptError::Malformed)?;
        let (at, plain) = pt.split_once(':').ok_or(DecryptError::Malformed)?;
        let at: u64 = at.parse().map_err(|_| DecryptError::Malformed)?;
        let age_ms = now_ms.abs_diff(at);
        if age_ms > WINDOW_MS {
            return Err(DecryptError::Stale { age_ms });
        }
        guard.admit(b64, at, now_ms)?;
        Ok(plain.to_string())
    }
}

/// Remembers the secure passwords opened inside the window, so each opens once.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: HashMap<String, u64>,
    order: VecDeque<(u64, String)>,
}

impl ReplayGuard {
    /// Refuses `token` seen before; forgets those made more than a window ago.
    fn admit(&mut self, token: &str, at_ms: u64, now_ms: u64) -> Result<(), DecryptError> {
        while let Some((t, _)) = self.order.front() {
            if now_ms.saturating_sub(*t) <= 2 * WINDOW_MS {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if self.seen.contains_key(token) {
            return Err(DecryptError::Replayed);
        }
        self.seen.insert(token.to_string(), at_ms);
        self.order.push_back((now_ms, token.to_string()));
        Ok(())
    }

    /// How many are remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Nothing remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

/// The proof that a request comes from a holder of the agent's credential: SHA-256 of a
/// fixed label, the agent id and the password, in hex. It goes only to the request queue,
/// which only connectors may read; it is not the password.
pub fn agent_proof(agent: &str, password: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in ["siebel-cti agent proof v1", agent, password] {
        ctx.update(part.as_bytes());
        ctx.update(&[0]);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares two proofs in constant time (for equal lengths).
pub fn same_proof(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdeffedcba987654321089abcdef01234567";
    const IV: &str = "1234567890abcdef";
    const NOW: u64 = 1_800_000_000_000;

    fn des() -> TripleDes {
        TripleDes::from_hex("k", KEY, "i", IV).unwrap()
    }

    #[test]
    fn seals_like_openssl_after_the_iv() {
        // `printf '%s' '1800000000000:secret' | openssl enc -des-ede3-cbc -K KEY -iv IV -base64 -A`
        let iv = [0x12, 0x34, 0x56, 0x78, 0x90, 0xab, 0xcd, 0xef];
        let sealed = des().seal("secret", NOW, iv);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed.strip_prefix(V2).unwrap())
            .unwrap();
        assert_eq!(raw[..8], iv);
        let ct = Encryptor::new(&des().key.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(b"1800000000000:secret");
        assert_eq!(raw[8..], ct[..]);
    }

    #[test]
    fn fresh_iv_each_time_and_round_trip() {
        let t = des();
        let (a, b) = (
            t.encrypt("Pässwörd 123!", Now::read()).unwrap(),
            t.encrypt("Pässwörd 123!", Now::read()).unwrap(),
        );
        assert_ne!(a, b, "same password, other ciphertext");
        let mut g = ReplayGuard::default();
        assert_eq!(t.open(&a, unix_ms(), &mut g).unwrap(), "Pässwörd 123!");
        assert_eq!(t.open(&b, unix_ms(), &mut g).unwrap(), "Pässwörd 123!");
        assert_eq!(
            t.open(&t.encrypt("", Now::read()).unwrap(), unix_ms(), &mut g)
                .unwrap(),
            ""
        );
    }

    #[test]
    fn replays_and_stale_ones_are_refused() {
        let t = des();
        let mut g = ReplayGuard::default();
        let s = t.seal("pw", NOW, [7; 8]);
        t.open(&s, NOW + 1000, &mut g).unwrap();
        assert!(matches!(
            t.open(&s, NOW + 2000, &mut g),
            Err(DecryptError::Replayed)
        ));
        assert!(matches!(
            t.open(&s, NOW + WINDOW_MS + 1, &mut g),
            Err(DecryptError::Stale { .. })
        ));
        let future = t.seal("pw", NOW + WINDOW_MS + 5, [8; 8]);
        assert!(matches!(
            t.open(&future, NOW, &mut g),
            Err(DecryptError::Stale { .. })
        ));
        // Old entries are forgotten once outside the window; the guard stays bounded.
        let later = t.seal("pw", NOW + 3 * WINDOW_MS, [9; 8]);
        t.open(&later, NOW + 3 * WINDOW_MS, &mut g).unwrap();
        assert_eq!(g.len(), 1);
    }

    #[test]
    fn old_fixed_iv_format_and_garbage_are_refused() {
        let t = des();
        let mut g = ReplayGuard::default();
        // The fixed-IV form of "secret" from before.
        assert!(matches!(
            t.open("qeNWE0LWjk0=", NOW, &mut g),
            Err(DecryptError::OldFormat)
        ));
        let e = t.open("v2:not base64!", NOW, &mut g).unwrap_err();
        assert!(matches!(e, DecryptError::NotBase64(_)));
        assert!(std::error::Error::source(&e).is_some(), "keeps the cause");
        assert!(matches!(
            t.open("v2:qeNWE0LW", NOW, &mut g),
            Err(DecryptError::BadPadding)
        ));
        let other = TripleDes::from_hex("k", &KEY.replace('0', "2"), "i", "").unwrap();
        assert!(other
            .open(&t.seal("secret", NOW, [1; 8]), NOW, &mut g)
            .is_err());
        assert!(!format!("{t:?}").contains("0123"));
    }

    #[test]
    fn bad_and_weak_keys_are_refused() {
        assert_eq!(
            TripleDes::from_hex("Driver:SecureKey", "abc", "i", IV)
                .unwrap_err()
                .to_string(),
            "Driver:SecureKey must be 48 hexadecimal digits"
        );
        assert_eq!(
            TripleDes::from_hex("k", KEY, "Driver:SecureIV", "zz").unwrap_err(),
            KeyError::Digits {
                name: "Driver:SecureIV".into(),
                digits: 16
            }
        );
        let k1 = "0123456789abcdef";
        let k2 = "fedcba9876543210";
        let k3 = "89abcdef01234567";
        for (key, why) in [
            ("0".repeat(48), "all zero"),
            (format!("{k1}{k1}{k3}"), "first and second"),
            (format!("{k1}{k2}{k2}"), "second and third"),
            // Same parts up to the parity bits.
            (
                format!("{k1}{}{k3}", "0023456789abcdef"),
                "first and second",
            ),
            (format!("0101010101010101{k2}{k3}"), "weak or semi-weak"),
            (format!("{k1}{k2}e0fee0fef1fef1fe"), "weak or semi-weak"),
        ] {
            let e = TripleDes::from_hex("Driver:SecureKey", &key, "i", "").unwrap_err();
            assert!(matches!(e, KeyError::Weak { .. }), "{key}");
            let text = e.to_string();
            assert!(
                text.contains(why) && text.contains("Driver:SecureKey"),
                "{text}"
            );
        }
        // Two-key Triple-DES (K1 = K3) stays allowed.
        assert!(TripleDes::from_hex("k", &format!("{k1}{k2}{k1}"), "i", "").is_ok());
    }
}
