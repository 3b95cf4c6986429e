//! The high level of argument handling: flag values into request members, as the CLI reads them
//! (`file://` and `fileb://` values, shorthand `a=1,b=x` or JSON, botocore's client-side checks).

use std::collections::BTreeMap;

use aws_sdk_ecr::types as t;
use serde_json::Value;

use super::failure::Failure;
use super::flags::Flags;

/// The members of one shorthand (or JSON) value.
pub type Members = BTreeMap<String, Value>;

/// `file://path` and `fileb://path` values, as the CLI reads them.
pub fn load_value(value: &str) -> Result<Vec<u8>, Failure> {
    let path = value.strip_prefix("fileb://").or_else(|| value.strip_prefix("file://"));
    match path {
        Some(path) => std::fs::read(path)
            .map_err(|e| Failure::Other(format!("Error parsing parameter: Unable to load paramfile {value}: {e}"))),
        None => Ok(value.as_bytes().to_vec()),
    }
}

pub fn text_value(value: &str) -> Result<String, Failure> {
    String::from_utf8(load_value(value)?)
        .map_err(|_| Failure::Other(format!("Error parsing parameter: {value} is not UTF-8 text")))
}

/// A one-value flag read as text (`file://` allowed).
pub fn text_flag(flags: &Flags, flag: &str) -> Result<Option<String>, Failure> {
    flags.one(flag).map(|v| text_value(&v)).transpose()
}

/// Shorthand `a=1,b=x` (or JSON) into key/value pairs.
pub fn shorthand(flag: &str, value: &str) -> Result<Members, Failure> {
    let value = text_value(value)?;
    if value.trim_start().starts_with('{') {
        return serde_json::from_str(&value).map_err(|e| {
            Failure::Other(format!(
                "Error parsing parameter '{}': Invalid JSON: {e}\nJSON received: {value}",
                flag.trim_start_matches("--")
            ))
        });
    }
    value
        .split(',')
        .map(|pair| {
            pair.split_once('=').map(|(k, v)| (k.trim().to_owned(), Value::String(v.trim().to_owned()))).ok_or_else(
                || {
                    Failure::Other(format!(
                        "Error parsing parameter '{}': Expected: '=', received: 'EOF' for input:\n{value}",
                        flag.trim_start_matches("--")
                    ))
                },
            )
        })
        .collect()
}

/// A one-value shorthand flag, read into `build` when present.
pub fn shorthand_flag<T>(
    flags: &Flags,
    flag: &str,
    build: impl FnOnce(&Members) -> Result<T, Failure>,
) -> Result<Option<T>, Failure> {
    flags.one(flag).map(|v| build(&shorthand(flag, &v)?)).transpose()
}

/// A many-value shorthand flag, each value read by `build`.
pub fn shorthand_list<T>(
    flags: &Flags,
    flag: &str,
    mut build: impl FnMut(&Members) -> Result<T, Failure>,
) -> Result<Option<Vec<T>>, Failure> {
    flags.many(flag).map(|values| values.iter().map(|v| build(&shorthand(flag, v)?)).collect()).transpose()
}

pub fn bool_member(map: &Members, key: &str, path: &str) -> Result<Option<bool>, Failure> {
    match map.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(other) => Err(Failure::Validation(format!(
            "Invalid type for parameter {path}, value: {}, type: <class 'str'>, valid types: <class 'bool'>",
            other.as_str().map(str::to_owned).unwrap_or_else(|| other.to_string())
        ))),
    }
}

pub fn str_member(map: &Members, key: &str) -> Option<String> {
    map.get(key).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
}

/// botocore's client-side check: the model's minimum lengths.
fn min_length(name: &str, value: &str, min: usize) -> Result<(), Failure> {
    if value.chars().count() < min {
        return Err(Failure::Validation(format!(
            "Invalid length for parameter {name}, value: {}, valid min length: {min}",
            value.chars().count()
        )));
    }
    Ok(())
}

/// `--part-first-byte 0`: an integer member. A value that is not a number stops the CLI (v1 and
/// v2) where it converts the flag, with Python's `int()` error and exit 255, before any request.
pub fn integer(flags: &Flags, flag: &str) -> Result<Option<i64>, Failure> {
    flags
        .one(flag)
        .map(|v| v.parse::<i64>().map_err(|_| Failure::Other(format!("invalid literal for int() with base 10: '{v}'"))))
        .transpose()
}

pub fn repository_name(flags: &Flags) -> Result<Option<String>, Failure> {
    let name = flags.one("--repository-name");
    if let Some(name) = &name {
        min_length("repositoryName", name, 2)?;
    }
    Ok(name)
}

fn image_identifier(map: &Members) -> Result<t::ImageIdentifier, Failure> {
    Ok(t::ImageIdentifier::builder()
        .set_image_digest(str_member(map, "imageDigest"))
        .set_image_tag(str_member(map, "imageTag"))
        .build())
}

/// `--image-ids imageTag=v1 imageDigest=...`: several images.
pub fn image_ids(flags: &Flags) -> Result<Option<Vec<t::ImageIdentifier>>, Failure> {
    shorthand_list(flags, "--image-ids", image_identifier)
}

/// `--image-id imageTag=v1` (or `imageDigest=...`): one image.
pub fn image_id(flags: &Flags) -> Result<Option<t::ImageIdentifier>, Failure> {
    shorthand_flag(flags, "--image-id", image_identifier)
}

/// `--tags Key=k,Value=v ...`.
pub fn resource_tags(flags: &Flags) -> Result<Option<Vec<t::Tag>>, Failure> {
    shorthand_list(flags, "--tags", |map| {
        t::Tag::builder()
            .set_key(str_member(map, "Key"))
            .set_value(str_member(map, "Value"))
            .build()
            .map_err(|_| Failure::Validation("Missing required parameter in tags[0]: \"Key\"".into()))
    })
}

pub fn exclusion_filters(flags: &Flags) -> Result<Option<Vec<t::ImageTagMutabilityExclusionFilter>>, Failure> {
    shorthand_list(flags, "--image-tag-mutability-exclusion-filters", |map| {
        t::ImageTagMutabilityExclusionFilter::builder()
            .set_filter_type(
                str_member(map, "filterType").map(|s| t::ImageTagMutabilityExclusionFilterType::from(s.as_str())),
            )
            .set_filter(str_member(map, "filter"))
            .build()
            .map_err(|e| Failure::Validation(e.to_string()))
    })
}

pub fn tag_mutability(flags: &Flags) -> Option<t::ImageTagMutability> {
    flags.one("--image-tag-mutability").map(|m| t::ImageTagMutability::from(m.as_str()))
}

pub fn scanning(flags: &Flags) -> Result<Option<t::ImageScanningConfiguration>, Failure> {
    shorthand_flag(flags, "--image-scanning-configuration", |map| {
        let scan_on_push = bool_member(map, "scanOnPush", "imageScanningConfiguration.scanOnPush")?;
        Ok(t::ImageScanningConfiguration::builder().set_scan_on_push(scan_on_push).build())
    })
}

/// The `tagStatus` of `--filter tagStatus=TAGGED`.
pub fn tag_status(map: &Members) -> Option<t::TagStatus> {
    str_member(map, "tagStatus").map(|s| t::TagStatus::from(s.as_str()))
}
