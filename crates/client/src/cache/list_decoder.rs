//! Incremental decoding of a list response such as
//! `{"kind": "PodList", "apiVersion": "v1", "metadata": {...}, "items": [...]}`.
//!
//! [`ListDecoder::feed`] takes the body chunk by chunk and hands each element of
//! `items` to a callback as soon as its last byte has arrived, then drops its bytes.
//! [`ListDecoder::finish`] decodes the rest of the list, its envelope: everything
//! outside `items`, which is kept with an empty `items` array. So a list is never
//! held whole, neither as bytes nor as a JSON tree: only the element being received
//! and the envelope are buffered.
//!
//! The scanner tracks strings, escapes and nesting depth, which is all it needs to
//! find the elements; each element's bytes are then decoded by the callback.
//! Malformed JSON inside an element is the callback's to report, malformed JSON
//! around the elements makes [`ListDecoder::finish`] fail.

use serde_json::Value;

/// Maximum length of a top-level key kept for comparison. A longer key cannot be
/// `items`.
const MAX_KEY_LEN: usize = 8;

/// The fields of a list besides its items.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ListEnvelope {
    /// `kind`, such as `PodList`; empty when absent.
    pub kind: String,
    /// `apiVersion`; empty when absent.
    pub api_version: String,
    /// `metadata.resourceVersion`; empty when absent.
    pub resource_version: String,
    /// `metadata.continue`, `None` when absent or empty.
    pub continue_token: Option<String>,
}

/// The part of the list the scanner is in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    /// Outside the items array: the bytes belong to the envelope.
    Envelope,
    /// Inside the items array.
    Items,
}

/// Splits a list response into its items and its envelope as chunks arrive.
pub(crate) struct ListDecoder {
    /// Received bytes not yet handed on: the start of the element being received,
    /// followed by bytes not yet scanned.
    pending: Vec<u8>,
    /// Start offset in `pending` of the element being received.
    item_start: Option<usize>,
    /// The list without the elements of its items array.
    envelope: Vec<u8>,
    phase: Phase,
    /// Nesting depth outside strings: 1 inside the top-level object, 2 inside the
    /// items array.
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The first bytes of the last string at depth 1, to recognise the `items` key.
    last_string: Vec<u8>,
    /// Set between an `"items":` and the value that follows it.
    expecting_items: bool,
    /// A structural error found while scanning, reported by `finish`.
    malformed: Option<&'static str>,
}

impl Default for ListDecoder {
    fn default() -> Self {
        Self {
            pending: Vec::new(),
            item_start: None,
            envelope: Vec::new(),
            phase: Phase::Envelope,
            depth: 0,
            in_string: false,
            escaped: false,
            last_string: Vec::with_capacity(MAX_KEY_LEN),
            expecting_items: false,
            malformed: None,
        }
    }
}

impl ListDecoder {
    /// Scans `chunk` and calls `on_item` with the JSON text of every element of
    /// `items` completed by it, in order.
    pub(crate) fn feed(&mut self, chunk: &[u8], on_item: &mut impl FnMut(&[u8])) {
        let mut index = self.pending.len();
        self.pending.extend_from_slice(chunk);

        while index < self.pending.len() {
            if self.phase == Phase::Items && self.in_string && !self.escaped {
                // Most bytes of an object are inside strings: jump to the next byte
                // that can end or escape one.
                match memchr::memchr2(b'"', b'\\', &self.pending[index..]) {
                    Some(offset) => index += offset,
                    None => break,
                }
            }
            let byte = self.pending[index];
            match self.phase {
                Phase::Envelope => {
                    self.envelope.push(byte);
                    self.scan_envelope(byte);
                }
                Phase::Items => {
                    if let Some(item) = self.scan_items(index, byte) {
                        on_item(&self.pending[item]);
                    }
                }
            }
            index += 1;
        }

        // Keep only the element still being received.
        let keep_from = self.item_start.unwrap_or(self.pending.len());
        self.pending.drain(..keep_from);
        if self.item_start.is_some() {
            self.item_start = Some(0);
        }
    }

    /// Returns the list's `kind` and `apiVersion` while the items are arriving, when
    /// both came before `items` (as the API server sends them). `None` when either
    /// is missing so far or the scanner is not inside the items array.
    pub(crate) fn type_before_items(&self) -> Option<(String, String)> {
        if self.phase != Phase::Items || self.malformed.is_some() {
            return None;
        }
        // The envelope so far ends with `"items": [`; closing both makes it whole.
        let mut text = self.envelope.clone();
        text.extend_from_slice(b"]}");
        let envelope: Value = serde_json::from_slice(&text).ok()?;
        let field = |name: &str| {
            envelope
                .get(name)
                .and_then(Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        Some((field("kind")?, field("apiVersion")?))
    }

    /// Decodes the envelope once the whole body was fed.
    ///
    /// # Errors
    /// A reason when the body ended early, is not a JSON object, or has no `items`
    /// array (`"items": null` counts as empty).
    pub(crate) fn finish(self) -> Result<ListEnvelope, String> {
        if let Some(reason) = self.malformed {
            return Err(reason.to_string());
        }
        if self.phase == Phase::Items || self.in_string || self.depth != 0 {
            return Err("the response ended in the middle of the list".to_string());
        }
        let envelope: Value = serde_json::from_slice(&self.envelope)
            .map_err(|error| format!("the response is not a JSON object: {error}"))?;
        match envelope.get("items") {
            Some(Value::Array(_)) | Some(Value::Null) => {}
            Some(_) => return Err("items is not an array".to_string()),
            None => return Err("the response has no items".to_string()),
        }

        let text = |value: Option<&Value>| {
            value
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(ListEnvelope {
            kind: text(envelope.get("kind")),
            api_version: text(envelope.get("apiVersion")),
            resource_version: text(envelope.pointer("/metadata/resourceVersion")),
            continue_token: Some(text(envelope.pointer("/metadata/continue")))
                .filter(|token| !token.is_empty()),
        })
    }

    /// Follows one byte outside the items array, watching for `"items": [`.
    fn scan_envelope(&mut self, byte: u8) {
        if self.in_string {
            let ends = self.string_byte(byte);
            if !ends && self.depth == 1 && self.last_string.len() < MAX_KEY_LEN {
                self.last_string.push(byte);
            }
            return;
        }
        if byte.is_ascii_whitespace() {
            return;
        }

        let expecting_items = std::mem::take(&mut self.expecting_items);
        match byte {
            b'"' => {
                self.in_string = true;
                self.last_string.clear();
            }
            b':' if self.depth == 1 => {
                self.expecting_items = self.last_string == b"items";
            }
            b'[' if expecting_items && self.depth == 1 => {
                self.depth += 1;
                self.phase = Phase::Items;
            }
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => self.close(),
            _ => {}
        }
    }

    /// Follows one byte inside the items array. Returns the range of an element in
    /// `pending` when this byte ends it.
    fn scan_items(&mut self, index: usize, byte: u8) -> Option<std::ops::Range<usize>> {
        if self.in_string {
            self.string_byte(byte);
            return None;
        }
        if byte.is_ascii_whitespace() {
            return None;
        }

        let at_array_level = self.depth == 2;
        match byte {
            b',' if at_array_level => {
                let item = self.take_item(index);
                if item.is_none() {
                    self.malformed = Some("items has an empty element");
                }
                return item;
            }
            b']' | b'}' if at_array_level => {
                // The end of the items array; the envelope continues after it.
                let item = self.take_item(index);
                self.close();
                self.phase = Phase::Envelope;
                self.envelope.push(byte);
                return item;
            }
            b'}' | b']' => self.close(),
            _ => {
                if at_array_level && self.item_start.is_none() {
                    self.item_start = Some(index);
                }
                match byte {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    _ => {}
                }
            }
        }
        None
    }

    /// Follows a byte inside a string; returns true when it closes the string.
    fn string_byte(&mut self, byte: u8) -> bool {
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.in_string = false;
            return true;
        }
        false
    }

    fn close(&mut self) {
        match self.depth.checked_sub(1) {
            Some(depth) => self.depth = depth,
            None => self.malformed = Some("the response has an unmatched closing bracket"),
        }
    }

    /// Ends the element being received at `end` (exclusive) and returns its range.
    fn take_item(&mut self, end: usize) -> Option<std::ops::Range<usize>> {
        self.item_start.take().map(|start| start..end)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Feeds `body` in chunks of `chunk_size` bytes; returns the items as JSON
    /// values (or the text of those that are not JSON) and the envelope.
    fn decode(body: &[u8], chunk_size: usize) -> (Vec<String>, Result<ListEnvelope, String>) {
        let mut decoder = ListDecoder::default();
        let mut items = Vec::new();
        for chunk in body.chunks(chunk_size.max(1)) {
            decoder.feed(chunk, &mut |item: &[u8]| {
                items.push(String::from_utf8_lossy(item).trim().to_string());
            });
        }
        (items, decoder.finish())
    }

    #[test]
    fn items_and_envelope_at_every_chunk_size() {
        let body = json!({
            "kind": "ConfigMapList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "17", "continue": "abc"},
            "items": [
                {"metadata": {"name": "a"}, "data": {"k": "with \"quotes\", ] and } and [ and {"}},
                {"metadata": {"name": "b\\"}, "data": {"nested": [[1, 2], {"items": []}]}},
                {"metadata": {"name": "c"}},
            ],
        })
        .to_string();
        let expected: Value = serde_json::from_str(&body).unwrap();
        for chunk_size in [1, 2, 3, 7, 64, body.len()] {
            let (items, envelope) = decode(body.as_bytes(), chunk_size);
            let items: Vec<Value> = items
                .iter()
                .map(|item| serde_json::from_str(item).expect("an item is JSON"))
                .collect();
            assert_eq!(
                items,
                expected["items"].as_array().unwrap().clone(),
                "chunk size {chunk_size}"
            );
            let envelope = envelope.expect("a list");
            assert_eq!(envelope.kind, "ConfigMapList");
            assert_eq!(envelope.api_version, "v1");
            assert_eq!(envelope.resource_version, "17");
            assert_eq!(envelope.continue_token.as_deref(), Some("abc"));
        }
    }

    #[test]
    fn metadata_after_items_and_whitespace() {
        let body = br#" { "items" : [ { "a" : 1 } ,
            {"b": 2} ] , "metadata" : { "resourceVersion" : "9", "continue": "" } }
        "#;
        let (items, envelope) = decode(body, 5);
        assert_eq!(items, vec![r#"{ "a" : 1 }"#, r#"{"b": 2}"#]);
        let envelope = envelope.expect("a list");
        assert_eq!(envelope.resource_version, "9");
        assert_eq!(envelope.continue_token, None, "an empty token is no token");
    }

    #[test]
    fn list_type_is_known_once_the_items_start() {
        let typed = br#"{"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "3"}, "items": [{"a": 1}, {"b": 2}]}"#;
        let mut decoder = ListDecoder::default();
        decoder.feed(&typed[..20], &mut |_: &[u8]| {});
        assert_eq!(decoder.type_before_items(), None, "still in the envelope");
        decoder.feed(&typed[20..95], &mut |_: &[u8]| {});
        assert_eq!(
            decoder.type_before_items(),
            Some(("PodList".to_string(), "v1".to_string()))
        );
        decoder.feed(&typed[95..], &mut |_: &[u8]| {});
        assert_eq!(decoder.type_before_items(), None, "past the items");

        // A type that follows the items is known only at the end.
        let late = br#"{"items": [{"a": 1}, {"b": 2}], "kind": "PodList", "apiVersion": "v1"}"#;
        let mut decoder = ListDecoder::default();
        decoder.feed(&late[..15], &mut |_: &[u8]| {});
        assert_eq!(decoder.type_before_items(), None);
        let untyped = br#"{"kind": "PodList", "items": [{"a": 1}"#;
        let mut decoder = ListDecoder::default();
        decoder.feed(untyped, &mut |_: &[u8]| {});
        assert_eq!(decoder.type_before_items(), None, "no apiVersion");
    }

    #[test]
    fn only_the_top_level_items_key_counts() {
        let body = br#"{"metadata": {"items": [1, 2]}, "x": "items", "items": [3]}"#;
        let (items, envelope) = decode(body, 4);
        assert_eq!(items, vec!["3"]);
        assert!(envelope.is_ok());
    }

    #[test]
    fn scalar_items_are_handed_on() {
        let (items, envelope) = decode(br#"{"items": ["x,]", 12, null, true]}"#, 3);
        assert_eq!(items, vec![r#""x,]""#, "12", "null", "true"]);
        assert!(envelope.is_ok());
    }

    #[test]
    fn empty_and_null_items() {
        for body in [
            &br#"{"items": []}"#[..],
            br#"{"items": null}"#,
            br#"{"items":[ ]}"#,
        ] {
            let (items, envelope) = decode(body, 2);
            assert!(items.is_empty(), "{}", String::from_utf8_lossy(body));
            assert!(envelope.is_ok(), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn invalid_lists() {
        let cases: [(&[u8], &str); 8] = [
            (br#"{"metadata": {}}"#, "the response has no items"),
            (br#"{"items": {}}"#, "items is not an array"),
            (br#"{"items": "x"}"#, "items is not an array"),
            (
                br#"{"items": [{"a": 1}"#,
                "the response ended in the middle of the list",
            ),
            (br#"{"items": [1,,2]}"#, "items has an empty element"),
            (
                br#"{"items": []}}"#,
                "the response has an unmatched closing bracket",
            ),
            (
                br#"{"items": [], "kind": x}"#,
                "the response is not a JSON object",
            ),
            (
                br#"{"items": [], "kind": "#,
                "the response ended in the middle of the list",
            ),
        ];
        for (body, expected) in cases {
            let (_, envelope) = decode(body, 3);
            let error = envelope.expect_err(&String::from_utf8_lossy(body));
            assert!(
                error.starts_with(expected),
                "{}: {error}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn not_an_object() {
        let (items, envelope) = decode(br#"[{"items": [1]}]"#, 4);
        assert!(items.is_empty());
        assert_eq!(envelope.unwrap_err(), "the response has no items");
    }
}
