//! How values read on a page (times, sizes, settings), as [`maud`] markup: everything written
//! with `html!` is escaped by construction, so text from the state or the request is always safe.

use maud::{Markup, html};

use crate::clock::iso_seconds;
use crate::state::{Encryption, TagMutabilitySetting};
use crate::types::{EncryptionType, Millis, TagMutability, WireEnum};

/// A `<time>` element for `at` (`2026-11-26T20:19:54Z`).
pub(super) fn time(at: Millis) -> Markup {
    let iso = iso_seconds(at);
    html! { time datetime=(iso) { (iso) } }
}

pub(super) use crate::types::human_size;

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
pub(super) fn size(bytes: u64) -> Markup {
    html! { (human_size(bytes)) " " span class="muted" { "(" (grouped(bytes)) " bytes)" } }
}

/// Tag immutability as the console names it, with the API's value beside it.
pub(super) fn tag_mutability(setting: &TagMutabilitySetting) -> Markup {
    let word = match setting.mode {
        TagMutability::Immutable | TagMutability::ImmutableWithExclusion => "Enabled",
        TagMutability::Mutable | TagMutability::MutableWithExclusion => "Disabled",
    };
    html! {
        (word) " " code class="api" { (setting.mode.wire()) }
        @if !setting.filters.is_empty() {
            br;
            span class="muted" {
                "except tags matching "
                @for (i, filter) in setting.filters.iter().enumerate() {
                    @if i > 0 { ", " }
                    code { (filter.as_str()) }
                }
            }
        }
    }
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

pub(super) fn encryption(encryption: &Encryption) -> Markup {
    html! {
        (encryption_name(encryption.kind))
        @if let Some(key) = &encryption.kms_key { br; code class="wrap" { (key) } }
    }
}

/// A button that copies `text` (shown only when the script runs).
pub(super) fn copy_button(text: &str, what: &str) -> Markup {
    html! { button type="button" class="copy" data-copy=(text) aria-label={ "Copy " (what) } { "Copy" } }
}

/// The deepest indentation `readable_json` writes; deeper nesting stays on its parent's line.
const MAX_INDENT: usize = 16;

/// A manifest for reading: as stored when it already has line breaks; a compact one indented, its
/// members kept in the order they were pushed (re-serialising would sort them). The page is linear
/// in the manifest: indentation stops at [`MAX_INDENT`] levels, and a text that would still grow
/// past eight times its length (only a hostile one) is shown as stored.
pub(super) fn readable_json(text: &str) -> String {
    if text.contains('\n') {
        return text.to_owned();
    }
    let budget = text.len().saturating_mul(8).saturating_add(4096);
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        if depth <= MAX_INDENT {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() > budget {
            return text.to_owned();
        }
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
                newline(&mut out, depth.saturating_sub(1));
                depth = depth.saturating_sub(1);
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
        let markup = copy_button(r#"<a href="x">'&'</a>"#, "<b>");
        assert_eq!(
            markup.into_string(),
            r#"<button type="button" class="copy" data-copy="&lt;a href=&quot;x&quot;&gt;'&amp;'&lt;/a&gt;" aria-label="Copy &lt;b&gt;">Copy</button>"#
        );
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
    fn deep_json_renders_in_space_linear_in_its_length() {
        for depth in [17, 1000, 60_000] {
            let text = format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
            let shown = readable_json(&text);
            assert!(shown.len() <= 8 * text.len() + 4096 + 64, "{depth}: {} bytes from {}", shown.len(), text.len());
            let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
            if depth < 128 {
                assert_eq!(parse(&shown), parse(&text), "{shown}");
            }
        }
        let wide = format!("{}{}", "[".repeat(16), "1,".repeat(50_000) + "1" + &"]".repeat(16));
        assert!(readable_json(&wide).len() <= 8 * wide.len() + 4096 + 64);
    }

    #[test]
    fn times_and_sizes() {
        assert_eq!(
            time(Millis(1_795_724_394_999)).into_string(),
            r#"<time datetime="2026-11-26T20:19:54Z">2026-11-26T20:19:54Z</time>"#
        );
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(2_254_857), "2.15 MiB");
        assert_eq!(grouped(2_254_857), "2,254,857");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
    }
}
