//! Secure agent password: Triple-DES (EDE3) in CBC mode with PKCS#7 padding, base64 text,
//! the key and IV given in hex (as `openssl enc -des-ede3-cbc -K … -iv …` takes them). The
//! driver encrypts before a password leaves Siebel; the connector decrypts before Finesse.

use std::fmt;

use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};

type Encryptor = cbc::Encryptor<des::TdesEde3>;
type Decryptor = cbc::Decryptor<des::TdesEde3>;

/// A Triple-DES key and IV.
#[derive(Clone, PartialEq, Eq)]
pub struct TripleDes {
    key: [u8; 24],
    iv: [u8; 8],
}

impl std::fmt::Debug for TripleDes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TripleDes(***)")
    }
}

/// A key or IV that is not the right number of hexadecimal digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError {
    /// The parameter that holds it (e.g. `Driver:SecureKey`).
    pub name: String,
    /// How many hexadecimal digits it must have.
    pub digits: usize,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} must be {} hexadecimal digits",
            self.name, self.digits
        )
    }
}

impl std::error::Error for KeyError {}

/// Why an encrypted password could not be decrypted.
#[derive(Debug)]
pub enum DecryptError {
    /// The text is not base64.
    NotBase64(base64::DecodeError),
    /// The padding is wrong after decryption: another key, or not a whole number of blocks.
    BadPadding,
    /// The decrypted bytes are not UTF-8 text.
    NotUtf8(std::string::FromUtf8Error),
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecryptError::NotBase64(_) => f.write_str("encrypted password is not base64"),
            DecryptError::BadPadding => {
                f.write_str("encrypted password does not decrypt with this key (bad padding)")
            }
            DecryptError::NotUtf8(_) => f.write_str("decrypted password is not UTF-8"),
        }
    }
}

impl std::error::Error for DecryptError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecryptError::NotBase64(e) => Some(e),
            DecryptError::BadPadding => None,
            DecryptError::NotUtf8(e) => Some(e),
        }
    }
}

/// `N` bytes from `2N` hexadecimal digits; the error names the parameter `what`.
fn hex<const N: usize>(what: &str, s: &str) -> Result<[u8; N], KeyError> {
    let s = s.trim();
    let bad = || KeyError {
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

impl TripleDes {
    /// From a 48-hex-digit key and a 16-hex-digit IV; errors name `key_name`/`iv_name`.
    pub fn from_hex(
        key_name: &str,
        key: &str,
        iv_name: &str,
        iv: &str,
    ) -> Result<TripleDes, KeyError> {
        Ok(TripleDes {
            key: hex::<24>(key_name, key)?,
            iv: hex::<8>(iv_name, iv)?,
        })
    }

    /// Encrypts UTF-8 text; returns base64.
    pub fn encrypt(&self, plain: &str) -> String {
        let ct = Encryptor::new(&self.key.into(), &self.iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plain.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(ct)
    }

    /// Decrypts base64 text made by [`TripleDes::encrypt`] (or openssl).
    pub fn decrypt(&self, b64: &str) -> Result<String, DecryptError> {
        let ct = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(DecryptError::NotBase64)?;
        let pt = Decryptor::new(&self.key.into(), &self.iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(&ct)
            .map_err(|_| DecryptError::BadPadding)?;
        String::from_utf8(pt).map_err(DecryptError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdeffedcba987654321089abcdef01234567";
    const IV: &str = "1234567890abcdef";

    /// Produced by `printf '%s' P | openssl enc -des-ede3-cbc -K KEY -iv IV -base64 -A`.
    const VECTORS: [(&str, &str); 5] = [
        ("secret", "qeNWE0LWjk0="),
        ("pw-1001", "qu9ATXaEJig="),
        ("Pässwörd 123!", "dcs5RFLlHldtgzkjyQiRDw=="),
        ("", "2RgYt0xdQHU="),
        ("exactly8", "Jy2HNb7I+nE4TnSitz7VpA=="),
    ];

    #[test]
    fn matches_openssl_both_ways() {
        let t = TripleDes::from_hex("k", KEY, "i", IV).unwrap();
        for (plain, b64) in VECTORS {
            assert_eq!(t.encrypt(plain), b64, "{plain}");
            assert_eq!(t.decrypt(b64).unwrap(), plain);
        }
    }

    #[test]
    fn bad_keys_and_ciphertexts() {
        assert_eq!(
            TripleDes::from_hex("Driver:SecureKey", "abc", "i", IV)
                .unwrap_err()
                .to_string(),
            "Driver:SecureKey must be 48 hexadecimal digits"
        );
        assert_eq!(
            TripleDes::from_hex("k", KEY, "Driver:SecureIV", "zz").unwrap_err(),
            KeyError {
                name: "Driver:SecureIV".into(),
                digits: 16
            }
        );
        let t = TripleDes::from_hex("k", KEY, "i", IV).unwrap();
        let e = t.decrypt("not base64!").unwrap_err();
        assert!(matches!(e, DecryptError::NotBase64(_)));
        assert!(std::error::Error::source(&e).is_some(), "keeps the cause");
        assert!(
            matches!(t.decrypt("qeNWE0LW"), Err(DecryptError::BadPadding)),
            "6 bytes are no whole block"
        );
        let other = TripleDes::from_hex("k", &KEY.replace('0', "1"), "i", IV).unwrap();
        assert_ne!(
            other.decrypt("qeNWE0LWjk0=").ok().as_deref(),
            Some("secret")
        );
        assert!(!format!("{t:?}").contains("0123"));
    }
}
