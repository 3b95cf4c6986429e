//! `application/x-www-form-urlencoded` as browsers send it, for form bodies and query strings.
//! Keeps every pair in order, so a field sent several times (checkboxes, filters) keeps all its values.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What a query value may carry unencoded: RFC 3986's unreserved characters.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

#[derive(Debug, Default, Clone)]
pub(super) struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(text: &str) -> Self {
        let decode = |part: &str| percent_decode_str(&part.replace('+', " ")).decode_utf8_lossy().into_owned();
        Self(
            text.split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(name), decode(value))
                })
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The first value of any of `names` (a member's plain and dotted API spellings).
    pub fn first_of(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| self.get(name))
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A value for a query string.
pub(super) fn encode(value: &str) -> String {
    utf8_percent_encode(value, VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_in_order_with_repeats() {
        let form = FormData::parse("repositoryName=team%2Fweb&scanOnPush=true&f=a+b&f=c&empty=&bare");
        assert_eq!(form.get("repositoryName"), Some("team/web"));
        assert_eq!(form.all("f").collect::<Vec<_>>(), ["a b", "c"]);
        assert_eq!(form.get("empty"), Some(""));
        assert_eq!(form.get("bare"), Some(""));
        assert_eq!(form.get("missing"), None);
        assert_eq!(form.first_of(&["x", "scanOnPush"]), Some("true"));
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}
