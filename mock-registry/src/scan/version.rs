//! Package version order, as each distribution defines it: dpkg's (epochs, `~`, revisions; Debian
//! Policy §5.6.12 and dpkg's `verrevcmp`) and apk's (apk-tools `version.c`: dotted numbers, a letter,
//! `_alpha`…`_p` suffixes, `-rN`). A version that does not parse compares by these rules anyway: the
//! rules define an order on every string, as the tools themselves do.

use std::cmp::Ordering;

/// The package formats whose versions the scanner compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Dpkg,
    Apk,
}

impl Scheme {
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Dpkg => dpkg_compare(a, b),
            Scheme::Apk => apk_compare(a, b),
        }
    }
}

/// dpkg's order on `[epoch:]upstream[-revision]`.
pub fn dpkg_compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = dpkg_split(a);
    let (eb, ub, rb) = dpkg_split(b);
    ea.cmp(&eb).then_with(|| verrevcmp(ua, ub)).then_with(|| verrevcmp(ra, rb))
}

/// Epoch (0 when absent), upstream version, revision (empty when absent: the same as `0`).
fn dpkg_split(version: &str) -> (u64, &str, &str) {
    let version = version.trim();
    let (epoch, rest) = match version.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => {
            (epoch.parse().unwrap_or(u64::MAX), rest)
        }
        _ => (0, version),
    };
    match rest.rsplit_once('-') {
        Some((upstream, revision)) => (epoch, upstream, revision),
        None => (epoch, rest, ""),
    }
}

/// The weight of one non-digit character: `~` sorts before everything, even the end of the
/// string; letters before other characters.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternating runs of non-digits (compared by [`order`]) and digits
/// (compared as numbers).
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// apk's suffixes, in order; the position of "no suffix" is between `_rc` and `_cvs`.
const APK_PRE: &[&str] = &["alpha", "beta", "pre", "rc"];
const APK_POST: &[&str] = &["cvs", "svn", "git", "hg", "p"];
/// The rank of "no (further) suffix".
const APK_NONE: i32 = 0;

#[derive(Debug, PartialEq, Eq)]
struct ApkVersion {
    numbers: Vec<u64>,
    letter: Option<u8>,
    /// (rank, number): pre-release suffixes rank below [`APK_NONE`], post-release ones above.
    suffixes: Vec<(i32, u64)>,
    revision: u64,
}

fn apk_parse(version: &str) -> ApkVersion {
    let version = version.trim();
    let (body, revision) = match version.rsplit_once("-r") {
        Some((body, r)) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) => {
            (body, r.parse().unwrap_or(u64::MAX))
        }
        _ => (version, 0),
    };
    let (main, suffix_text) = match body.split_once('_') {
        Some((main, rest)) => (main, Some(rest)),
        None => (body, None),
    };
    let mut numbers = Vec::new();
    let mut letter = None;
    for part in main.split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        numbers.push(digits.parse().unwrap_or(0));
        if let Some(&c) = part.as_bytes().get(digits.len())
            && c.is_ascii_lowercase()
        {
            letter = Some(c);
        }
    }
    let mut suffixes = Vec::new();
    for suffix in suffix_text.into_iter().flat_map(|s| s.split('_')) {
        let name: String = suffix.chars().take_while(char::is_ascii_alphabetic).collect();
        let number = suffix[name.len()..].parse().unwrap_or(0);
        let rank = if let Some(p) = APK_PRE.iter().position(|s| *s == name) {
            p as i32 - APK_PRE.len() as i32
        } else if let Some(p) = APK_POST.iter().position(|s| *s == name) {
            p as i32 + 1
        } else {
            APK_NONE
        };
        suffixes.push((rank, number));
    }
    ApkVersion { numbers, letter, suffixes, revision }
}

/// apk's order: numbers one by one (a missing one is lower), then the letter, then the suffixes,
/// then the `-rN` revision.
pub fn apk_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (apk_parse(a), apk_parse(b));
    let numbers = a.numbers.iter().zip(&b.numbers).map(|(x, y)| x.cmp(y)).find(|o| o.is_ne());
    let numbers = numbers.unwrap_or_else(|| a.numbers.len().cmp(&b.numbers.len()));
    let suffixes = || {
        let n = a.suffixes.len().max(b.suffixes.len());
        (0..n)
            .map(|k| {
                let none = (APK_NONE, 0);
                a.suffixes.get(k).unwrap_or(&none).cmp(b.suffixes.get(k).unwrap_or(&none))
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    };
    numbers.then_with(|| a.letter.cmp(&b.letter)).then_with(suffixes).then_with(|| a.revision.cmp(&b.revision))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ascending(scheme: Scheme, versions: &[&str]) {
        for pair in versions.windows(2) {
            assert_eq!(scheme.compare(pair[0], pair[1]), Ordering::Less, "{} < {}", pair[0], pair[1]);
            assert_eq!(scheme.compare(pair[1], pair[0]), Ordering::Greater, "{} > {}", pair[1], pair[0]);
        }
    }

    #[test]
    fn debian_policy_tilde_example() {
        // Debian Policy §5.6.12: "~~, ~~a, ~, the empty part, a".
        ascending(Scheme::Dpkg, &["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"]);
    }

    #[test]
    fn dpkg_epochs_revisions_and_numbers() {
        ascending(Scheme::Dpkg, &["1.0~rc1-1", "1.0-1", "1.0-1+b1", "1.0-2", "1.0.1-1", "1.10-1", "1:0.1-1"]);
        assert_eq!(dpkg_compare("1:1.2.13.dfsg-1", "1.3-1"), Ordering::Greater, "the epoch wins");
        assert_eq!(dpkg_compare("0:1.0", "1.0"), Ordering::Equal, "epoch 0 is no epoch");
        assert_eq!(dpkg_compare("1.0", "1.0-0"), Ordering::Equal, "no revision is revision 0");
        assert_eq!(dpkg_compare("1.001", "1.1"), Ordering::Equal, "digits compare as numbers");
        assert_eq!(dpkg_compare("2.36-9", "2.36-9"), Ordering::Equal);
        // The revision is what follows the last hyphen; the upstream part may hold hyphens.
        assert_eq!(dpkg_compare("1.2-3-4", "1.2-3-5"), Ordering::Less);
    }

    #[test]
    fn dpkg_security_updates_of_the_sample_packages() {
        // Installed in the sample image vs the versions the DSAs fixed.
        ascending(Scheme::Dpkg, &["7.88.1-10", "7.88.1-10+deb12u1", "7.88.1-10+deb12u4", "7.88.1-10+deb12u12"]);
        ascending(Scheme::Dpkg, &["2.36-9", "2.36-9+deb12u3"]);
        ascending(Scheme::Dpkg, &["3.0.9-1", "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "3.0.11-1"]);
    }

    #[test]
    fn apk_versions() {
        ascending(Scheme::Apk, &["1.2", "1.2a", "1.2.1", "1.9", "1.10"]);
        ascending(Scheme::Apk, &["2.0_alpha1", "2.0_beta2", "2.0_pre1", "2.0_rc1", "2.0_rc2", "2.0", "2.0_p1"]);
        ascending(Scheme::Apk, &["3.1.3-r0", "3.1.4-r0", "3.1.4-r1", "3.1.4-r10"]);
        ascending(Scheme::Apk, &["1.36.1-r0", "1.36.1-r1", "1.36.1_git20240101-r0"]);
        assert_eq!(apk_compare("3.1.4-r0", "3.1.4"), Ordering::Equal, "no revision is r0");
    }
}
