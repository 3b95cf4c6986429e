//! Flags several `aws ecr` commands share, as the CLI spells them.

use crate::shell::aws::flags::Flag;

pub const REGISTRY_ID: Flag = Flag::one("--registry-id");
pub const REPOSITORY_NAME: Flag = Flag::one("--repository-name").required();
pub const REPOSITORY_NAMES: Flag = Flag::many("--repository-names");
pub const IMAGE_ID: Flag = Flag::one("--image-id").required();
pub const IMAGE_IDS: Flag = Flag::many("--image-ids");
pub const FILTER: Flag = Flag::one("--filter");
pub const LAYER_DIGESTS: Flag = Flag::many("--layer-digests").required();
pub const UPLOAD_ID: Flag = Flag::one("--upload-id").required();
pub const RESOURCE_ARN: Flag = Flag::one("--resource-arn").required();
pub const TAGS: Flag = Flag::many("--tags");
pub const IMAGE_TAG_MUTABILITY: Flag = Flag::one("--image-tag-mutability");
pub const EXCLUSION_FILTERS: Flag = Flag::many("--image-tag-mutability-exclusion-filters");
pub const IMAGE_SCANNING_CONFIGURATION: Flag = Flag::one("--image-scanning-configuration");
pub const LIFECYCLE_POLICY_TEXT: Flag = Flag::one("--lifecycle-policy-text");
