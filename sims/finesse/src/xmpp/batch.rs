//! Pipelined requests: many iqs written at once and their answers collected in any order, so
//! that setting up thousands of agents (accounts, nodes, subscriptions) costs one round trip
//! per [`BATCH`] requests instead of one each.

use std::time::Instant;

use super::{iq, iq_outcome, register_payload, Registration, StreamItem, XmppClient, XmppError};
use crate::xml::Element;

/// How many iqs are written before their answers are read.
pub const BATCH: usize = 256;

/// One iq to send: its type (`get`/`set`), its addressee and its payload.
pub struct IqRequest<'a> {
    /// `get` or `set`.
    pub kind: &'static str,
    /// The addressee (`None`: the server of the stream).
    pub to: Option<&'a str>,
    /// The payload element.
    pub payload: String,
}

impl XmppClient {
    /// Sends `requests` [`BATCH`] at a time and returns each one's answer, in the order of
    /// `requests` (an error answer is [`XmppError::Stanza`]). Fails as a whole when the
    /// connection fails or no answer comes for the client's timeout.
    pub fn iq_batch(
        &mut self,
        requests: &[IqRequest<'_>],
    ) -> Result<Vec<Result<Element, XmppError>>, XmppError> {
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(BATCH) {
            let first = self.next_id + 1;
            let mut text = String::new();
            for r in chunk {
                self.next_id += 1;
                text.push_str(&iq(
                    r.kind,
                    &format!("sim{}", self.next_id),
                    r.to,
                    &r.payload,
                ));
            }
            self.send(&text)?;
            let mut answers: Vec<Option<Result<Element, XmppError>>> =
                (0..chunk.len()).map(|_| None).collect();
            let mut left = chunk.len();
            // The deadline moves with each answer: a large batch only needs steady progress.
            let mut deadline = Instant::now() + self.timeout;
            while left > 0 {
                match self.read_item(deadline)? {
                    Some(StreamItem::Stanza(s)) if s.local_name() == "iq" => {
                        let slot = s
                            .attr("id")
                            .and_then(|id| id.strip_prefix("sim"))
                            .and_then(|n| n.parse::<u64>().ok())
                            .and_then(|n| n.checked_sub(first))
                            .and_then(|i| usize::try_from(i).ok())
                            .filter(|&i| i < chunk.len() && answers[i].is_none());
                        match slot {
                            Some(i) => {
                                answers[i] = Some(iq_outcome(s));
                                left -= 1;
                                deadline = Instant::now() + self.timeout;
                            }
                            None => self.pending.push_back(s),
                        }
                    }
                    other => self.set_aside(other)?,
                }
            }
            out.extend(answers.into_iter().flatten());
        }
        Ok(out)
    }

    /// Registers every `(user, password)` of `accounts` on `domain` through in-band
    /// registration (XEP-0077), pipelined on one stream; returns each one's outcome in order.
    pub fn register_all(
        addr: std::net::SocketAddr,
        domain: &str,
        accounts: &[(&str, &str)],
        timeout: std::time::Duration,
    ) -> Result<Vec<Registration>, XmppError> {
        let mut client = Self::connect_raw(addr, timeout)?;
        client.open_stream(domain)?;
        let requests: Vec<IqRequest<'_>> = accounts
            .iter()
            .map(|(user, password)| IqRequest {
                kind: "set",
                to: None,
                payload: register_payload(user, password),
            })
            .collect();
        let answers = client.iq_batch(&requests);
        client.close();
        answers?
            .into_iter()
            .map(|a| match a {
                Ok(_) => Ok(Registration::Created),
                Err(XmppError::Stanza(c)) if c == "conflict" => Ok(Registration::AlreadyExists),
                Err(e) => Err(e),
            })
            .collect()
    }
}
