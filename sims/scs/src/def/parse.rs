//! The DEF text read line by line into sections, with the old guessed format refused.

use super::{Def, DefError, Section};

/// Parses the text of a DEF file.
///
/// Accepts a leading UTF-8 BOM, LF or CRLF line ends, blank lines, comment
/// lines starting with `;` or `#`, indentation, and `Key = "Value"` lines with
/// an optional `;` comment after the value. Fails on a key before any section,
/// a line without `=`, an unterminated quote or section header, an empty key or
/// section type, and the keys and sections of the old guessed format (see the
/// module documentation).
pub fn parse(text: &str) -> Result<Def, DefError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        let err = |message: String| DefError {
            line,
            key: None,
            message,
        };
        if let Some(rest) = trimmed.strip_prefix('[') {
            let close = rest
                .find(']')
                .ok_or_else(|| err("section header without closing ']'".to_string()))?;
            let after = rest[close + 1..].trim();
            if !after.is_empty() && !after.starts_with(';') {
                return Err(err(format!(
                    "unexpected text after section header: {after:?}"
                )));
            }
            let header = rest[..close].trim();
            let (kind, name) = match header.split_once(':') {
                Some((k, n)) => (k.trim(), n.trim()),
                None => (header, ""),
            };
            if kind.is_empty() {
                return Err(err(format!("section header without a type: [{header}]")));
            }
            if let Some(instead) = old_section(kind, name) {
                return Err(DefError {
                    line,
                    key: Some(format!("[{header}]")),
                    message: format!(
                        "section [{header}] is not Siebel's export format: write {instead}"
                    ),
                });
            }
            sections.push(Section {
                kind: kind.to_string(),
                name: name.to_string(),
                line,
                entries: Vec::new(),
            });
            continue;
        }
        let (key, value) = trimmed.split_once('=').ok_or_else(|| {
            err(format!(
                "expected `Key = \"Value\"` or a [Section] header, found {trimmed:?}"
            ))
        })?;
        let key = key.trim();
        if key.is_empty() {
            return Err(err("empty key before '='".to_string()));
        }
        let value = parse_value(value.trim()).map_err(err)?;
        let section = sections.last_mut().ok_or_else(|| {
            err(format!(
                "key {key:?} outside any section (add a [Type:Name] header first)"
            ))
        })?;
        if section.kind.eq_ignore_ascii_case("Driver") {
            if let Some(instead) = OLD_DRIVER_KEYS
                .iter()
                .find(|(old, _)| key.eq_ignore_ascii_case(old))
                .map(|(_, new)| new)
            {
                return Err(DefError {
                    line,
                    key: Some(key.to_string()),
                    message: format!(
                        "key {key:?} of [Driver:{}] is not Siebel's export format: write {instead}",
                        section.name
                    ),
                });
            }
        }
        section.entries.push((key.to_string(), value));
    }
    Ok(Def { sections })
}

/// Driver keys of the old guessed format and what an export writes instead.
const OLD_DRIVER_KEYS: [(&str, &str); 2] = [
    ("Inbound", "`Inbound Flag = \"Y\"`"),
    ("Outbound", "`Outbound Flag = \"Y\"`"),
];

/// For a section type of the old guessed format, the header an export writes.
fn old_section(kind: &str, name: &str) -> Option<String> {
    let is = |k: &str| kind.eq_ignore_ascii_case(k);
    if is("Configuration") {
        Some("[Configuration Parameters]".to_string())
    } else if is("DriverParameters") {
        Some(format!("[Driver Parameters:{name}]"))
    } else if is("CommandData") {
        Some(format!("[CmdData:{name}]"))
    } else {
        None
    }
}

/// The value of a `Key = value` line (the text after `=`, trimmed): between the
/// first `"` and the closing `"` (the first one followed only by blanks and a
/// `;` comment, or else the last one of the line); unquoted, up to a `;`.
fn parse_value(value: &str) -> Result<String, String> {
    let Some(body) = value.strip_prefix('"') else {
        let end = value.find(';').unwrap_or(value.len());
        return Ok(value[..end].trim().to_string());
    };
    let quotes: Vec<usize> = body.match_indices('"').map(|(i, _)| i).collect();
    if let Some(&q) = quotes
        .iter()
        .find(|&&q| body[q + 1..].trim_start().starts_with(';'))
    {
        return Ok(body[..q].to_string());
    }
    let Some(&last) = quotes.last() else {
        return Err("unterminated quoted value (missing closing '\"')".to_string());
    };
    let after = body[last + 1..].trim();
    if !after.is_empty() {
        return Err(format!("unexpected text after closing quote: {after:?}"));
    }
    Ok(body[..last].to_string())
}
