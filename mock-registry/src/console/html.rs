//! Writing HTML by hand safely: escaping, and how values read on a page (times, sizes, settings).

use crate::sigv4::format_amz_date;
use crate::state::{Encryption, TagMutabilitySetting};
use crate::types::{EncryptionType, Millis, TagMutability, WireEnum};

/// Text or an attribute value, escaped. Everything from the state or the request goes through here.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-26T20:19:54Z`.
pub(super) fn iso_time(at: Millis) -> String {
    let compact = format_amz_date(at.0.div_euclid(1000));
    let part = |range: std::ops::Range<usize>| &compact[range];
    format!("{}-{}-{}T{}:{}:{}Z", part(0..4), part(4..6), part(6..8), part(9..11), part(11..13), part(13..15))
}

/// A `<time>` element for `at`.
pub(super) fn time(at: Millis) -> String {
    let iso = iso_time(at);
    format!(r#"<time datetime="{iso}">{iso}</time>"#)
}

/// `2.15 MiB`, `512 B`.
pub(super) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// `2,254,857`.
pub(super) fn grouped(bytes: u64) -> String {
    let digits = bytes.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size as people read it, with the exact bytes the API reports beside it.
pub(super) fn size(bytes: u64) -> String {
    format!(r#"{} <span class="muted">({} bytes)</span>"#, human_size(bytes), grouped(bytes))
}

/// Tag immutability as the console names it, with the API's value beside it.
pub(super) fn tag_mutability(setting: &TagMutabilitySetting) -> String {
    let word = match setting.mode {
        TagMutability::Immutable | TagMutability::ImmutableWithExclusion => "Enabled",
        TagMutability::Mutable | TagMutability::MutableWithExclusion => "Disabled",
    };
    let mut out = format!(r#"{word} <code class="api">{}</code>"#, setting.mode.wire());
    if !setting.filters.is_empty() {
        let filters: Vec<String> =
            setting.filters.iter().map(|f| format!("<code>{}</code>", esc(f.as_str()))).collect();
        out.push_str(&format!(r#"<br><span class="muted">except tags matching {}</span>"#, filters.join(", ")));
    }
    out
}

pub(super) fn enabled(on: bool) -> &'static str {
    if on { "Enabled" } else { "Disabled" }
}

pub(super) fn encryption_name(kind: EncryptionType) -> &'static str {
    match kind {
        EncryptionType::Aes256 => "AES-256",
        EncryptionType::Kms => "AWS KMS",
        EncryptionType::KmsDsse => "Dual-layer AWS KMS",
    }
}

pub(super) fn encryption(encryption: &Encryption) -> String {
    let mut out = esc(encryption_name(encryption.kind));
    if let Some(key) = &encryption.kms_key {
        out.push_str(&format!(r#"<br><code class="wrap">{}</code>"#, esc(key)));
    }
    out
}

/// A button that copies `text` (shown only when the script runs).
pub(super) fn copy_button(text: &str, what: &str) -> String {
    format!(
        r#"<button type="button" class="copy" data-copy="{}" aria-label="Copy {}">Copy</button>"#,
        esc(text),
        esc(what)
    )
}

/// A manifest for reading: as stored when it already has line breaks; a compact one indented, its
/// members kept in the order they were pushed (re-serialising would sort them).
pub(super) fn readable_json(text: &str) -> String {
    if text.contains('\n') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    out.push(chars.next().expect("peeked"));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn compact_json_is_indented_in_its_own_order() {
        let compact = r#"{"z":1,"a":{"s":"x, {\"y\": [","e":[],"l":[1,2]}}"#;
        let indented = readable_json(compact);
        let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(parse(&indented), parse(compact));
        assert!(indented.find(r#""z""#).unwrap() < indented.find(r#""a""#).unwrap(), "{indented}");
        assert!(indented.contains(r#""s": "x, {\"y\": [","#), "{indented}");
        assert!(indented.contains("\"e\": [],"), "{indented}");
        assert!(indented.contains("\n    \"l\": [\n      1,\n      2\n    ]\n  }\n}"), "{indented}");
        assert_eq!(readable_json("{\n \"a\": 1\n}"), "{\n \"a\": 1\n}");
    }

    #[test]
    fn times_and_sizes() {
        assert_eq!(iso_time(Millis(1_795_724_394_999)), "2026-11-26T20:19:54Z");
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2_254_857), "2.15 MiB");
        assert_eq!(grouped(2_254_857), "2,254,857");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
    }
}
