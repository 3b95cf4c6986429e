//! `--output yaml` and `yaml-stream`, as CLI v2 prints them (awscli `formatter.YAMLFormatter`, with
//! ruamel.yaml's safe dumper in block style): keys sorted, sequences in a mapping not indented,
//! strings plain unless YAML 1.2 would read them as something else (then single-quoted), long
//! lines folded at a space past column 80; a bare scalar response printed as JSON.
//!
//! Not reproduced: strings with control characters other than line breaks (printed double-quoted
//! with JSON escapes here) and wide (East Asian) characters' column counts.

use serde_json::Value;

/// ruamel.yaml's `best_width`.
const BEST_WIDTH: usize = 80;

/// `--output yaml`.
pub fn yaml(value: &Value) -> String {
    match value {
        Value::Object(map) if map.is_empty() => String::new(),
        Value::Array(_) | Value::Object(_) => document(value),
        // A scalar response is JSON-dumped, as the CLI does to avoid YAML's `...` document end.
        scalar => format!("{scalar}\n"),
    }
}

/// `--output yaml-stream`: each response (the lab has one per command) as a one-item list.
pub fn yaml_stream(value: &Value) -> String {
    document(&Value::Array(vec![value.clone()]))
}

fn document(value: &Value) -> String {
    let mut emitter = Emitter { out: String::new(), column: 0 };
    match value {
        Value::Array(items) if !items.is_empty() => emitter.sequence(items, 0, false),
        Value::Object(map) if !map.is_empty() => emitter.mapping(map, 0, false),
        scalar => {
            emitter.scalar(scalar, 0);
            emitter.newline();
        }
    }
    emitter.out
}

struct Emitter {
    out: String,
    column: usize,
}

impl Emitter {
    fn write(&mut self, text: &str) {
        self.out.push_str(text);
        self.column += text.chars().count();
    }

    fn newline(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn indent(&mut self, indent: usize) {
        self.write(&" ".repeat(indent));
    }

    /// A block mapping at `indent`; `inline` when its first line's indentation is written already
    /// (after a sequence's `- `).
    fn mapping(&mut self, map: &serde_json::Map<String, Value>, indent: usize, inline: bool) {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        for (i, key) in keys.into_iter().enumerate() {
            if i > 0 || !inline {
                self.indent(indent);
            }
            self.scalar(&Value::String(key.clone()), indent + 2);
            self.write(":");
            match &map[key] {
                Value::Object(inner) if !inner.is_empty() => {
                    self.newline();
                    self.mapping(inner, indent + 2, false);
                }
                Value::Array(items) if !items.is_empty() => {
                    self.newline();
                    self.sequence(items, indent, false);
                }
                value => {
                    self.write(" ");
                    self.scalar(value, indent + 2);
                    self.newline();
                }
            }
        }
    }

    /// A block sequence whose `- ` marks stand at `indent`.
    fn sequence(&mut self, items: &[Value], indent: usize, inline: bool) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !inline {
                self.indent(indent);
            }
            self.write("- ");
            match item {
                Value::Object(inner) if !inner.is_empty() => self.mapping(inner, indent + 2, true),
                Value::Array(inner) if !inner.is_empty() => self.sequence(inner, indent + 2, true),
                value => {
                    self.scalar(value, indent + 2);
                    self.newline();
                }
            }
        }
    }

    /// A scalar (or an empty collection, in flow style); a folded line continues at `indent`.
    fn scalar(&mut self, value: &Value, indent: usize) {
        match value {
            Value::Null => self.write("null"),
            Value::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Value::Number(n) => self.write(&n.to_string()),
            Value::Array(_) => self.write("[]"),
            Value::Object(_) => self.write("{}"),
            Value::String(s) => match style(s) {
                Style::Plain => self.folded(s, indent, false),
                Style::Single => self.folded(s, indent, true),
                Style::Double => self.write(&Value::String(s.clone()).to_string()),
            },
        }
    }

    /// Plain or single-quoted text, a single space past column 80 becoming a line break.
    fn folded(&mut self, text: &str, indent: usize, quoted: bool) {
        if quoted {
            self.write("'");
        }
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let single_space = c == ' '
                && chars.get(i + 1) != Some(&' ')
                && (i == 0 || chars[i - 1] != ' ')
                && (!quoted || (i > 0 && i + 1 < chars.len()));
            if single_space && self.column > BEST_WIDTH {
                self.newline();
                self.indent(indent);
            } else if c == '\n' {
                // Only quoted text has line breaks: one more, as YAML folds them.
                self.newline();
                self.newline();
                self.indent(indent);
            } else if c == '\'' && quoted {
                self.write("''");
            } else {
                self.write(c.encode_utf8(&mut [0; 4]));
            }
            i += 1;
        }
        if quoted {
            self.write("'");
        }
    }
}

enum Style {
    Plain,
    Single,
    Double,
}

/// How ruamel.yaml writes a string: plain when it reads back as the same string, else quoted.
fn style(s: &str) -> Style {
    let special = s.chars().any(|c| c != '\n' && (c.is_control() || c == '\u{feff}'));
    if special {
        return Style::Double;
    }
    if s.is_empty()
        || s.contains('\n')
        || s.starts_with(' ')
        || s.ends_with(' ')
        || resolves_as_other_type(s)
        || has_indicators(s)
    {
        return Style::Single;
    }
    Style::Plain
}

/// PyYAML's `analyze_scalar` for block context: characters that stop a plain scalar.
fn has_indicators(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let followed_by_space = |i: usize| chars.get(i + 1).is_none_or(|c| c.is_whitespace());
    chars.iter().enumerate().any(|(i, &c)| {
        if i == 0 {
            "#,[]{}&*!|>'\"%@`".contains(c) || (matches!(c, '?' | ':' | '-') && followed_by_space(i))
        } else {
            (c == ':' && followed_by_space(i)) || (c == '#' && chars[i - 1].is_whitespace())
        }
    })
}

/// Whether YAML 1.2 (ruamel.yaml's resolver) reads the plain text as a bool, number, null or time.
fn resolves_as_other_type(s: &str) -> bool {
    matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "~" | "null" | "Null" | "NULL")
        || is_int(s)
        || is_float(s)
        || is_timestamp(s)
}

fn all_of(s: &str, allowed: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(allowed)
}

fn unsigned(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn is_int(s: &str) -> bool {
    let s = unsigned(s);
    if let Some(bits) = s.strip_prefix("0b") {
        return all_of(bits, |c| matches!(c, '0' | '1' | '_'));
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return all_of(hex, |c| c.is_ascii_hexdigit() || c == '_');
    }
    if let Some(octal) = s.strip_prefix("0o") {
        return all_of(octal, |c| matches!(c, '0'..='7' | '_'));
    }
    all_of(s, |c| c.is_ascii_digit() || c == '_')
}

fn is_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") || matches!(unsigned(s), ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let digits = |t: &str| all_of(t, |c| c.is_ascii_digit() || c == '_');
    let exponent = |t: &str| {
        let t = unsigned(t);
        all_of(t, |c| c.is_ascii_digit())
    };
    let body = unsigned(s);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if exp.is_some_and(|e| !exponent(e)) {
        return false;
    }
    match mantissa.split_once('.') {
        // `1.`, `1.5`, `1_0.5_`; `.5` (unsigned only)
        Some((whole, fraction)) if !whole.is_empty() => {
            digits(whole)
                && whole.starts_with(|c: char| c.is_ascii_digit())
                && (fraction.is_empty() || digits(fraction))
        }
        Some((_, fraction)) => body.len() == s.len() && digits(fraction),
        // `1e3`: digits and an exponent
        None => exp.is_some() && digits(mantissa) && mantissa.starts_with(|c: char| c.is_ascii_digit()),
    }
}

/// `YYYY-M-D`, alone or followed by a time.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if !(0..4).all(digit) || b.get(4) != Some(&b'-') || !digit(5) {
        return false;
    }
    let month_end = if digit(6) { 7 } else { 6 };
    if b.get(month_end) != Some(&b'-') || !digit(month_end + 1) {
        return false;
    }
    let day_end = if digit(month_end + 2) { month_end + 3 } else { month_end + 2 };
    matches!(b.get(day_end), None | Some(b'T' | b't' | b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn as_ruamel_yaml_writes_them() {
        // Checked against Debian's aws CLI 2.9.19 (`--output yaml` of a `--query` literal).
        let long = "This is a long description of a vulnerability in a package that goes on and on past eighty columns for sure";
        let value = json!({
            "a": long,
            "b": ["- x", "x #y", "a: b", "1e3", "0x1F", "~", "True", "on", "12:30", "2026-12-01", "@x", "x:", " x", "it's",
                  "line\nbreak", [[1, 2], []], "sha256:abc", "1.0", ".5", "-", "?x", "x,y", "[x", "x#y"],
            "c": { "d": { "e": long } },
        });
        assert_eq!(
            yaml(&value),
            "a: This is a long description of a vulnerability in a package that goes on and on
  past eighty columns for sure
b:
- '- x'
- 'x #y'
- 'a: b'
- '1e3'
- '0x1F'
- '~'
- 'True'
- on
- 12:30
- '2026-12-01'
- '@x'
- 'x:'
- ' x'
- it's
- 'line

  break'
- - - 1
    - 2
  - []
- sha256:abc
- '1.0'
- '.5'
- '-'
- ?x
- x,y
- '[x'
- x#y
c:
  d:
    e: This is a long description of a vulnerability in a package that goes on and
      on past eighty columns for sure
"
        );
    }

    #[test]
    fn scalars_and_streams() {
        assert_eq!(yaml(&json!("test")), "\"test\"\n");
        assert_eq!(yaml(&json!(1)), "1\n");
        assert_eq!(yaml(&Value::Null), "null\n");
        assert_eq!(yaml(&json!({})), "");
        assert_eq!(yaml(&json!({ "imageIds": [] })), "imageIds: []\n");
        assert_eq!(yaml_stream(&json!({ "imageIds": [] })), "- imageIds: []\n");
        assert_eq!(yaml_stream(&json!("test")), "- test\n");
        assert_eq!(yaml(&json!({ "Account": "920736617090" })), "Account: '920736617090'\n");
    }
}
