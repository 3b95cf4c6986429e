//! Lifecycle policies: the policy text parsed into typed rules (with ECR's validation wording), and
//! the pure evaluation that decides which images a policy expires (reference/ecr-facts.md §6b).
//! Nothing here mutates the state: `State` journals what [`evaluate`] returns.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::StateError;
use crate::types::{Digest, Millis, wildcard_match};

/// `lifecyclePolicyText` must be this long at least, and at most [`MAX_TEXT`].
pub const MIN_TEXT: usize = 100;
pub const MAX_TEXT: usize = 30_720;
/// At most this many `*` in one `tagPatternList` entry.
const MAX_WILDCARDS: usize = 4;
/// The member AWS names in a bad policy's message.
const MEMBER: &str = "LifecyclePolicyText";
/// What the JSON schema validator says when a value fits none of the selection shapes.
const NO_SCHEMA: &str = "instance failed to match exactly one schema (matched 0 out of 4)\n";

/// A validated policy, rules in priority order (lowest `rulePriority` first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicy {
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `rulePriority`.
    pub priority: u32,
    pub description: Option<String>,
    pub selection: Selection,
    // `action.type` is always `expire`: transition (to archive) is not in the lab.
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub tag_status: RuleTagStatus,
    /// `tagPrefixList`: every prefix must start at least one of an image's tags.
    pub prefixes: Vec<String>,
    /// `tagPatternList`: every pattern must match at least one of an image's tags.
    pub patterns: Vec<String>,
    pub count: Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleTagStatus {
    Tagged,
    Untagged,
    Any,
}

/// `countType` with `countNumber` (and `countUnit: days` for the time-based one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// `imageCountMoreThan N`: keep the newest N matching images.
    MoreThan(u32),
    /// `sinceImagePushed N days`: expire matching images pushed more than N days ago.
    SincePushedDays(u32),
}

/// What evaluation needs to know about one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub digest: Digest,
    pub tags: Vec<String>,
    pub pushed_at: Millis,
}

/// One image a policy expires, and the rule that did it (`appliedRulePriority`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    pub digest: Digest,
    pub rule_priority: u32,
}

fn failure(detail: impl std::fmt::Display) -> StateError {
    StateError::InvalidArgument { member: MEMBER, constraint: format!("Lifecycle policy validation failure: {detail}") }
}

fn enum_failure(value: &Value, allowed: &[&str]) -> StateError {
    let allowed: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    failure(format!("instance value ({value}) not found in enum (possible values: [{}])", allowed.join(",")))
}

fn missing(object: &Map<String, Value>, required: &[&str]) -> Result<(), StateError> {
    let absent: Vec<String> =
        required.iter().filter(|k| !object.contains_key(**k)).map(|k| format!("\"{k}\"")).collect();
    if absent.is_empty() {
        Ok(())
    } else {
        Err(failure(format!("object has missing required properties ([{}])", absent.join(","))))
    }
}

/// A JSON `null` anywhere fails the schema, as in ECR.
fn contains_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(contains_null),
        Value::Object(members) => members.values().any(contains_null),
        _ => false,
    }
}

fn strings(value: Option<&Value>) -> Result<Option<Vec<String>>, StateError> {
    let Some(value) = value else { return Ok(None) };
    let items = value.as_array().ok_or_else(|| failure(NO_SCHEMA))?;
    if items.is_empty() {
        return Err(failure(NO_SCHEMA));
    }
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| failure(NO_SCHEMA)))
        .collect::<Result<_, _>>()
        .map(Some)
}

fn positive(value: &Value, member: &str) -> Result<u32, StateError> {
    match value.as_i64() {
        Some(n) if n >= 1 => u32::try_from(n).map_err(|_| failure(format!("{member} is too large"))),
        Some(n) => {
            Err(failure(format!("numeric instance is lower than the required minimum (minimum: 1, found: {n})")))
        }
        None => Err(failure(format!(
            "instance type ({}) does not match any allowed primitive type (allowed: [\"integer\"])",
            json_type(value)
        ))),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl LifecyclePolicy {
    /// Parses and validates `lifecyclePolicyText`; the error is ECR's InvalidParameter text.
    pub fn parse(text: &str) -> Result<Self, StateError> {
        let length = text.chars().count();
        if length < MIN_TEXT {
            return Err(StateError::InvalidArgument {
                member: MEMBER,
                constraint: format!("Member must have length greater than or equal to {MIN_TEXT}"),
            });
        }
        if length > MAX_TEXT {
            return Err(StateError::InvalidArgument {
                member: MEMBER,
                constraint: format!("Member must have length less than or equal to {MAX_TEXT}"),
            });
        }
        let value: Value =
            serde_json::from_str(text).map_err(|_| failure("Could not map policyString into LifecyclePolicy."))?;
        let Value::Object(root) = &value else {
            return Err(failure("Could not map policyString into LifecyclePolicy."));
        };
        if contains_null(&value) {
            return Err(failure(NO_SCHEMA));
        }
        missing(root, &["rules"])?;
        let rules = root["rules"].as_array().ok_or_else(|| failure(NO_SCHEMA))?;
        if rules.is_empty() {
            return Err(failure("array is too short: must have at least 1 elements but instance has 0 elements"));
        }
        let mut parsed = rules.iter().map(Rule::parse).collect::<Result<Vec<_>, _>>()?;
        parsed.sort_by_key(|r| r.priority);
        if let Some(pair) = parsed.windows(2).find(|w| w[0].priority == w[1].priority) {
            return Err(failure(format!("The rulePriority {} is used by more than one rule", pair[0].priority)));
        }
        if let Some(any) = parsed.iter().position(|r| r.selection.tag_status == RuleTagStatus::Any)
            && any + 1 != parsed.len()
        {
            return Err(failure(format!(
                "The rule with tagStatus 'any' (rulePriority {}) must have the highest rulePriority",
                parsed[any].priority
            )));
        }
        if parsed.iter().filter(|r| r.selection.tag_status == RuleTagStatus::Untagged).count() > 1 {
            return Err(failure("Only one rule can select untagged images"));
        }
        Ok(Self { rules: parsed })
    }
}

impl Rule {
    fn parse(value: &Value) -> Result<Self, StateError> {
        let rule = value.as_object().ok_or_else(|| failure(NO_SCHEMA))?;
        missing(rule, &["action", "rulePriority", "selection"])?;
        let priority = positive(&rule["rulePriority"], "rulePriority")?;
        let description = match rule.get("description") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(failure(NO_SCHEMA)),
            None => None,
        };
        let action = rule["action"].as_object().ok_or_else(|| failure(NO_SCHEMA))?;
        missing(action, &["type"])?;
        match &action["type"] {
            Value::String(t) if t == "expire" => {}
            Value::String(t) if t == "transition" => {
                return Err(failure("the ecr-lab mock does not support the 'transition' action (archiving)"));
            }
            other => return Err(enum_failure(other, &["expire", "transition"])),
        }
        Ok(Self { priority, description, selection: Selection::parse(&rule["selection"])? })
    }
}

impl Selection {
    fn parse(value: &Value) -> Result<Self, StateError> {
        let selection = value.as_object().ok_or_else(|| failure(NO_SCHEMA))?;
        missing(selection, &["countNumber", "countType", "tagStatus"])?;
        let tag_status = match &selection["tagStatus"] {
            Value::String(s) if s == "tagged" => RuleTagStatus::Tagged,
            Value::String(s) if s == "untagged" => RuleTagStatus::Untagged,
            Value::String(s) if s == "any" => RuleTagStatus::Any,
            other => return Err(enum_failure(other, &["tagged", "untagged", "any"])),
        };
        if let Some(storage) = selection.get("storageClass")
            && storage != "standard"
        {
            return Err(failure("the ecr-lab mock only supports storageClass 'standard'"));
        }
        let prefixes = strings(selection.get("tagPrefixList"))?;
        let patterns = strings(selection.get("tagPatternList"))?;
        // tagged needs exactly one of the lists; untagged and any take neither.
        let lists_fit = match tag_status {
            RuleTagStatus::Tagged => prefixes.is_some() != patterns.is_some(),
            RuleTagStatus::Untagged | RuleTagStatus::Any => prefixes.is_none() && patterns.is_none(),
        };
        if !lists_fit {
            return Err(failure(NO_SCHEMA));
        }
        if let Some(pattern) = patterns.iter().flatten().find(|p| p.matches('*').count() > MAX_WILDCARDS) {
            return Err(failure(format!(
                "The tagPatternList entry '{pattern}' has more than {MAX_WILDCARDS} wildcards (*)"
            )));
        }
        let number = positive(&selection["countNumber"], "countNumber")?;
        let unit = selection.get("countUnit");
        let count = match &selection["countType"] {
            Value::String(t) if t == "imageCountMoreThan" => {
                if unit.is_some() {
                    return Err(failure(NO_SCHEMA));
                }
                Count::MoreThan(number)
            }
            Value::String(t) if t == "sinceImagePushed" => match unit {
                Some(Value::String(u)) if u == "days" => Count::SincePushedDays(number),
                Some(other) => return Err(enum_failure(other, &["days"])),
                None => return Err(failure(NO_SCHEMA)),
            },
            Value::String(t) if t == "sinceImagePulled" || t == "sinceImageTransitioned" => {
                return Err(failure(format!("the ecr-lab mock does not support countType '{t}'")));
            }
            other => {
                return Err(enum_failure(
                    other,
                    &["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"],
                ));
            }
        };
        Ok(Self { tag_status, prefixes: prefixes.unwrap_or_default(), patterns: patterns.unwrap_or_default(), count })
    }

    /// The rule's tag filter: status, and every prefix or pattern matching at least one tag.
    pub fn matches(&self, tags: &[String]) -> bool {
        let status = match self.tag_status {
            RuleTagStatus::Any => true,
            RuleTagStatus::Untagged => tags.is_empty(),
            RuleTagStatus::Tagged => !tags.is_empty(),
        };
        status
            && self.prefixes.iter().all(|p| tags.iter().any(|t| t.starts_with(p.as_str())))
            && self.patterns.iter().all(|p| tags.iter().any(|t| wildcard_match(p.as_bytes(), t.as_bytes())))
    }
}

/// Which images `policy` expires at `now`, in rule order then oldest first.
///
/// Rules run lowest priority first. An image any earlier rule's filter matched is shielded from
/// later rules, yet still counts toward their thresholds; so no image is expired twice.
pub fn evaluate(policy: &LifecyclePolicy, images: &[Candidate], now: Millis) -> Vec<Expiry> {
    let mut shielded: HashSet<&Digest> = HashSet::new();
    let mut expired = Vec::new();
    for rule in &policy.rules {
        let mut matching: Vec<&Candidate> = images.iter().filter(|i| rule.selection.matches(&i.tags)).collect();
        // Newest first; the digest breaks ties so the outcome never depends on input order.
        matching.sort_by(|a, b| b.pushed_at.cmp(&a.pushed_at).then_with(|| b.digest.cmp(&a.digest)));
        let selected: Vec<&Candidate> = match rule.selection.count {
            Count::MoreThan(n) => matching.iter().skip(n as usize).copied().collect(),
            Count::SincePushedDays(days) => {
                let cutoff = now.plus_seconds(-(i64::from(days) * 86_400));
                matching.iter().filter(|i| i.pushed_at < cutoff).copied().collect()
            }
        };
        for image in selected.into_iter().rev() {
            if !shielded.contains(&image.digest) {
                expired.push(Expiry { digest: image.digest.clone(), rule_priority: rule.priority });
            }
        }
        shielded.extend(matching.iter().map(|i| &i.digest));
    }
    expired
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const NOW: Millis = Millis(1_000 * DAY);

    fn policy(rules: &str) -> String {
        let text = format!(r#"{{"rules":[{rules}]}}"#);
        // Pad to the 100-character minimum with whitespace, which JSON ignores.
        format!("{text:<100}")
    }

    fn rule(priority: u32, selection: &str) -> String {
        format!(
            r#"{{"rulePriority":{priority},"description":"r{priority}","selection":{selection},"action":{{"type":"expire"}}}}"#
        )
    }

    fn image(name: &str, tags: &[&str], days_ago: i64) -> Candidate {
        Candidate {
            digest: Digest::sha256_of(name.as_bytes()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            pushed_at: Millis(NOW.0 - days_ago * DAY),
        }
    }

    /// Names of the expired images (by their digest) with the rule that expired each.
    fn run(rules: &[String], images: &[Candidate]) -> Vec<(String, u32)> {
        let parsed = LifecyclePolicy::parse(&policy(&rules.join(","))).unwrap();
        let names = ["A", "B", "C", "D", "E", "F", "G"];
        evaluate(&parsed, images, NOW)
            .into_iter()
            .map(|e| {
                let name = names.iter().find(|n| Digest::sha256_of(n.as_bytes()) == e.digest).unwrap();
                (name.to_string(), e.rule_priority)
            })
            .collect()
    }

    fn expired(rules: &[String], images: &[Candidate]) -> Vec<String> {
        let mut names: Vec<String> = run(rules, images).into_iter().map(|(n, _)| n).collect();
        names.sort();
        names
    }

    #[test]
    fn documented_examples() {
        // "Filtering on tag prefix": keep one prod image.
        let prod = rule(
            1,
            r#"{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":1}"#,
        );
        let images = [image("A", &["prod-1"], 10), image("B", &["prod-2"], 9), image("C", &["beta-1"], 8)];
        assert_eq!(expired(std::slice::from_ref(&prod), &images), ["A"]);

        // "Filtering on age": untagged images older than 14 days.
        let untagged =
            rule(1, r#"{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14}"#);
        let images = [image("A", &[], 20), image("B", &[], 14), image("C", &[], 2), image("D", &["v1"], 30)];
        assert_eq!(expired(std::slice::from_ref(&untagged), &images), ["A"]);

        // "Filtering on multiple rules": rule 1 expires A; rule 2 would expire A and B, but B is
        // matched by rule 1 (which keeps it), so only A goes.
        let beta = rule(
            2,
            r#"{"tagStatus":"tagged","tagPrefixList":["beta"],"countType":"imageCountMoreThan","countNumber":1}"#,
        );
        let images =
            [image("A", &["beta-1", "prod-1"], 10), image("B", &["beta-2", "prod-2"], 9), image("C", &["beta-3"], 8)];
        assert_eq!(run(&[prod.clone(), beta], &images), [("A".to_owned(), 1)]);

        // "Filtering on multiple tags in a single rule": only images with both an alpha and a beta tag match.
        let both = rule(
            1,
            r#"{"tagStatus":"tagged","tagPrefixList":["alpha","beta"],"countType":"imageCountMoreThan","countNumber":1}"#,
        );
        let images = [
            image("A", &["alpha-1"], 12),
            image("B", &["beta-1"], 11),
            image("C", &["alpha-2", "beta-2"], 10),
            image("D", &["alpha-3"], 4),
            image("E", &["beta-3"], 3),
            image("F", &["alpha-4", "beta-4"], 2),
        ];
        assert_eq!(expired(&[both], &images), ["C"]);

        // "Filtering on all images": rule 1 keeps one prod image; `any` (last) keeps one image in
        // all, but only images rule 1 did not match can go, and they still count.
        let any = rule(9, r#"{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}"#);
        let images = [
            image("A", &["prod-1"], 10),
            image("B", &["prod-2"], 9),
            image("C", &[], 8),
            image("D", &["dev"], 7),
            image("E", &["prod-3"], 1),
        ];
        assert_eq!(
            run(&[prod, any], &images),
            [("A".to_owned(), 1), ("B".to_owned(), 1), ("C".to_owned(), 9), ("D".to_owned(), 9)]
        );
    }

    #[test]
    fn patterns_need_every_pattern_to_match_a_tag() {
        let r = rule(
            1,
            r#"{"tagStatus":"tagged","tagPatternList":["prod*","*-eu"],"countType":"imageCountMoreThan","countNumber":1}"#,
        );
        let images = [
            image("A", &["prod-1", "x-eu"], 5),
            image("B", &["prod-2-eu"], 4),
            image("C", &["prod-3"], 3),
            image("D", &["prod-4", "y-eu"], 1),
        ];
        assert_eq!(expired(&[r], &images), ["A", "B"]);
    }

    #[test]
    fn rules_run_by_priority_not_by_position() {
        let any = rule(5, r#"{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}"#);
        let untagged = rule(2, r#"{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":5}"#);
        let images = [image("A", &[], 3), image("B", &[], 2), image("C", &["v1"], 1)];
        // The untagged rule (priority 2) runs first and shields A and B from `any`.
        assert_eq!(expired(&[any, untagged], &images), Vec::<String>::new());
    }

    fn bad(text: &str) -> String {
        match LifecyclePolicy::parse(text) {
            Err(StateError::InvalidArgument { member, constraint }) => {
                assert_eq!(member, "LifecyclePolicyText");
                constraint
            }
            other => panic!("{text}: expected a validation failure, got {other:?}"),
        }
    }

    #[test]
    fn malformed_policies_are_refused_with_the_services_wording() {
        let v = |detail: &str| format!("Lifecycle policy validation failure: {detail}");
        let sel = |s: &str| policy(&rule(1, s));
        let cases: Vec<(String, String)> = vec![
            ("{}".into(), "Member must have length greater than or equal to 100".into()),
            (format!("{:<100}", "not json"), v("Could not map policyString into LifecyclePolicy.")),
            (format!("{:<100}", "[1, 2]"), v("Could not map policyString into LifecyclePolicy.")),
            (format!("{:<100}", r#"{"rulez":[]}"#), v(r#"object has missing required properties (["rules"])"#)),
            (policy(""), v("array is too short: must have at least 1 elements but instance has 0 elements")),
            (sel(r#"{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1}"#), v(NO_SCHEMA)),
            (
                sel(
                    r#"{"tagStatus":"untagged","tagPrefixList":["v"],"countType":"imageCountMoreThan","countNumber":1}"#,
                ),
                v(NO_SCHEMA),
            ),
            (
                sel(r#"{"tagStatus":"any","countType":"imageCountMoreThan","countUnit":"days","countNumber":1}"#),
                v(NO_SCHEMA),
            ),
            (sel(r#"{"tagStatus":"any","countType":"sinceImagePushed","countNumber":1}"#), v(NO_SCHEMA)),
            (sel(r#"{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":null}"#), v(NO_SCHEMA)),
            (
                sel(r#"{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":0}"#),
                v("numeric instance is lower than the required minimum (minimum: 1, found: 0)"),
            ),
            (
                sel(r#"{"tagStatus":"some","countType":"imageCountMoreThan","countNumber":1}"#),
                v(r#"instance value ("some") not found in enum (possible values: ["tagged","untagged","any"])"#),
            ),
            (
                sel(
                    r#"{"tagStatus":"tagged","tagPatternList":["a*b*c*d*e*"],"countType":"imageCountMoreThan","countNumber":1}"#,
                ),
                v("The tagPatternList entry 'a*b*c*d*e*' has more than 4 wildcards (*)"),
            ),
            (
                sel(r#"{"tagStatus":"any","countType":"imageCountMoreThan"}"#),
                v(r#"object has missing required properties (["countNumber"])"#),
            ),
            (
                policy(
                    &[
                        rule(1, r#"{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1}"#),
                        rule(1, r#"{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}"#),
                    ]
                    .join(","),
                ),
                v("The rulePriority 1 is used by more than one rule"),
            ),
            (
                policy(
                    &[
                        rule(1, r#"{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}"#),
                        rule(2, r#"{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1}"#),
                    ]
                    .join(","),
                ),
                v("The rule with tagStatus 'any' (rulePriority 1) must have the highest rulePriority"),
            ),
            (
                format!(
                    "{:<100}",
                    r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"delete"}}]}"#
                ),
                v(r#"instance value ("delete") not found in enum (possible values: ["expire","transition"])"#),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(bad(&text), expected, "{text}");
        }
        assert!(bad(&" ".repeat(MAX_TEXT + 1)).contains("less than or equal to 30720"));
    }

    /// A small deterministic generator (xorshift), so the property test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, bound: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % bound
        }
    }

    #[test]
    fn generated_repositories_keep_the_invariants() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let tags = ["prod-1", "prod-2", "beta-1", "dev", "latest", "v1.2"];
        for round in 0..500 {
            let images: Vec<Candidate> = (0..rng.next(12))
                .map(|i| {
                    let mut t: Vec<String> =
                        (0..rng.next(3)).map(|_| tags[rng.next(tags.len() as u64) as usize].to_owned()).collect();
                    t.dedup();
                    Candidate {
                        digest: Digest::sha256_of(format!("{round}-{i}").as_bytes()),
                        tags: t,
                        pushed_at: Millis(NOW.0 - rng.next(40) as i64 * DAY),
                    }
                })
                .collect();
            let n = 1 + rng.next(4) as u32;
            let selections = [
                format!(
                    r#"{{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":{n}}}"#
                ),
                format!(
                    r#"{{"tagStatus":"tagged","tagPatternList":["*-1"],"countType":"sinceImagePushed","countUnit":"days","countNumber":{n}}}"#
                ),
                format!(r#"{{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":{n}}}"#),
                format!(r#"{{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":{n}}}"#),
            ];
            // A random subset of the rules, `any` kept last.
            let chosen: Vec<String> = selections
                .iter()
                .enumerate()
                .filter(|_| rng.next(2) == 0)
                .map(|(i, s)| rule(i as u32 + 1, s))
                .collect();
            if chosen.is_empty() {
                continue;
            }
            let parsed = LifecyclePolicy::parse(&policy(&chosen.join(","))).unwrap();
            let expiries = evaluate(&parsed, &images, NOW);

            let unique: HashSet<&Digest> = expiries.iter().map(|e| &e.digest).collect();
            assert_eq!(unique.len(), expiries.len(), "an image expired twice");

            for rule in &parsed.rules {
                let Count::MoreThan(n) = rule.selection.count else { continue };
                let matching = images.iter().filter(|i| rule.selection.matches(&i.tags)).count();
                let by_rule = expiries.iter().filter(|e| e.rule_priority == rule.priority).count();
                // Shielding only ever spares images, so at least min(N, matching) stay.
                assert!(matching - by_rule >= (n as usize).min(matching));
                if rule.priority == parsed.rules[0].priority {
                    assert_eq!(matching - by_rule, (n as usize).min(matching), "the first rule keeps exactly N");
                }
            }
        }
    }
}
