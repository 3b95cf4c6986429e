//! How the aws CLI prints responses: members in the service model's order, JSON indented by four
//! spaces (Python's `json.dumps(indent=4)`), timestamps in ISO 8601 as CLI v2 prints them (v1's
//! seconds since 1970 on request: [`times_as_epoch`]); and `--output text`.

use aws_sdk_ecr::types as t;
use mock_registry::types::Severity;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// An object of the members that are present, in the order given.
pub fn object<const N: usize>(members: [(&str, Option<Value>); N]) -> Value {
    let mut map = Map::new();
    for (key, value) in members {
        if let Some(value) = value {
            map.insert(key.to_owned(), value);
        }
    }
    Value::Object(map)
}

pub fn non_empty(items: Vec<Value>) -> Option<Value> {
    (!items.is_empty()).then_some(Value::Array(items))
}

/// A timestamp as CLI v2 prints it: Python's `datetime.isoformat()` of the epoch seconds received
/// (a float, rounded half-even to microseconds; no fraction when it is zero), in UTC
/// (`2026-12-03T17:19:27.824000+00:00`). The real CLI uses the machine's time zone; the lab's is UTC.
pub fn time(value: Option<&aws_sdk_ecr::primitives::DateTime>) -> Option<Value> {
    value.map(|t| Value::String(iso8601(t.secs() as f64 + f64::from(t.subsec_nanos()) / 1e9)))
}

fn iso8601(epoch: f64) -> String {
    use aws_sdk_ecr::primitives::{DateTime, DateTimeFormat};
    let mut whole = epoch.floor();
    let mut micros = ((epoch - whole) * 1e6).round_ties_even();
    if micros >= 1e6 {
        micros -= 1e6;
        whole += 1.0;
    }
    let stamp = DateTime::from_secs(whole as i64).fmt(DateTimeFormat::DateTime).unwrap_or_default();
    let seconds = stamp.get(..19).unwrap_or(&stamp);
    if micros == 0.0 { format!("{seconds}+00:00") } else { format!("{seconds}.{:06}+00:00", micros as u32) }
}

/// CLI v1's timestamps: every ISO 8601 time [`time`] made, back to seconds since 1970 (a float).
pub fn times_as_epoch(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(epoch) = epoch_of(s) {
                *value = json!(epoch);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(times_as_epoch),
        Value::Object(map) => map.values_mut().for_each(times_as_epoch),
        _ => {}
    }
}

/// CLI v1's timestamps from a query-protocol (XML) service such as STS: the text the service sent,
/// `2026-12-04T00:19:30Z` (v1 does not parse them), from the times [`time`] made.
pub fn times_as_sent_in_xml(value: &mut Value) {
    match value {
        Value::String(s) if epoch_of(s).is_some() => {
            let seconds = s.trim_end_matches("+00:00");
            let seconds = seconds.split_once('.').map_or(seconds, |(whole, _)| whole);
            *value = Value::String(format!("{seconds}Z"));
        }
        Value::Array(items) => items.iter_mut().for_each(times_as_sent_in_xml),
        Value::Object(map) => map.values_mut().for_each(times_as_sent_in_xml),
        _ => {}
    }
}

/// The epoch seconds of a time [`time`] printed (`YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`), else None.
fn epoch_of(text: &str) -> Option<f64> {
    use aws_sdk_ecr::primitives::{DateTime, DateTimeFormat};
    let stamp = text.strip_suffix("+00:00")?;
    let (seconds, micros) = match stamp.split_once('.') {
        Some((seconds, fraction)) if fraction.len() == 6 && fraction.bytes().all(|b| b.is_ascii_digit()) => {
            (seconds, fraction.parse::<u32>().ok()?)
        }
        Some(_) => return None,
        None => (stamp, 0),
    };
    let shape = seconds.len() == 19 && seconds.as_bytes()[10] == b'T' && seconds.as_bytes()[4] == b'-';
    let parsed = DateTime::from_str(&format!("{seconds}Z"), DateTimeFormat::DateTime).ok().filter(|_| shape)?;
    Some(parsed.secs() as f64 + f64::from(micros) / 1e6)
}

fn opt_str(value: Option<&str>) -> Option<Value> {
    value.map(Value::from)
}

pub fn repository(r: &t::Repository) -> Value {
    object([
        ("repositoryArn", opt_str(r.repository_arn())),
        ("registryId", opt_str(r.registry_id())),
        ("repositoryName", opt_str(r.repository_name())),
        ("repositoryUri", opt_str(r.repository_uri())),
        ("createdAt", time(r.created_at())),
        ("imageTagMutability", r.image_tag_mutability().map(|m| Value::from(m.as_str()))),
        (
            "imageTagMutabilityExclusionFilters",
            non_empty(r.image_tag_mutability_exclusion_filters().iter().map(exclusion_filter).collect()),
        ),
        ("imageScanningConfiguration", r.image_scanning_configuration().map(scanning)),
        (
            "encryptionConfiguration",
            r.encryption_configuration().map(|e| {
                object([
                    ("encryptionType", Some(Value::from(e.encryption_type().as_str()))),
                    ("kmsKey", opt_str(e.kms_key())),
                ])
            }),
        ),
    ])
}

pub fn exclusion_filter(f: &t::ImageTagMutabilityExclusionFilter) -> Value {
    json!({ "filterType": f.filter_type().as_str(), "filter": f.filter() })
}

pub fn scanning(s: &t::ImageScanningConfiguration) -> Value {
    json!({ "scanOnPush": s.scan_on_push() })
}

pub fn image_detail(d: &t::ImageDetail) -> Value {
    object([
        ("registryId", opt_str(d.registry_id())),
        ("repositoryName", opt_str(d.repository_name())),
        ("imageDigest", opt_str(d.image_digest())),
        ("imageTags", non_empty(d.image_tags().iter().map(|t| Value::from(t.as_str())).collect())),
        ("imageSizeInBytes", d.image_size_in_bytes().map(Value::from)),
        ("imagePushedAt", time(d.image_pushed_at())),
        ("imageScanStatus", d.image_scan_status().map(scan_status)),
        ("imageScanFindingsSummary", d.image_scan_findings_summary().map(findings_summary)),
        ("imageManifestMediaType", opt_str(d.image_manifest_media_type())),
        ("artifactMediaType", opt_str(d.artifact_media_type())),
        ("imageStatus", d.image_status().map(|s| Value::from(s.as_str()))),
        ("lastArchivedAt", time(d.last_archived_at())),
    ])
}

pub fn scan_status(s: &t::ImageScanStatus) -> Value {
    object([("status", s.status().map(|s| Value::from(s.as_str()))), ("description", opt_str(s.description()))])
}

fn severity_counts(counts: Option<&std::collections::HashMap<t::FindingSeverity, i32>>) -> Option<Value> {
    // The service sends the map in severity order; keep a stable order from most to least severe
    // (the mock's `Severity::ALL`).
    counts.map(|counts| {
        let mut map = Map::new();
        for severity in Severity::ALL {
            if let Some(n) = counts.get(&t::FindingSeverity::from(severity.wire())) {
                map.insert(severity.wire().to_owned(), Value::from(*n));
            }
        }
        Value::Object(map)
    })
}

pub fn findings_summary(s: &t::ImageScanFindingsSummary) -> Value {
    object([
        ("imageScanCompletedAt", time(s.image_scan_completed_at())),
        ("vulnerabilitySourceUpdatedAt", time(s.vulnerability_source_updated_at())),
        ("findingSeverityCounts", severity_counts(s.finding_severity_counts())),
    ])
}

pub fn finding(f: &t::ImageScanFinding) -> Value {
    object([
        ("name", opt_str(f.name())),
        ("description", opt_str(f.description())),
        ("uri", opt_str(f.uri())),
        ("severity", f.severity().map(|s| Value::from(s.as_str()))),
        (
            "attributes",
            Some(Value::Array(
                f.attributes()
                    .iter()
                    .map(|a| object([("key", Some(Value::from(a.key()))), ("value", opt_str(a.value()))]))
                    .collect(),
            )),
        ),
    ])
}

pub fn scan_findings(f: &t::ImageScanFindings, findings: Vec<Value>) -> Value {
    object([
        ("imageScanCompletedAt", time(f.image_scan_completed_at())),
        ("vulnerabilitySourceUpdatedAt", time(f.vulnerability_source_updated_at())),
        ("findingSeverityCounts", severity_counts(f.finding_severity_counts())),
        ("findings", Some(Value::Array(findings))),
    ])
}

pub fn preview_result(r: &t::LifecyclePolicyPreviewResult) -> Value {
    object([
        ("imageTags", non_empty(r.image_tags().iter().map(|t| Value::from(t.as_str())).collect())),
        ("imageDigest", opt_str(r.image_digest())),
        ("imagePushedAt", time(r.image_pushed_at())),
        ("action", r.action().map(|a| object([("type", a.r#type().map(|t| Value::from(t.as_str())))]))),
        ("appliedRulePriority", r.applied_rule_priority().map(Value::from)),
    ])
}

fn scanning_filter(f: &t::ScanningRepositoryFilter) -> Value {
    json!({ "filter": f.filter(), "filterType": f.filter_type().as_str() })
}

pub fn registry_scanning(c: &t::RegistryScanningConfiguration) -> Value {
    object([
        ("scanType", c.scan_type().map(|s| Value::from(s.as_str()))),
        (
            "rules",
            Some(Value::Array(
                c.rules()
                    .iter()
                    .map(|r| {
                        json!({
                            "scanFrequency": r.scan_frequency().as_str(),
                            "repositoryFilters": r.repository_filters().iter().map(scanning_filter).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            )),
        ),
    ])
}

pub fn repository_scanning(c: &t::RepositoryScanningConfiguration) -> Value {
    object([
        ("repositoryArn", opt_str(c.repository_arn())),
        ("repositoryName", opt_str(c.repository_name())),
        ("scanOnPush", Some(Value::Bool(c.scan_on_push()))),
        ("scanFrequency", c.scan_frequency().map(|f| Value::from(f.as_str()))),
        ("appliedScanFilters", Some(Value::Array(c.applied_scan_filters().iter().map(scanning_filter).collect()))),
    ])
}

pub fn image_id(i: &t::ImageIdentifier) -> Value {
    object([("imageDigest", opt_str(i.image_digest())), ("imageTag", opt_str(i.image_tag()))])
}

pub fn image(i: &t::Image) -> Value {
    object([
        ("registryId", opt_str(i.registry_id())),
        ("repositoryName", opt_str(i.repository_name())),
        ("imageId", i.image_id().map(image_id)),
        ("imageManifest", opt_str(i.image_manifest())),
        ("imageManifestMediaType", opt_str(i.image_manifest_media_type())),
    ])
}

pub fn image_failure(f: &t::ImageFailure) -> Value {
    object([
        ("imageId", f.image_id().map(image_id)),
        ("failureCode", f.failure_code().map(|c| Value::from(c.as_str()))),
        ("failureReason", opt_str(f.failure_reason())),
    ])
}

pub fn authorization_data(a: &t::AuthorizationData) -> Value {
    object([
        ("authorizationToken", opt_str(a.authorization_token())),
        ("expiresAt", time(a.expires_at())),
        ("proxyEndpoint", opt_str(a.proxy_endpoint())),
    ])
}

pub fn tag(t: &t::Tag) -> Value {
    json!({ "Key": t.key(), "Value": t.value() })
}

pub fn layer(l: &t::Layer) -> Value {
    object([
        ("layerDigest", opt_str(l.layer_digest())),
        ("layerAvailability", l.layer_availability().map(|a| Value::from(a.as_str()))),
        ("layerSize", l.layer_size().map(Value::from)),
        ("mediaType", opt_str(l.media_type())),
    ])
}

pub fn layer_failure(f: &t::LayerFailure) -> Value {
    object([
        ("layerDigest", opt_str(f.layer_digest())),
        ("failureCode", f.failure_code().map(|c| Value::from(c.as_str()))),
        ("failureReason", opt_str(f.failure_reason())),
    ])
}

/// JSON as the CLI prints it: four-space indent, `key: value`, UTF-8 as is.
pub fn pretty(value: &Value) -> String {
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    value.serialize(&mut serializer).expect("JSON values serialize");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// `--output text`, as botocore's text formatter: per object, its scalar members (sorted by name)
/// on one tab-separated line headed by the object's name, then its nested objects and lists.
pub fn text(value: &Value) -> String {
    let mut out = String::new();
    format_text(value, "", &mut out);
    out
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some("None".into()),
        _ => None,
    }
}

fn format_text(value: &Value, identifier: &str, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let scalars: Vec<String> = keys.iter().filter_map(|k| scalar(&map[*k])).collect();
            if !scalars.is_empty() {
                if !identifier.is_empty() {
                    out.push_str(identifier);
                    out.push('\t');
                }
                out.push_str(&scalars.join("\t"));
                out.push('\n');
            }
            for key in keys {
                let member = &map[key];
                if scalar(member).is_none() {
                    format_text(member, &key.to_uppercase(), out);
                }
            }
        }
        Value::Array(items) => {
            if items.iter().all(|i| scalar(i).is_some()) {
                // awscli's text.py: under a key, one `KEY<TAB>item` line per item; a bare list on one line.
                let scalars: Vec<String> = items.iter().filter_map(scalar).collect();
                if scalars.is_empty() {
                } else if identifier.is_empty() {
                    out.push_str(&scalars.join("\t"));
                    out.push('\n');
                } else {
                    for item in scalars {
                        out.push_str(identifier);
                        out.push('\t');
                        out.push_str(&item);
                        out.push('\n');
                    }
                }
            } else {
                for item in items {
                    format_text(item, identifier, out);
                }
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                out.push_str(&s);
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_matches_python_json_dumps_indent_4() {
        let value =
            object([("imageDetails", Some(json!([]))), ("n", Some(json!(1795719199.0))), ("f", Some(json!(1.5)))]);
        assert_eq!(pretty(&value), "{\n    \"imageDetails\": [],\n    \"n\": 1795719199.0,\n    \"f\": 1.5\n}");
    }

    #[test]
    fn times_as_v2_prints_them_and_back_for_v1() {
        assert_eq!(iso8601(1796163972.824), "2026-12-01T22:26:12.824000+00:00");
        assert_eq!(iso8601(1796163972.0), "2026-12-01T22:26:12+00:00");
        assert_eq!(iso8601(1796163972.9999996), "2026-12-01T22:26:13+00:00");
        let mut value = json!({ "a": [iso8601(1796163972.824)], "b": "v1", "c": "2026-12-01T22:26:12Z" });
        times_as_epoch(&mut value);
        assert_eq!(value, json!({ "a": [1796163972.824], "b": "v1", "c": "2026-12-01T22:26:12Z" }));
    }

    #[test]
    fn severity_counts_most_severe_first() {
        let counts: std::collections::HashMap<t::FindingSeverity, i32> =
            [("LOW", 3), ("CRITICAL", 1), ("UNDEFINED", 4), ("HIGH", 2)]
                .into_iter()
                .map(|(s, n)| (t::FindingSeverity::from(s), n))
                .collect();
        assert_eq!(
            severity_counts(Some(&counts)).unwrap().to_string(),
            r#"{"CRITICAL":1,"HIGH":2,"LOW":3,"UNDEFINED":4}"#
        );
    }

    #[test]
    fn text_output() {
        let value = json!({ "repositories": [{ "repositoryName": "test", "imageScanningConfiguration": { "scanOnPush": true } }] });
        assert_eq!(text(&value), "REPOSITORIES\ttest\nIMAGESCANNINGCONFIGURATION\tTrue\n");
    }

    #[test]
    fn text_output_of_scalar_lists() {
        // As the aws CLI prints them (checked side by side): one line per item under a key.
        let value = json!({ "imageDetails": [{ "imageDigest": "sha256:x", "imageTags": ["v1", "v2"] }] });
        assert_eq!(text(&value), "IMAGEDETAILS\tsha256:x\nIMAGETAGS\tv1\nIMAGETAGS\tv2\n");
        assert_eq!(text(&json!(["v1", "v2"])), "v1\tv2\n");
        assert_eq!(text(&json!("920736617090")), "920736617090\n");
        assert_eq!(text(&Value::Null), "None\n");
    }
}
