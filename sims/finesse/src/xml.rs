//! A small XML element tree (parsed with quick-xml) and an XML writer, shared by the REST layer
//! (request bodies, Finesse documents) and the XMPP client (stanzas).

use quick_xml::events::Event;
use quick_xml::Reader;

/// One parsed XML element: its qualified name (with any prefix), attributes, and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    /// The qualified name as written, e.g. `stream:features` or `iq`.
    pub name: String,
    /// Attributes in document order, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child nodes in document order.
    pub children: Vec<Node>,
}

/// A child of an [`Element`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A nested element.
    Element(Element),
    /// Character data, unescaped.
    Text(String),
}

impl Element {
    /// The name without its namespace prefix.
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The value of attribute `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element whose local name is `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.local_name() == name)
    }

    /// All text directly inside this element, concatenated.
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                Node::Element(_) => None,
            })
            .collect()
    }

    /// The trimmed text of child `name`, if that child exists.
    pub fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text().trim().to_string())
    }

    /// Follows a path of local names (`a/b/c`) through first matching children.
    pub fn find(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .try_fold(self, |e, p| e.child(p))
    }
}

/// Parses one complete XML document (or stanza) into its root element.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => stack.push(start_element(&start)?),
            Ok(Event::Empty(start)) => {
                let element = start_element(&start)?;
                close(&mut stack, &mut root, element)?;
            }
            Ok(Event::End(_)) => {
                let element = stack.pop().ok_or("unbalanced end tag")?;
                close(&mut stack, &mut root, element)?;
            }
            Ok(Event::Text(t)) => {
                let text = t.unescape().map_err(|e| format!("bad text: {e}"))?;
                if let Some(top) = stack.last_mut() {
                    top.children.push(Node::Text(text.into_owned()));
                } else if !text.trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Ok(Event::CData(c)) => {
                let text = String::from_utf8_lossy(&c.into_inner()).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.children.push(Node::Text(text));
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "malformed XML at byte {}: {e}",
                    reader.error_position()
                ))
            }
        }
    }
    if !stack.is_empty() {
        return Err("unexpected end of document".into());
    }
    root.ok_or_else(|| "no root element".into())
}

fn start_element(start: &quick_xml::events::BytesStart<'_>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|e| format!("bad attribute value: {e}"))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

fn close(
    stack: &mut [Element],
    root: &mut Option<Element>,
    element: Element,
) -> Result<(), String> {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(Node::Element(element));
        Ok(())
    } else if root.is_none() {
        *root = Some(element);
        Ok(())
    } else {
        Err("more than one root element".into())
    }
}

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds XML text element by element; text and attribute values are escaped.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Opens `<name a="v" …>`.
    pub fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        for (a, v) in attrs {
            self.out.push_str(&format!(" {a}=\"{}\"", escape(v)));
        }
        self.out.push('>');
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Writes `<name>text</name>` (`<name></name>` when `text` is empty).
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        self.out.push_str(&escape(text));
        self.close(name)
    }

    /// Appends already well-formed XML as it is.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }

    /// The XML written so far.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_elements_attributes_and_text() {
        let e = parse("<User a='1' b=\"x&amp;y\"><state> READY </state><x/></User>").unwrap();
        assert_eq!(e.name, "User");
        assert_eq!(e.attr("b"), Some("x&y"));
        assert_eq!(e.child_text("state").as_deref(), Some("READY"));
        assert!(e.child("x").is_some());
    }

    #[test]
    fn rejects_malformed_documents() {
        assert!(parse("<User><state>READY</User>").is_err());
        assert!(parse("").is_err());
        assert!(parse("<a/><b/>").is_err());
    }

    #[test]
    fn writer_escapes_text() {
        let xml = XmlWriter::new()
            .open("a")
            .leaf("b", "<&>")
            .close("a")
            .finish();
        assert_eq!(xml, "<a><b>&lt;&amp;&gt;</b></a>");
        assert_eq!(parse(&xml).unwrap().child_text("b").as_deref(), Some("<&>"));
    }

    #[test]
    fn find_follows_paths_by_local_name() {
        let e =
            parse("<iq><pubsub xmlns='p'><items node='n'><item/></items></pubsub></iq>").unwrap();
        assert_eq!(
            e.find("pubsub/items").and_then(|i| i.attr("node")),
            Some("n")
        );
        assert!(e.find("pubsub/nothing").is_none());
    }
}
