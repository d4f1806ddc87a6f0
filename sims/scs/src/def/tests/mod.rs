//! The DEF parser on our templates, on Siebel's export layout and on malformed text.

use super::*;

mod syntax;
mod templates;
