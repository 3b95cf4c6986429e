//! A journal record's event, parsed without serde's buffering for the most common events.
//!
//! [`Event`] is internally tagged (`{"event":"image_changed",...}`): serde's derived parse first
//! copies the whole record into a generic tree of values (to find the tag wherever it is), then
//! parses the variant from that tree, allocating every string and map twice. The journal writes
//! the tag first, so for the events a class writes most (repositories created and deleted, images
//! pushed, blobs linked) the tag is read from the record's start and the record parsed straight
//! into the variant's fields (the `event` key is ignored, as an unknown field). Every other
//! event, and a record whose tag is not first, goes through the derived parse.
//! The fields' types are the variant's, and each variant is built with all its fields named,
//! so a field added to one of these variants fails to compile here until it is added.

use serde::Deserialize;

use super::repository::{ImageUpdate, Repository};
use super::{Event, RegistryKey};
use crate::types::{Digest, RepositoryName};

/// The event of one record's JSON text.
pub(crate) fn parse(text: &str) -> serde_json::Result<Event> {
    Ok(match tag(text) {
        Some("repository_created") => {
            let RepositoryCreated { registry, repository } = serde_json::from_str(text)?;
            Event::RepositoryCreated { registry, repository }
        }
        Some("repository_deleted") => {
            let RepositoryDeleted { registry, name } = serde_json::from_str(text)?;
            Event::RepositoryDeleted { registry, name }
        }
        Some("image_changed") => {
            let ImageChanged { registry, name, update } = serde_json::from_str(text)?;
            Event::ImageChanged { registry, name, update }
        }
        Some("blob_linked") => {
            let BlobLinked { registry, name, digest, size } = serde_json::from_str(text)?;
            Event::BlobLinked { registry, name, digest, size }
        }
        Some("blob_unlinked") => {
            let BlobUnlinked { registry, name, digest } = serde_json::from_str(text)?;
            Event::BlobUnlinked { registry, name, digest }
        }
        _ => serde_json::from_str(text)?,
    })
}

/// The tag when it is the record's first key (as the journal writes it) and has no escapes.
fn tag(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(r#"{"event":""#)?;
    let name = &rest[..rest.find('"')?];
    (!name.contains('\\')).then_some(name)
}

#[derive(Deserialize)]
struct RepositoryCreated {
    registry: RegistryKey,
    repository: Box<Repository>,
}

#[derive(Deserialize)]
struct RepositoryDeleted {
    registry: RegistryKey,
    name: RepositoryName,
}

#[derive(Deserialize)]
struct ImageChanged {
    registry: RegistryKey,
    name: RepositoryName,
    update: Box<ImageUpdate>,
}

#[derive(Deserialize)]
struct BlobLinked {
    registry: RegistryKey,
    name: RepositoryName,
    digest: Digest,
    size: u64,
}

#[derive(Deserialize)]
struct BlobUnlinked {
    registry: RegistryKey,
    name: RepositoryName,
    digest: Digest,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::repository::tests::image_at;
    use crate::state::{DEFAULT_ACCOUNT, NewRepository, PutMode, State};
    use crate::types::{AccountId, ImageTag, Millis, Region};

    /// Records of every event with a fast path (and a few without) parse to exactly what the
    /// derived parse gives.
    #[test]
    fn the_fast_path_parses_what_the_derived_parse_does() {
        let registry =
            RegistryKey::new(AccountId::parse(DEFAULT_ACCOUNT).unwrap(), Region::parse("eu-west-1").unwrap());
        let name = RepositoryName::parse("team/app").unwrap();
        let mut state = State::new(b"secret".to_vec());
        state.create_repository(&registry, NewRepository::with_defaults(name.clone())).unwrap();
        let v1 = Some(ImageTag::parse("v1").unwrap());
        state.put_image(&registry, &name, image_at(1, Millis(5)), v1, PutMode::Api).unwrap();
        state.put_image(&registry, &name, image_at(2, Millis(6)), None, PutMode::Api).unwrap();
        let digest = Digest::sha256_of(b"layer");
        state.link_blob(&registry, &name, digest.clone(), 7).unwrap();
        state.unlink_blob(&registry, &name, &digest).unwrap();
        state.advance_clock(3).unwrap();
        state.delete_repository(&registry, &name, true).unwrap();
        let events = state.take_outbox();
        let mut tags: Vec<String> = Vec::new();
        for event in &events {
            let text = serde_json::to_string(event).unwrap();
            let fast = parse(&text).unwrap();
            let derived: Event = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string(&fast).unwrap(), serde_json::to_string(&derived).unwrap());
            tags.push(tag(&text).unwrap().to_owned());
        }
        for expected in ["repository_created", "image_changed", "blob_linked", "blob_unlinked", "repository_deleted"] {
            assert!(tags.iter().any(|t| t == expected), "{expected} not covered: {tags:?}");
        }
    }

    #[test]
    fn a_record_whose_tag_is_not_first_or_is_damaged_goes_the_derived_way() {
        let text =
            r#"{"registry":{"account":"123456789012","region":"eu-west-1"},"name":"ab","event":"repository_deleted"}"#;
        assert!(matches!(parse(text).unwrap(), Event::RepositoryDeleted { .. }));
        assert_eq!(tag(text), None);
        let missing = r#"{"event":"repository_deleted","name":"ab"}"#;
        assert!(parse(missing).unwrap_err().to_string().contains("missing field `registry`"));
        let bad_name =
            r#"{"event":"repository_deleted","registry":{"account":"123456789012","region":"eu-west-1"},"name":"A"}"#;
        assert!(parse(bad_name).is_err());
    }
}
