//! Why `Driver:` parameters were refused: one variant per kind of failure, each naming the
//! parameter.

use std::fmt;

use crate::secure::KeyError;
use crate::stomp::AddressError;

/// A `Driver:` parameter with a bad value; the text names the parameter (`key` is its name
/// without the `Driver:` prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A parameter that must have a value is empty.
    Empty {
        /// Parameter name.
        key: &'static str,
    },
    /// A flag that is neither TRUE nor FALSE.
    NotAFlag {
        /// Parameter name.
        key: &'static str,
        /// The value given.
        value: String,
    },
    /// A value that is not a whole number.
    NotANumber {
        /// Parameter name.
        key: &'static str,
        /// The value given.
        value: String,
    },
    /// A number outside its range.
    OutOfRange {
        /// Parameter name.
        key: &'static str,
        /// The value given.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A value of the wrong form; `rule` says what is expected.
    Invalid {
        /// Parameter name.
        key: &'static str,
        /// The value given.
        value: String,
        /// What the value must be, e.g. "must be UCCE or UCCX".
        rule: &'static str,
    },
    /// `Driver:UseSecurePassword` is on but the key or IV is unusable.
    SecureKey(KeyError),
    /// Secure passwords are on but `Driver:SecureKeyFile` is missing or unreadable.
    SecureKeyFile(String),
    /// `Driver:BrokerHost` is not a usable list of `host[:port]`.
    Brokers(AddressError),
    /// `Driver:BrokerTls` is on but `Driver:BrokerCaFile` is empty or unusable.
    BrokerCaFile(String),
    /// `Driver:ReconnectMinMs` exceeds `Driver:ReconnectMaxMs`.
    ReconnectRange {
        /// The first reconnect delay given.
        min: u64,
        /// The largest reconnect delay given.
        max: u64,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Empty { key } => write!(f, "Driver:{key} must not be empty"),
            ConfigError::NotAFlag { key, value } => {
                write!(f, "Driver:{key} must be TRUE or FALSE, got {value:?}")
            }
            ConfigError::NotANumber { key, value } => {
                write!(f, "Driver:{key} must be a whole number, got {value:?}")
            }
            ConfigError::OutOfRange {
                key,
                value,
                min,
                max,
            } => write!(
                f,
                "Driver:{key} must be between {min} and {max}, got {value}"
            ),
            ConfigError::Invalid { key, value, rule } => {
                write!(f, "Driver:{key} {rule}, got {value:?}")
            }
            ConfigError::SecureKey(e) => {
                write!(f, "Driver:UseSecurePassword needs a usable key: {e}")
            }
            ConfigError::SecureKeyFile(e) => write!(f, "Driver:SecureKeyFile: {e}"),
            ConfigError::Brokers(e) => write!(f, "Driver:BrokerHost {e}"),
            ConfigError::BrokerCaFile(e) => write!(f, "Driver:BrokerCaFile: {e}"),
            ConfigError::ReconnectRange { min, max } => write!(
                f,
                "Driver:ReconnectMinMs ({min}) must not exceed Driver:ReconnectMaxMs ({max})"
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::SecureKey(e) => Some(e),
            ConfigError::Brokers(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeyError> for ConfigError {
    fn from(e: KeyError) -> Self {
        ConfigError::SecureKey(e)
    }
}

/// A [`ConfigError::Invalid`].
pub(super) fn invalid(key: &'static str, value: &str, rule: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: value.to_string(),
        rule,
    }
}
