//! A small XML tree over quick-xml, and the Finesse documents the connector reads:
//! `User`, `SystemInfo`, `ApiErrors` and notification `Update`s.
//!
//! Kept apart from finesse-sim on purpose: the simulator (`sims/finesse/`) has its own XML
//! writing and reading, its own XMPP/pubsub code and its own model of agents and dialogs.
//! It is the independent oracle the end-to-end tests check the connector against; if both
//! sides shared this module (or the core's state model), a misreading of Cisco's format
//! would be made on both sides at once and the tests would agree with it. That holds for the
//! plumbing too (this element tree, `escape`, the XMPP stanza splitter): a shared escaping or
//! splitting bug would write and read the same wrong bytes on both sides. Only the wire
//! format (Cisco's documents) is shared, by specification, not by code.

use driver::protocol::{AgentInfo, AgentState, DialogInfo, ReasonCode};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Why a document could not be read.
#[derive(Debug)]
pub enum XmlError {
    /// Not well-formed XML (the parser's error).
    Syntax(quick_xml::Error),
    /// A malformed attribute.
    Attribute(quick_xml::events::attributes::AttrError),
    /// An end tag with no start tag.
    Unbalanced,
    /// The document ended before its root element closed.
    Truncated,
    /// A required element is missing (its name).
    Missing(&'static str),
    /// Elements nested deeper than [`MAX_DEPTH`] (no Finesse document comes close; a deeper
    /// one would exhaust the stack when the tree is dropped, cloned or compared).
    TooDeep,
    /// The root element is not the one expected.
    Unexpected {
        /// The element expected.
        expected: &'static str,
        /// The element found.
        found: String,
    },
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XmlError::Syntax(e) => write!(f, "bad XML: {e}"),
            XmlError::Attribute(e) => write!(f, "bad attribute: {e}"),
            XmlError::Unbalanced => f.write_str("unbalanced end tag"),
            XmlError::Truncated => f.write_str("document ended early"),
            XmlError::TooDeep => write!(f, "elements nested deeper than {MAX_DEPTH}"),
            XmlError::Missing(what) => write!(f, "{what} missing"),
            XmlError::Unexpected { expected, found } => {
                write!(f, "expected {expected}, got {found}")
            }
        }
    }
}

impl std::error::Error for XmlError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            XmlError::Syntax(e) => Some(e),
            XmlError::Attribute(e) => Some(e),
            _ => None,
        }
    }
}

/// The deepest element nesting [`Element::parse`] accepts. Finesse's documents nest about 8
/// levels (a call variable in a dialog in a dialogs update); the tree's drop, clone and
/// comparison recurse once per level, so an unbounded depth (a notification of a megabyte of
/// `<a>`) would overflow the stack of the thread reading it.
pub const MAX_DEPTH: usize = 64;

/// An element: local name, attributes, child elements and text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (namespace prefix removed).
    pub name: String,
    /// Attributes (local names, unescaped values).
    pub attrs: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Element>,
    /// Concatenated text content (unescaped).
    pub text: String,
}

fn local(name: &[u8]) -> String {
    let n = String::from_utf8_lossy(name);
    match n.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => n.into_owned(),
    }
}

impl Element {
    /// Parses a document (its root element).
    pub fn parse(text: &str) -> Result<Element, XmlError> {
        let mut reader = Reader::from_str(text);
        let mut stack: Vec<Element> = Vec::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(XmlError::TooDeep);
                    }
                    stack.push(Self::open(&e)?)
                }
                Ok(Event::Empty(e)) => {
                    let el = Self::open(&e)?;
                    match stack.last_mut() {
                        Some(p) => p.children.push(el),
                        None => return Ok(el),
                    }
                }
                Ok(Event::End(_)) => {
                    let el = stack.pop().ok_or(XmlError::Unbalanced)?;
                    match stack.last_mut() {
                        Some(p) => p.children.push(el),
                        None => return Ok(el),
                    }
                }
                Ok(Event::Text(t)) => {
                    if let Some(p) = stack.last_mut() {
                        p.text.push_str(&t.unescape().map_err(XmlError::Syntax)?);
                    }
                }
                Ok(Event::CData(t)) => {
                    if let Some(p) = stack.last_mut() {
                        p.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Ok(Event::Eof) => return Err(XmlError::Truncated),
                Ok(_) => {}
                Err(e) => return Err(XmlError::Syntax(e)),
            }
        }
    }

    fn open(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(XmlError::Attribute)?;
            let v = a.unescape_value().map_err(XmlError::Syntax)?;
            attrs.push((local(a.key.as_ref()), v.into_owned()));
        }
        Ok(Element {
            name: local(e.name().as_ref()),
            attrs,
            ..Element::default()
        })
    }

    /// The first child with this local name (case-insensitive, as Finesse varies it).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Follows a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |e, n| e.child(n))
    }

    /// Trimmed text of a child, if present and not empty.
    pub fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Escapes text for an XML body.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// A Finesse state name as an agent state.
pub fn agent_state(s: &str) -> AgentState {
    match s.trim() {
        "LOGOUT" => AgentState::Logout,
        "NOT_READY" => AgentState::NotReady,
        "READY" => AgentState::Ready,
        "RESERVED" => AgentState::Reserved,
        "TALKING" => AgentState::Talking,
        "HOLD" => AgentState::Hold,
        "WORK" => AgentState::Work,
        "WORK_READY" => AgentState::WorkReady,
        _ => AgentState::Unknown,
    }
}

/// Reads a `<User>` (REST) or `<user>` (notification) element.
pub fn user_info(user: &Element) -> Result<AgentInfo, XmlError> {
    let agent = user
        .text_of("loginId")
        .or_else(|| user.text_of("id"))
        .ok_or(XmlError::Missing("User loginId"))?;
    let state = user.text_of("state").map(|s| agent_state(&s));
    let reason = user.child("reasonCode");
    Ok(AgentInfo {
        agent,
        state,
        pending_state: user
            .text_of("pendingState")
            .map(|s| agent_state(&s))
            .filter(|s| *s != AgentState::Unknown),
        reason_code: reason
            .and_then(|r| r.text_of("code"))
            .or_else(|| user.text_of("reasonCodeId")),
        reason_label: reason.and_then(|r| r.text_of("label")),
        extension: user.text_of("extension"),
        first_name: user.text_of("firstName"),
        last_name: user.text_of("lastName"),
        state_change_time: user.text_of("stateChangeTime"),
        make_call_from_ready: false,
        supervisor: user.child("roles").is_some_and(|roles| {
            roles
                .children
                .iter()
                .any(|r| r.name.eq_ignore_ascii_case("role") && r.text.trim() == "Supervisor")
        }),
    })
}

/// Reads `<ReasonCodes>`: each `<ReasonCode>` with its id (or the last part of its uri),
/// code and label.
pub fn reason_codes(e: &Element) -> Vec<ReasonCode> {
    e.children
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case("ReasonCode"))
        .map(|r| ReasonCode {
            id: r
                .text_of("id")
                .or_else(|| {
                    r.text_of("uri")
                        .and_then(|u| u.rsplit('/').next().map(str::to_string))
                })
                .unwrap_or_default(),
            code: r.text_of("code").unwrap_or_default(),
            label: r.text_of("label").unwrap_or_default(),
        })
        .collect()
}

/// Reads `<WrapUpReasons>`: each `<WrapUpReason>` with its id (an `<id>`, else the last part
/// of its uri) and label; a wrap-up reason has no code.
pub fn wrap_up_reasons(e: &Element) -> Vec<ReasonCode> {
    e.children
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case("WrapUpReason"))
        .map(|r| ReasonCode {
            id: r
                .text_of("id")
                .or_else(|| {
                    r.text_of("uri")
                        .and_then(|u| u.rsplit('/').next().map(str::to_string))
                })
                .unwrap_or_default(),
            code: String::new(),
            label: r.text_of("label").unwrap_or_default(),
        })
        .filter(|r| !r.label.is_empty())
        .collect()
}

/// One error of an `<ApiErrors>` body or `<apiErrors>` update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// `ErrorType`, e.g. `Invalid State`.
    pub error_type: String,
    /// `ErrorMessage`.
    pub message: String,
}

/// Reads the first error of an ApiErrors element.
pub fn api_error(errors: &Element) -> Option<ApiError> {
    let e = errors.child("ApiError")?;
    Some(ApiError {
        error_type: e.text_of("ErrorType").unwrap_or_default(),
        message: e
            .text_of("ErrorMessage")
            .or_else(|| e.text_of("ErrorData"))
            .unwrap_or_default(),
    })
}

/// What `GET /SystemInfo` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemInfo {
    /// IN_SERVICE, OUT_OF_SERVICE...
    pub status: String,
    /// Deployment type (UCCE/UCCX variants).
    pub deployment: String,
    /// XMPP domain.
    pub xmpp_domain: String,
    /// Pubsub service domain.
    pub pubsub_domain: String,
    /// The CTI protocol version Finesse speaks to the CTI server (`ctiVersion`; on UCCE 23
    /// is release 12.5(1), 22 is 12.0(1)), if given.
    pub cti_version: Option<u32>,
}

impl SystemInfo {
    /// Whether this Finesse places a call from READY: UCCE 12.5(1) and later, i.e. CTI
    /// protocol version 23 and later (Cisco's CTI Server Message Reference Guides, one per
    /// release); an unknown version counts as older.
    pub fn make_call_from_ready(&self) -> bool {
        self.deployment.eq_ignore_ascii_case("UCCE") && self.cti_version.is_some_and(|v| v >= 23)
    }
}

/// Reads `<SystemInfo>`.
pub fn system_info(e: &Element) -> SystemInfo {
    SystemInfo {
        status: e.text_of("status").unwrap_or_default(),
        deployment: e.text_of("deploymentType").unwrap_or_default(),
        xmpp_domain: e.text_of("xmppDomain").unwrap_or_default(),
        pubsub_domain: e.text_of("xmppPubSubDomain").unwrap_or_default(),
        cti_version: e.text_of("ctiVersion").and_then(|v| v.trim().parse().ok()),
    }
}

/// Reads a `<Dialog>` for `agent` on `extension` (the agent's participant gives its own
/// state, actions and start time; the others are listed as participants).
pub fn dialog_info(d: &Element, agent: &str, extension: &str) -> DialogInfo {
    let props = d.child("mediaProperties");
    let prop = |n: &str| props.and_then(|p| p.text_of(n)).unwrap_or_default();
    let variables = props
        .and_then(|p| p.child("callvariables"))
        .map(|cv| {
            cv.children
                .iter()
                .filter_map(|v| Some((v.text_of("name")?, v.text_of("value").unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    let parts: Vec<&Element> = d
        .child("participants")
        .map(|p| p.children.iter().collect())
        .unwrap_or_default();
    let mine = parts
        .iter()
        .find(|p| p.text_of("mediaAddress").as_deref() == Some(extension));
    let state = d.text_of("state").unwrap_or_default();
    DialogInfo {
        agent: agent.to_string(),
        id: d.text_of("id").unwrap_or_default(),
        agent_state: mine
            .and_then(|p| p.text_of("state"))
            .unwrap_or_else(|| state.clone()),
        // A FAILED dialog stays until the agent drops it: not ended.
        ended: state == "DROPPED",
        state_cause: mine
            .and_then(|p| p.text_of("stateCause"))
            .unwrap_or_default(),
        secondary_id: d.text_of("secondaryId").unwrap_or_default(),
        state,
        from_address: d.text_of("fromAddress").unwrap_or_default(),
        to_address: d.text_of("toAddress").unwrap_or_default(),
        dnis: prop("DNIS"),
        dialed_number: prop("dialedNumber"),
        call_type: prop("callType"),
        queue_name: prop("queueName"),
        queue_number: prop("queueNumber"),
        wrap_up_reason: prop("wrapUpReason"),
        variables,
        associated: d
            .text_of("associatedDialogUri")
            .and_then(|u| u.rsplit('/').next().map(str::to_string)),
        actions: mine
            .and_then(|p| p.child("actions"))
            .map(|a| {
                a.children
                    .iter()
                    .map(|x| x.text.trim().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        participants: parts
            .iter()
            .filter(|p| p.text_of("mediaAddress").as_deref() != Some(extension))
            .filter_map(|p| p.text_of("mediaAddress"))
            .collect(),
        start_time: mine.and_then(|p| p.text_of("startTime")),
    }
}

/// The `<Dialog>` elements of a `<Dialogs>` list, a `<dialogs>` update or a single dialog.
pub fn dialogs(e: &Element) -> Vec<&Element> {
    if e.name.eq_ignore_ascii_case("Dialog") {
        return vec![e];
    }
    e.children
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case("Dialog"))
        .collect()
}

/// A parsed notification.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// A User update.
    User {
        /// The new state.
        info: AgentInfo,
        /// The `requestId` echoed by Finesse, if any.
        request_id: Option<String>,
    },
    /// An asynchronous failure of an accepted request.
    Error {
        /// The error.
        error: ApiError,
        /// The `requestId`, if any.
        request_id: Option<String>,
        /// The dialog it concerns, from the update's `source` (`/finesse/api/Dialog/{id}`).
        dialog: Option<String>,
    },
    /// Dialog updates (`event` is POST for a new dialog, PUT for a change, DELETE for an
    /// ended one); the dialogs are still XML, read with the agent's extension.
    Dialogs {
        /// The Finesse event.
        event: String,
        /// The `<Dialog>` elements.
        dialogs: Vec<Element>,
        /// The `requestId`, if any.
        request_id: Option<String>,
    },
    /// Something this release does not act on (system, team), by its source.
    Other(String),
}

/// The dialog id of an update's `source`, when it is `/finesse/api/Dialog/{id}`.
fn dialog_of_source(source: &str) -> Option<&str> {
    let id = source.trim().strip_prefix("/finesse/api/Dialog/")?;
    (!id.is_empty() && !id.contains('/')).then_some(id)
}

/// Parses the `<Update>` document carried by a pubsub notification.
pub fn update(text: &str) -> Result<Update, XmlError> {
    let u = Element::parse(text)?;
    if !u.name.eq_ignore_ascii_case("Update") {
        return Err(XmlError::Unexpected {
            expected: "Update",
            found: u.name,
        });
    }
    let request_id = u.text_of("requestId");
    let data = u.child("data").ok_or(XmlError::Missing("Update data"))?;
    if let Some(user) = data.child("user") {
        return Ok(Update::User {
            info: user_info(user)?,
            request_id,
        });
    }
    if let Some(errors) = data.child("apiErrors") {
        let error = api_error(errors).ok_or(XmlError::Missing("apiErrors apiError"))?;
        let dialog = u
            .text_of("source")
            .and_then(|s| dialog_of_source(&s).map(str::to_string));
        return Ok(Update::Error {
            error,
            request_id,
            dialog,
        });
    }
    if let Some(d) = data.child("dialogs").or_else(|| data.child("dialog")) {
        return Ok(Update::Dialogs {
            event: u.text_of("event").unwrap_or_default(),
            dialogs: dialogs(d).into_iter().cloned().collect(),
            request_id,
        });
    }
    Ok(Update::Other(u.text_of("source").unwrap_or_default()))
}

#[cfg(test)]
mod tests;
