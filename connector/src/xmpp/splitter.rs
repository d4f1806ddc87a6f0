//! Splitting the server's byte stream into top-level stanzas (children of
//! `<stream:stream>`), without parsing them.

use super::XmppError;

/// Largest stanza accepted.
const MAX_STANZA: usize = 1 << 20;

/// Buffer capacity kept between stanzas: a large stanza's buffer is given back afterwards,
/// so an idle session holds little memory.
const KEEP_CAPACITY: usize = 4 * 1024;

/// Splits a byte stream into top-level stanzas (children of `<stream:stream>`).
#[derive(Default)]
pub struct StanzaSplitter {
    buf: Vec<u8>,
    /// Scan position and depth of the stanza being read (depth 0 = between stanzas).
    pos: usize,
    depth: usize,
    start: Option<usize>,
    opened: bool,
}

impl StanzaSplitter {
    /// Adds received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete stanza; the stream header is consumed silently.
    pub fn next_stanza(&mut self) -> Result<Option<String>, XmppError> {
        loop {
            let Some(lt) = self.buf[self.pos..].iter().position(|b| *b == b'<') else {
                self.pos = self.buf.len();
                return self.check_size();
            };
            let tag_start = self.pos + lt;
            // Find the end of the tag, honouring quotes.
            let mut quote = None;
            let mut end = None;
            for (i, &b) in self.buf[tag_start..].iter().enumerate() {
                match (quote, b) {
                    (None, b'"') | (None, b'\'') => quote = Some(b),
                    (Some(q), c) if c == q => quote = None,
                    (None, b'>') => {
                        end = Some(tag_start + i);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(end) = end else {
                return self.check_size();
            };
            let tag = &self.buf[tag_start..=end];
            self.pos = end + 1;
            if tag.starts_with(b"<?") || tag.starts_with(b"<!") {
                continue;
            }
            if !self.opened {
                if tag.starts_with(b"<stream:stream") || tag.starts_with(b"<stream ") {
                    self.opened = true;
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    continue;
                }
                return Err(XmppError::Link("expected a stream header".into()));
            }
            if tag.starts_with(b"</stream:stream") {
                return Err(XmppError::Link("the server closed the stream".into()));
            }
            if tag.starts_with(b"</") {
                self.depth = self.depth.saturating_sub(1);
            } else {
                if self.depth == 0 {
                    self.start = Some(tag_start);
                }
                if !tag.ends_with(b"/>") {
                    self.depth += 1;
                }
            }
            if self.depth == 0 {
                if let Some(s) = self.start.take() {
                    let stanza = String::from_utf8_lossy(&self.buf[s..self.pos]).into_owned();
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    if self.buf.capacity() > 4 * KEEP_CAPACITY && self.buf.len() < KEEP_CAPACITY {
                        self.buf.shrink_to(KEEP_CAPACITY);
                    }
                    return Ok(Some(stanza));
                }
            }
        }
    }

    fn check_size(&self) -> Result<Option<String>, XmppError> {
        if self.buf.len() > MAX_STANZA {
            return Err(XmppError::Link("stanza too large".into()));
        }
        Ok(None)
    }

    /// Forgets the stream (after a stream restart).
    pub fn reset(&mut self) {
        *self = StanzaSplitter::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::Element;
    use crate::xmpp::notifications;

    #[test]
    fn splits_stanzas_across_reads() {
        let stream = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='x'><stream:features><mechanisms><mechanism>PLAIN</mechanism></mechanisms></stream:features><presence a='x>y'/><message><event><items><item><notification>&lt;Update/&gt;</notification></item></items></event></message>";
        let mut s = StanzaSplitter::default();
        let mut got = Vec::new();
        for chunk in stream.as_bytes().chunks(7) {
            s.push(chunk);
            while let Some(st) = s.next_stanza().unwrap() {
                got.push(st);
            }
        }
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("<stream:features>"));
        assert_eq!(got[1], "<presence a='x>y'/>");
        let msg = Element::parse(&got[2]).unwrap();
        assert_eq!(notifications(&msg), vec!["<Update/>".to_string()]);
    }

    #[test]
    fn garbage_is_an_error() {
        let mut s = StanzaSplitter::default();
        s.push(b"<html>");
        assert!(s.next_stanza().is_err());
        let mut s = StanzaSplitter::default();
        s.push(b"<stream:stream></stream:stream>");
        assert!(s.next_stanza().is_err());
    }
}
