//! Just enough RFC 5322 to read the header fields a mail list shows:
//! unfolded headers, then the body after the first empty line.

/// One parsed message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `Message-ID`, or a name made from the file when the header is absent.
    pub id: String,
    /// `Subject`, empty when absent.
    pub subject: String,
    /// `From`.
    pub from: String,
    /// `Date`, as written.
    pub date: String,
    /// The body; `None` when only headers were fetched.
    pub body: Option<String>,
}

/// Parses `text`; `fallback_id` names a message without a `Message-ID`.
pub fn parse(text: &str, fallback_id: &str) -> Message {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            // A folded line continues the previous field.
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    Message {
        id: field("message-id").unwrap_or_else(|| fallback_id.to_owned()),
        subject: field("subject").unwrap_or_default(),
        from: field("from").unwrap_or_default(),
        date: field("date").unwrap_or_default(),
        body: Some(body.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_headers_and_splits_the_body() {
        let m = parse("Subject: a long\r\n  subject\r\nFrom: x@y\r\n\r\nbody\r\n", "f");
        assert_eq!(m.subject, "a long subject");
        assert_eq!(m.from, "x@y");
        assert_eq!(m.id, "f");
        assert_eq!(m.body.as_deref(), Some("body\n"));
    }

    #[test]
    fn headers_only_message_has_an_empty_body() {
        let m = parse("Message-ID: <1@x>\n", "f");
        assert_eq!(m.id, "<1@x>");
        assert_eq!(m.body.as_deref(), Some(""));
    }
}
