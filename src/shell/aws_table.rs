//! `--output table`, as the aws CLI's table formatter draws it (awscli `formatter.TableFormatter`
//! and `table.MultiTable`): a section per object or list, scalar members as a header row and a value
//! row (or one key/value row), nested members as indented sections below; when the widest section
//! is wider than the terminal (80 columns when output is not a terminal, as in the lab) each
//! one-row section turns into key/value rows.

use serde_json::Value;

/// What the CLI assumes when it cannot ask a terminal for its width.
const TERMINAL_WIDTH: i64 = 80;

#[derive(Default)]
struct Section {
    title: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    indent: i64,
    max_widths: Vec<i64>,
}

impl Section {
    fn add_header(&mut self, headers: Vec<String>) {
        self.update_max_widths(&headers);
        self.headers = headers;
    }

    fn add_row(&mut self, row: Vec<String>) {
        self.update_max_widths(&row);
        self.rows.push(row);
    }

    fn update_max_widths(&mut self, row: &[String]) {
        if self.max_widths.is_empty() {
            self.max_widths = row.iter().map(|e| width(e)).collect();
        } else {
            for (max, e) in self.max_widths.iter_mut().zip(row) {
                *max = (*max).max(width(e));
            }
        }
    }

    /// Column widths with `padding` each, scaled to fill `max_width` as the CLI scales them.
    fn column_widths(&self, padding: i64, max_width: i64) -> Vec<i64> {
        let unscaled: Vec<i64> = self.max_widths.iter().map(|w| w + padding).collect();
        let total: i64 = unscaled.iter().sum();
        if unscaled.is_empty() || total == 0 {
            return unscaled;
        }
        let scale = max_width as f64 / total as f64;
        let mut scaled: Vec<i64> = unscaled.iter().map(|w| (scale * *w as f64).round_ties_even() as i64).collect();
        let mut off_by = scaled.iter().sum::<i64>() - max_width;
        while off_by != 0 {
            let order: Vec<usize> =
                if off_by < 0 { (0..scaled.len()).rev().collect() } else { (0..scaled.len()).collect() };
            for i in order {
                if off_by > 0 {
                    scaled[i] -= 1;
                    off_by -= 1;
                } else {
                    scaled[i] += 1;
                    off_by += 1;
                }
                if off_by == 0 {
                    break;
                }
            }
        }
        scaled
    }

    fn total_width(&self) -> i64 {
        let columns: i64 = self.max_widths.iter().map(|w| w + 4).sum();
        (width(&self.title) + 2 + 2 * self.indent).max(columns + 2 + 2 * self.indent)
    }
}

/// Columns a text takes (one per character).
fn width(text: &str) -> i64 {
    text.chars().count() as i64
}

/// A scalar as Python's `str()` shows it.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// Python's truth of a value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[derive(Default)]
struct Builder {
    sections: Vec<Section>,
}

impl Builder {
    fn current(&mut self) -> &mut Section {
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        self.sections.last_mut().expect("a section")
    }

    fn new_section(&mut self, title: &str, indent: i64) {
        self.sections.push(Section { title: title.to_owned(), indent, ..Section::default() });
    }

    fn build(&mut self, title: Option<&str>, current: &Value, indent: i64) -> bool {
        if !truthy(current) {
            return false;
        }
        if let Some(title) = title {
            self.new_section(title, indent);
        }
        match current {
            Value::Array(items) if items.first().is_some_and(Value::is_object) => {
                self.sub_table_from_list(items, indent, title.unwrap_or_default());
            }
            Value::Array(items) => {
                for item in items {
                    match item {
                        _ if is_scalar(item) => self.current().add_row(vec![shown(item)]),
                        Value::Array(row) if row.iter().all(is_scalar) => {
                            self.current().add_row(row.iter().map(shown).collect())
                        }
                        // Python iterates a dict's keys: all scalars, so they make the row.
                        Value::Object(map) => self.current().add_row(map.keys().cloned().collect()),
                        _ => {
                            self.build(None, item, 0);
                        }
                    }
                }
            }
            Value::Object(map) => self.sub_table_from_dict(map, indent),
            _ => {}
        }
        true
    }

    fn sub_table_from_dict(&mut self, map: &serde_json::Map<String, Value>, indent: i64) {
        let (headers, more) = group_keys(map);
        if let [only] = headers.as_slice() {
            let row = vec![only.clone(), shown(&map[only])];
            self.current().add_row(row);
        } else if !headers.is_empty() {
            let row = headers.iter().map(|k| shown(&map[k])).collect();
            self.current().add_header(headers);
            self.current().add_row(row);
        }
        for key in more {
            self.build(Some(&key), &map[&key], indent + 1);
        }
    }

    fn sub_table_from_list(&mut self, items: &[Value], indent: i64, title: &str) {
        let mut headers = std::collections::BTreeSet::new();
        let mut more = std::collections::BTreeSet::new();
        for item in items {
            if let Value::Object(map) = item {
                let (h, m) = group_keys(map);
                headers.extend(h);
                more.extend(m);
            }
        }
        let headers: Vec<String> = headers.into_iter().collect();
        self.current().add_header(headers.clone());
        for (i, item) in items.iter().enumerate() {
            if i > 0 && !more.is_empty() {
                self.new_section(title, indent);
                self.current().add_header(headers.clone());
            }
            let get = |key: &String| item.get(key).map(shown).unwrap_or_default();
            let row = headers.iter().map(get).collect();
            self.current().add_row(row);
            for key in &more {
                if let Some(member) = item.get(key) {
                    self.build(Some(key), member, indent + 1);
                }
            }
        }
    }
}

/// An object's keys, sorted: those with scalar values, then the others.
fn group_keys(map: &serde_json::Map<String, Value>) -> (Vec<String>, Vec<String>) {
    let (mut headers, mut more): (Vec<String>, Vec<String>) = map.keys().cloned().partition(|k| is_scalar(&map[k]));
    headers.sort();
    more.sort();
    (headers, more)
}

/// `--output table` of `value`, titled with the operation's name (nothing for an empty response).
pub fn table(title: &str, value: &Value) -> String {
    let mut builder = Builder::default();
    if !builder.build(Some(title), value, 0) {
        return String::new();
    }
    let mut sections = builder.sections;
    let widest = |sections: &[Section]| sections.iter().map(Section::total_width).max().unwrap_or(0);
    let mut max_width = widest(&sections);
    if max_width > TERMINAL_WIDTH {
        for section in sections.iter_mut() {
            if section.rows.len() == 1 && !section.headers.is_empty() {
                let mut vertical =
                    Section { title: section.title.clone(), indent: section.indent, ..Section::default() };
                for (header, element) in section.headers.iter().zip(&section.rows[0]) {
                    vertical.add_row(vec![header.clone(), element.clone()]);
                }
                *section = vertical;
            }
        }
        max_width = widest(&sections);
    }
    let mut out = format!("{}\n", "-".repeat(max_width.max(0) as usize));
    for section in &sections {
        render_section(section, max_width, &mut out);
    }
    out
}

fn render_section(section: &Section, max_width: i64, out: &mut String) {
    let bars = "|".repeat(section.indent as usize);
    let mut line = |text: String| out.push_str(&format!("{bars}{text}{bars}\n"));
    let max_width = max_width - section.indent * 2;
    if !section.title.is_empty() {
        line(center(&section.title, max_width, "|"));
        if section.headers.is_empty() && section.rows.is_empty() {
            line(format!("+{}+", dashes(max_width - 2)));
        }
    }
    let widths = section.column_widths(4, max_width);
    if !section.headers.is_empty() {
        line(line_break(&widths));
        let titles = section.headers.iter().zip(&widths).enumerate();
        line(titles.map(|(i, (h, w))| center(h, *w, if i == 0 { "|" } else { "" })).collect());
    }
    if section.rows.is_empty() || widths.is_empty() {
        return;
    }
    line(line_break(&widths));
    for row in &section.rows {
        let cells = row.iter().zip(&widths).enumerate();
        line(cells.map(|(i, (e, w))| align_left(e, *w, if i == 0 { "|" } else { "" })).collect());
    }
    line(line_break(&widths));
}

fn dashes(n: i64) -> String {
    "-".repeat(n.max(0) as usize)
}

fn spaces(n: i64) -> String {
    " ".repeat(n.max(0) as usize)
}

fn line_break(widths: &[i64]) -> String {
    let parts = widths.iter().enumerate();
    parts.map(|(i, w)| if i == 0 { format!("+{}+", dashes(w - 2)) } else { format!("{}+", dashes(w - 1)) }).collect()
}

/// `center_text`: the text centred between `left` and a right `|` in `length` columns.
fn center(text: &str, length: i64, left: &str) -> String {
    let text_length = width(text);
    let start = length.div_euclid(2) - text_length.div_euclid(2) - 1;
    let so_far = width(left) + start + text_length;
    format!("{left}{}{text}{}|", spaces(start), spaces(length - 1 - so_far))
}

/// `align_left`: two spaces (when they fit), the text, spaces to the right `|`.
fn align_left(text: &str, length: i64, left: &str) -> String {
    let text_length = width(text);
    let padding = if length - (text_length + 2 + width(left) + 1) >= 0 { 2 } else { 0 };
    let so_far = width(left) + padding + text_length;
    format!("{left}{}{text}{}|", spaces(padding), spaces(length - so_far - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_caller_identity_as_the_cli_draws_it() {
        let value = json!({ "UserId": "AIDAECRLABLEARNER0001", "Account": "920736617090", "Arn": "arn:aws:iam::920736617090:user/lab-learner" });
        assert_eq!(
            table("GetCallerIdentity", &value),
            "-----------------------------------------------------------
|                    GetCallerIdentity                    |
+---------+-----------------------------------------------+
|  Account|  920736617090                                 |
|  Arn    |  arn:aws:iam::920736617090:user/lab-learner   |
|  UserId |  AIDAECRLABLEARNER0001                        |
+---------+-----------------------------------------------+
"
        );
    }

    #[test]
    fn scalars_lists_and_nothing() {
        assert_eq!(
            table("DescribeRepositories", &json!(["test"])),
            "----------------------\n|DescribeRepositories|\n+--------------------+\n|  test              |\n+--------------------+\n"
        );
        assert_eq!(
            table("DescribeRepositories", &json!(1)),
            "----------------------\n|DescribeRepositories|\n+--------------------+\n"
        );
        assert_eq!(table("DescribeRepositories", &Value::Null), "");
        assert_eq!(table("ListImages", &json!({ "imageIds": [] })), "------------\n|ListImages|\n+----------+\n");
    }

    #[test]
    fn header_rows_and_nested_lists() {
        let value = json!({ "a": 1.5, "b": true, "c": null, "d": "2", "e": [1, 2], "h": [], "i": {} });
        assert_eq!(
            table("DescribeRepositories", &value),
            "------------------------------
|    DescribeRepositories    |
+-----+--------+--------+----+
|  a  |   b    |   c    | d  |
+-----+--------+--------+----+
|  1.5|  True  |  None  |  2 |
+-----+--------+--------+----+
||             e            ||
|+--------------------------+|
||  1                       ||
||  2                       ||
|+--------------------------+|
"
        );
    }
}
