//! The byte stream cut into the stream header, stanzas and the stream end.

use crate::xml::{self, Element};

use super::XmppError;

/// One unit read from an XMPP stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// The peer's `<stream:stream>` header (as an element without children).
    Header(Element),
    /// A complete top-level stanza (or `stream:features`, SASL element…).
    Stanza(Element),
    /// The peer closed its stream.
    End,
}

/// Splits the bytes of an XMPP stream into headers and complete top-level elements.
#[derive(Debug, Default)]
pub struct StreamSplitter {
    buf: Vec<u8>,
}

impl StreamSplitter {
    /// Appends bytes read from the socket.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Takes the next complete item, if the buffer holds one.
    pub fn next_item(&mut self) -> Result<Option<StreamItem>, XmppError> {
        loop {
            let start = match self.buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(s) => s,
                None => {
                    self.buf.clear();
                    return Ok(None);
                }
            };
            if self.buf[start] != b'<' {
                return Err(XmppError::Protocol("text outside a stanza".into()));
            }
            let Some(first_end) = tag_end(&self.buf, start) else {
                return Ok(None);
            };
            let tag = &self.buf[start..=first_end];
            if tag.starts_with(b"<?") {
                self.buf.drain(..=first_end);
                continue;
            }
            if tag.starts_with(b"</stream:stream") {
                self.buf.drain(..=first_end);
                return Ok(Some(StreamItem::End));
            }
            if tag.starts_with(b"<stream:stream") {
                let mut text = String::from_utf8_lossy(&tag[..tag.len() - 1]).into_owned();
                text.push_str("/>");
                self.buf.drain(..=first_end);
                let header = xml::parse(&text).map_err(XmppError::Protocol)?;
                return Ok(Some(StreamItem::Header(header)));
            }
            // A stanza: walk tags until the depth returns to zero.
            let mut depth = 0usize;
            let mut pos = start;
            loop {
                let Some(lt) = self.buf[pos..].iter().position(|&b| b == b'<') else {
                    return Ok(None);
                };
                let open = pos + lt;
                let Some(end) = tag_end(&self.buf, open) else {
                    return Ok(None);
                };
                let tag = &self.buf[open..=end];
                if tag.starts_with(b"</") {
                    depth = depth.saturating_sub(1);
                } else if !tag.ends_with(b"/>") {
                    depth += 1;
                }
                pos = end + 1;
                if depth == 0 {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&self.buf[start..pos]).into_owned();
            self.buf.drain(..pos);
            let stanza = xml::parse(&text).map_err(XmppError::Protocol)?;
            return Ok(Some(StreamItem::Stanza(stanza)));
        }
    }
}

/// The index of the `>` that ends the tag opened at `open`, skipping quoted attribute values.
fn tag_end(buf: &[u8], open: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in buf.iter().enumerate().skip(open + 1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i),
            None => {}
        }
    }
    None
}
