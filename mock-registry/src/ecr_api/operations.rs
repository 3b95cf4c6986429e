//! One function per operation: turn wire members into typed values (ECR's validation errors),
//! call the state once, and build the wire response.

use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;

use super::wire::*;
use super::{
    EcrError, Operation, backfill, json, layers, parse, policies, pull_through, referrers, registry as settings,
    replication, scanning, templates,
};
use crate::Lab;
use crate::state::manifest;
use crate::state::token;
use crate::state::{
    Caller, Encryption, ImageFailure, ImageRef, NewRepository, PreviewResult, PutMode, RegistryKey, RepositoryUpdate,
    ResourceTag, StateError, TagMutabilitySetting,
};
use crate::types::{
    AccountId, Digest, EncryptionType, ExclusionFilter as TypedFilter, ImageTag, Region, RepositoryName, TagMutability,
    TagStatus, WireEnum,
};

/// Page size when `maxResults` is not given (DescribeRepositories, DescribeImages, ListImages).
const DEFAULT_PAGE: usize = 100;

pub(super) async fn dispatch(
    lab: &Lab,
    caller: &Caller,
    operation: Operation,
    body: &[u8],
    host: &str,
) -> Result<Response, EcrError> {
    match operation {
        Operation::CreateRepository => create_repository(lab, caller, parse(body)?).await,
        Operation::DescribeRepositories => describe_repositories(lab, caller, parse(body)?),
        Operation::DeleteRepository => delete_repository(lab, caller, parse(body)?).await,
        Operation::GetAuthorizationToken => get_authorization_token(lab, caller, parse(body)?),
        Operation::DescribeImages => describe_images(lab, caller, parse(body)?),
        Operation::ListImages => list_images(lab, caller, parse(body)?),
        Operation::BatchGetImage => batch_get_image(lab, caller, parse(body)?),
        Operation::BatchDeleteImage => batch_delete_image(lab, caller, parse(body)?).await,
        Operation::PutImage => put_image(lab, caller, parse(body)?).await,
        Operation::PutImageTagMutability => put_image_tag_mutability(lab, caller, parse(body)?).await,
        Operation::PutImageScanningConfiguration => put_image_scanning_configuration(lab, caller, parse(body)?).await,
        Operation::TagResource => tag_resource(lab, caller, parse(body)?).await,
        Operation::UntagResource => untag_resource(lab, caller, parse(body)?).await,
        Operation::ListTagsForResource => list_tags_for_resource(lab, caller, parse(body)?),
        Operation::DescribeRegistry => replication::describe_registry(lab, caller),
        Operation::BatchCheckLayerAvailability => {
            layers::batch_check_layer_availability(lab, caller, parse(body)?).await
        }
        Operation::InitiateLayerUpload => layers::initiate_layer_upload(lab, caller, parse(body)?).await,
        Operation::UploadLayerPart => layers::upload_layer_part(lab, caller, parse(body)?).await,
        Operation::CompleteLayerUpload => layers::complete_layer_upload(lab, caller, parse(body)?).await,
        Operation::GetDownloadUrlForLayer => layers::get_download_url_for_layer(lab, caller, parse(body)?, host),
        Operation::PutLifecyclePolicy => put_lifecycle_policy(lab, caller, parse(body)?).await,
        Operation::GetLifecyclePolicy => get_lifecycle_policy(lab, caller, parse(body)?),
        Operation::DeleteLifecyclePolicy => delete_lifecycle_policy(lab, caller, parse(body)?).await,
        Operation::StartLifecyclePolicyPreview => start_lifecycle_policy_preview(lab, caller, parse(body)?).await,
        Operation::GetLifecyclePolicyPreview => get_lifecycle_policy_preview(lab, caller, parse(body)?),
        Operation::StartImageScan => scanning::start_image_scan(lab, caller, parse(body)?).await,
        Operation::DescribeImageScanFindings => scanning::describe_image_scan_findings(lab, caller, parse(body)?),
        Operation::GetRegistryScanningConfiguration => scanning::get_registry_scanning_configuration(lab, caller),
        Operation::PutRegistryScanningConfiguration => {
            scanning::put_registry_scanning_configuration(lab, caller, parse(body)?).await
        }
        Operation::BatchGetRepositoryScanningConfiguration => {
            scanning::batch_get_repository_scanning_configuration(lab, caller, parse(body)?)
        }
        Operation::SetRepositoryPolicy => policies::set(lab, caller, parse(body)?).await,
        Operation::GetRepositoryPolicy => policies::get(lab, caller, parse(body)?),
        Operation::DeleteRepositoryPolicy => policies::delete(lab, caller, parse(body)?).await,
        Operation::CreatePullThroughCacheRule => pull_through::create(lab, caller, parse(body)?).await,
        Operation::DescribePullThroughCacheRules => pull_through::describe(lab, caller, parse(body)?),
        Operation::UpdatePullThroughCacheRule => pull_through::update(lab, caller, parse(body)?).await,
        Operation::DeletePullThroughCacheRule => pull_through::delete(lab, caller, parse(body)?).await,
        Operation::ValidatePullThroughCacheRule => pull_through::validate(lab, caller, parse(body)?),
        Operation::PutReplicationConfiguration => replication::put(lab, caller, parse(body)?).await,
        Operation::DescribeImageReplicationStatus => replication::image_status(lab, caller, parse(body)?),
        Operation::StartReplicationBackfill => backfill::start(lab, caller, parse(body)?).await,
        Operation::StopReplicationBackfill => backfill::stop(lab, caller, parse(body)?),
        Operation::ListReplicationBackfills => backfill::list(lab, caller, parse(body)?),
        Operation::DescribeReplicationBackfillResults => backfill::describe_results(lab, caller, parse(body)?),
        _ => dispatch_registry_settings(lab, caller, operation, body).await,
    }
}

/// The registry-level operations (registry policy, account settings, templates, archive,
/// pull-time exclusions, signing, referrers).
async fn dispatch_registry_settings(
    lab: &Lab,
    caller: &Caller,
    operation: Operation,
    body: &[u8],
) -> Result<Response, EcrError> {
    match operation {
        Operation::PutRegistryPolicy => settings::put_registry_policy(lab, caller, parse(body)?).await,
        Operation::GetRegistryPolicy => settings::get_registry_policy(lab, caller),
        Operation::DeleteRegistryPolicy => settings::delete_registry_policy(lab, caller).await,
        Operation::GetAccountSetting => settings::get_account_setting(lab, caller, parse(body)?),
        Operation::PutAccountSetting => settings::put_account_setting(lab, caller, parse(body)?).await,
        Operation::CreateRepositoryCreationTemplate => templates::create(lab, caller, parse(body)?).await,
        Operation::DescribeRepositoryCreationTemplates => templates::describe(lab, caller, parse(body)?),
        Operation::UpdateRepositoryCreationTemplate => templates::update(lab, caller, parse(body)?).await,
        Operation::DeleteRepositoryCreationTemplate => templates::delete(lab, caller, parse(body)?).await,
        Operation::UpdateImageStorageClass => settings::update_image_storage_class(lab, caller, parse(body)?).await,
        Operation::RegisterPullTimeUpdateExclusion => {
            settings::register_pull_time_update_exclusion(lab, caller, parse(body)?).await
        }
        Operation::DeregisterPullTimeUpdateExclusion => {
            settings::deregister_pull_time_update_exclusion(lab, caller, parse(body)?).await
        }
        Operation::ListPullTimeUpdateExclusions => {
            settings::list_pull_time_update_exclusions(lab, caller, parse(body)?)
        }
        Operation::PutSigningConfiguration => settings::put_signing_configuration(lab, caller, parse(body)?).await,
        Operation::GetSigningConfiguration => settings::get_signing_configuration(lab, caller),
        Operation::DeleteSigningConfiguration => settings::delete_signing_configuration(lab, caller).await,
        Operation::DescribeImageSigningStatus => settings::describe_image_signing_status(lab, caller, parse(body)?),
        Operation::ListImageReferrers => referrers::list_image_referrers(lab, caller, parse(body)?),
        other => Err(EcrError::new(
            super::EcrErrorCode::ServerException,
            format!("The ecr-lab mock has no handler for {}", other.name()),
        )),
    }
}

// ---- members to typed values ----

pub(super) fn invalid(member: &str, constraint: &str) -> EcrError {
    EcrError::invalid_parameter(member, constraint)
}

pub(super) fn required<T>(value: Option<T>, member: &str) -> Result<T, EcrError> {
    value.ok_or_else(|| invalid(member, "must not be null"))
}

pub(super) fn registry(caller: &Caller, registry_id: Option<String>) -> Result<RegistryKey, EcrError> {
    let account = match registry_id {
        Some(id) => AccountId::parse(&id).map_err(|e| invalid("registryId", &e.0))?,
        None => caller.account.clone(),
    };
    Ok(RegistryKey::new(account, caller.region.clone()))
}

pub(super) fn repository_name(value: Option<String>) -> Result<RepositoryName, EcrError> {
    RepositoryName::parse(&required(value, "repositoryName")?).map_err(|e| invalid("repositoryName", &e.0))
}

fn wire_enum<E: WireEnum>(value: &str, member: &str) -> Result<E, EcrError> {
    E::from_wire(value)
        .ok_or_else(|| invalid(member, &format!("Member must satisfy enum value set: {}", E::value_set())))
}

/// `imageTagMutability` and its exclusion filters (CreateRepository, PutImageTagMutability, the console).
pub(crate) fn tag_mutability(
    mode: Option<String>,
    filters: Option<Vec<ExclusionFilter>>,
) -> Result<TagMutabilitySetting, EcrError> {
    let Some(mode) = mode else {
        return if filters.is_some() {
            Err(invalid("imageTagMutability", "must not be null"))
        } else {
            Ok(TagMutabilitySetting::mutable())
        };
    };
    let mode: TagMutability = wire_enum(&mode, "imageTagMutability")?;
    let filters = filters
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            let filter_type = required(f.filter_type, "imageTagMutabilityExclusionFilters.filterType")?;
            let filter = required(f.filter, "imageTagMutabilityExclusionFilters.filter")?;
            TypedFilter::parse(&filter_type, &filter).map_err(|e| invalid("imageTagMutabilityExclusionFilters", &e.0))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TagMutabilitySetting::new(mode, filters)?)
}

pub(super) fn resource_tags(tags: Vec<Tag>) -> Result<Vec<ResourceTag>, EcrError> {
    tags.into_iter()
        .map(|t| Ok(ResourceTag::new(required(t.key, "tags.Key")?, required(t.value, "tags.Value")?)?))
        .collect()
}

/// The ECR model's bounds on `KmsKey`: 1 to 2048 characters.
const MAX_KMS_KEY: usize = 2048;

/// The ARN of the account's AWS managed key for ECR in the caller's region: `key/<uuid>`, the
/// same uuid every time for one account and region, as a real key would be.
fn aws_managed_key(caller: &Caller) -> String {
    let seed = Digest::sha256_of(format!("alias/aws/ecr {} {}", caller.account, caller.region).as_bytes());
    let hex = seed.as_str().trim_start_matches("sha256:");
    let uuid = format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32]);
    format!("arn:aws:kms:{}:{}:key/{uuid}", caller.region, caller.account)
}

pub(super) fn encryption(
    caller: &Caller,
    request: Option<EncryptionConfigurationRequest>,
) -> Result<Encryption, EcrError> {
    let request = request.unwrap_or_default();
    let kind = match request.encryption_type {
        Some(kind) => wire_enum(&kind, "encryptionConfiguration.encryptionType")?,
        None => EncryptionType::Aes256,
    };
    if let Some(key) = &request.kms_key
        && !(1..=MAX_KMS_KEY).contains(&key.len())
    {
        return Err(invalid(
            "encryptionConfiguration.kmsKey",
            &format!("Member must have length between 1 and {MAX_KMS_KEY}"),
        ));
    }
    let kms_key = match (kind, request.kms_key) {
        (EncryptionType::Aes256, Some(_)) => {
            return Err(invalid(
                "encryptionConfiguration.kmsKey",
                "kmsKey can only be specified when encryptionType is KMS or KMS_DSSE",
            ));
        }
        (EncryptionType::Aes256, None) => None,
        // Without a key, ECR uses the AWS managed key `aws/ecr` and reports that key's ARN, not the
        // alias (terraform-provider-aws TestAccECRRepository_Encryption_kms expects `key/<uuid>`).
        (_, key) => Some(key.unwrap_or_else(|| aws_managed_key(caller))),
    };
    Ok(Encryption { kind, kms_key })
}

fn image_refs(ids: Option<Vec<ImageIdentifier>>) -> Result<Vec<ImageRef>, EcrError> {
    let ids = required(ids, "imageIds")?;
    if ids.is_empty() || ids.len() > 100 {
        let bound = if ids.is_empty() { "greater than or equal to 1" } else { "less than or equal to 100" };
        return Err(invalid("imageIds", &format!("Member must have length {bound}")));
    }
    Ok(ids.into_iter().map(|id| ImageRef { digest: id.image_digest, tag: id.image_tag }).collect())
}

fn failure(id: ImageRef, failure: ImageFailure) -> ImageFailureOut {
    ImageFailureOut {
        image_id: ImageIdentifier { image_digest: id.digest, image_tag: id.tag },
        failure_code: failure.code,
        failure_reason: failure.reason,
    }
}

/// A parsed `resourceArn`: `arn:aws:ecr:REGION:ACCOUNT:repository/NAME`.
fn repository_arn(caller: &Caller, arn: Option<String>) -> Result<(RegistryKey, RepositoryName), EcrError> {
    let arn = required(arn, "resourceArn")?;
    let bad = || invalid("resourceArn", "Invalid ARN");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, region, account, resource] = parts.as_slice() else {
        return Err(bad());
    };
    if !arn.starts_with("arn:aws") || *service != "ecr" {
        return Err(bad());
    }
    let name = resource.strip_prefix("repository/").ok_or_else(bad)?;
    let region = Region::parse(region).map_err(|_| bad())?;
    if region != caller.region {
        return Err(invalid(
            "resourceArn",
            &format!("Invalid ARN: the resource is in {region}, the request was made in {}", caller.region),
        ));
    }
    let account = AccountId::parse(account).map_err(|_| bad())?;
    let name = RepositoryName::parse(name).map_err(|e| invalid("resourceArn", &e.0))?;
    Ok((RegistryKey::new(account, region), name))
}

// ---- pagination ----

/// One page's request: its size, and where the previous page ended. A `nextToken` is the last key
/// of a page with an HMAC (the lab's token secret) before it, so a token the lab did not issue, or
/// one edited, is refused as ECR refuses one it does not know.
pub(super) struct Page {
    size: usize,
    after: Option<String>,
    secret: Vec<u8>,
}

/// The bytes of a `nextToken`'s HMAC kept in the token.
const TOKEN_MAC_LEN: usize = 16;

fn token_mac(secret: &[u8], key: &str) -> hmac::Hmac<sha2::Sha256> {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(b"ecr-lab nextToken\0");
    mac.update(key.as_bytes());
    mac
}

pub(super) fn page(lab: &Lab, max_results: Option<i64>, next_token: Option<String>) -> Result<Page, EcrError> {
    let size = match max_results {
        None => DEFAULT_PAGE,
        Some(n) if n < 1 => {
            return Err(invalid("maxResults", "Member must have value greater than or equal to 1"));
        }
        Some(n) if n > 1000 => {
            return Err(invalid("maxResults", "Member must have value less than or equal to 1000"));
        }
        Some(n) => n as usize,
    };
    let secret = lab.read(|s| s.token_secret().to_vec());
    let after = match next_token {
        None => None,
        Some(token) => Some(verified_key(&secret, &token).ok_or_else(|| invalid("nextToken", "Invalid NextToken"))?),
    };
    Ok(Page { size, after, secret })
}

/// The key a token issued by this lab carries; `None` for any other text.
fn verified_key(secret: &[u8], token: &str) -> Option<String> {
    use hmac::Mac as _;
    let bytes = B64URL.decode(token.as_bytes()).ok()?;
    if bytes.len() < TOKEN_MAC_LEN {
        return None;
    }
    let (tag, key) = bytes.split_at(TOKEN_MAC_LEN);
    let key = String::from_utf8(key.to_vec()).ok()?;
    token_mac(secret, &key).verify_truncated_left(tag).ok()?;
    Some(key)
}

impl Page {
    /// Takes one page of `items`, which are in ascending `key` order. Returns the page and the next token.
    pub(super) fn take<T>(
        &self,
        items: impl Iterator<Item = T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        use hmac::Mac as _;
        let mut items = items.filter(|item| self.after.as_ref().is_none_or(|after| key(item) > *after)).peekable();
        let chosen: Vec<T> = items.by_ref().take(self.size).collect();
        let next = match (items.peek(), chosen.last()) {
            (Some(_), Some(last)) => {
                let key = key(last);
                let mut token = token_mac(&self.secret, &key).finalize().into_bytes()[..TOKEN_MAC_LEN].to_vec();
                token.extend_from_slice(key.as_bytes());
                Some(B64URL.encode(token))
            }
            _ => None,
        };
        (chosen, next)
    }
}

// ---- repositories ----

/// CreateRepository's members as typed values, with the API's checks in the API's order and
/// wording. The web console's create form goes through here too.
pub(crate) fn new_repository(
    caller: &Caller,
    request: CreateRepositoryRequest,
) -> Result<(RegistryKey, NewRepository), EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let new = NewRepository {
        name: repository_name(request.repository_name)?,
        tag_mutability: tag_mutability(request.image_tag_mutability, request.image_tag_mutability_exclusion_filters)?,
        scan_on_push: request.image_scanning_configuration.and_then(|c| c.scan_on_push).unwrap_or(false),
        encryption: encryption(caller, request.encryption_configuration)?,
        tags: resource_tags(request.tags.unwrap_or_default())?,
    };
    Ok((registry, new))
}

async fn create_repository(lab: &Lab, caller: &Caller, request: CreateRepositoryRequest) -> Result<Response, EcrError> {
    let (registry, new) = new_repository(caller, request)?;
    let created = lab.write(|state| state.create_repository(&registry, new)).await?;
    Ok(json(RepositoryResponse { repository: RepositoryOut::new(&registry, &created) }))
}

fn describe_repositories(
    lab: &Lab,
    caller: &Caller,
    request: DescribeRepositoriesRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let names = match request.repository_names {
        Some(names) => {
            if names.is_empty() || names.len() > 100 {
                return Err(invalid("repositoryNames", "Member must have length between 1 and 100"));
            }
            if request.max_results.is_some() || request.next_token.is_some() {
                return Err(invalid(
                    "maxResults",
                    "maxResults and nextToken cannot be used together with repositoryNames",
                ));
            }
            Some(names.into_iter().map(|n| repository_name(Some(n))).collect::<Result<Vec<_>, _>>()?)
        }
        None => None,
    };
    let page = page(lab, request.max_results, request.next_token)?;
    lab.read(|state| {
        let (repositories, next_token) = match names {
            Some(names) => {
                let found = names.iter().map(|n| state.repository(&registry, n)).collect::<Result<Vec<_>, _>>()?;
                (found, None)
            }
            None => page.take(state.repositories(&registry), |r| r.name.to_string()),
        };
        let repositories = repositories.into_iter().map(|r| RepositoryOut::new(&registry, r)).collect();
        Ok(json(DescribeRepositoriesResponse { repositories, next_token }))
    })
}

async fn delete_repository(lab: &Lab, caller: &Caller, request: RepositoryRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let force = request.force.unwrap_or(false);
    let deleted = lab.write(|state| state.delete_repository(&registry, &name, force)).await?;
    Ok(json(RepositoryResponse { repository: RepositoryOut::new(&registry, &deleted) }))
}

fn get_authorization_token(
    lab: &Lab,
    caller: &Caller,
    request: GetAuthorizationTokenRequest,
) -> Result<Response, EcrError> {
    let accounts = match request.registry_ids {
        None => vec![caller.account.clone()],
        Some(ids) if ids.is_empty() || ids.len() > 10 => {
            return Err(invalid("registryIds", "Member must have length between 1 and 10"));
        }
        Some(ids) => ids
            .iter()
            .map(|id| AccountId::parse(id).map_err(|e| invalid("registryIds", &e.0)))
            .collect::<Result<_, _>>()?,
    };
    lab.read(|state| {
        let now = state.now_for(&caller.account);
        // A session's registry token ends with the session.
        let not_after = state.key(&caller.access_key_id).and_then(|k| k.expires_at);
        let authorization_data = accounts
            .into_iter()
            .map(|account| {
                let registry = RegistryKey::new(account, caller.region.clone());
                let issued = token::issue(state.token_secret(), caller, registry, now, not_after);
                AuthorizationData {
                    authorization_token: issued.authorization_token(),
                    expires_at: issued.expires_at.epoch_seconds(),
                    proxy_endpoint: issued.proxy_endpoint(),
                }
            })
            .collect();
        Ok(json(GetAuthorizationTokenResponse { authorization_data }))
    })
}

// ---- images ----

fn tag_status(filter: Option<&ImageFilter>) -> Result<TagStatus, EcrError> {
    match filter.and_then(|f| f.tag_status.as_deref()) {
        Some(status) => wire_enum(status, "filter.tagStatus"),
        None => Ok(TagStatus::Any),
    }
}

fn status_allows(status: TagStatus, tagged: bool) -> bool {
    match status {
        TagStatus::Any => true,
        TagStatus::Tagged => tagged,
        TagStatus::Untagged => !tagged,
    }
}

fn describe_images(lab: &Lab, caller: &Caller, request: ImagesRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let status = tag_status(request.filter.as_ref())?;
    let image_status = request.filter.as_ref().and_then(|f| f.image_status.as_deref());
    if let Some(image_status) = image_status
        && !["ACTIVE", "ARCHIVED", "ACTIVATING", "ANY"].contains(&image_status)
    {
        return Err(invalid(
            "filter.imageStatus",
            "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]",
        ));
    }
    let ids = match request.image_ids {
        Some(ids) => {
            if request.filter.is_some() {
                return Err(invalid("filter", "filter cannot be used together with imageIds"));
            }
            // The model: maxResults "cannot be used when you specify images with imageIds".
            if request.max_results.is_some() {
                return Err(invalid("maxResults", "maxResults cannot be used together with imageIds"));
            }
            Some(image_refs(Some(ids))?)
        }
        None => None,
    };
    let page = page(lab, request.max_results, request.next_token)?;
    lab.read(|state| {
        let repository = state.repository(&registry, &name)?;
        let (images, next_token) = match ids {
            Some(ids) => {
                let mut found = Vec::with_capacity(ids.len());
                for id in ids {
                    let image = repository.find(&id).map_err(|_| StateError::ImageNotFound {
                        image: id.clone(),
                        name: name.clone(),
                        registry: registry.account.clone(),
                    })?;
                    if !found.iter().any(|i: &&crate::state::Image| i.digest == image.digest) {
                        found.push(image);
                    }
                }
                (found, None)
            }
            None => {
                let archived = |i: &crate::state::Image| state.is_archived(&registry, &name, &i.digest);
                let wanted = |i: &&crate::state::Image| match image_status {
                    Some("ARCHIVED") => archived(i),
                    Some("ACTIVE") => !archived(i),
                    Some("ACTIVATING") => false, // the lab's restores are done at once
                    _ => true,
                };
                let candidates = repository.images.values().filter(|i| status_allows(status, !i.tags.is_empty()));
                page.take(candidates.filter(wanted), |i| i.digest.to_string())
            }
        };
        let settings = state.registry_settings(&registry);
        let image_details = images
            .into_iter()
            .map(|i| {
                let mut detail = ImageDetail::new(&registry, repository, i);
                if let Some(at) = settings.archived_at(&name, &i.digest) {
                    detail.image_status = "ARCHIVED";
                    detail.last_archived_at = Some(at.epoch_seconds());
                }
                detail
            })
            .collect();
        Ok(json(DescribeImagesResponse { image_details, next_token }))
    })
}

fn list_images(lab: &Lab, caller: &Caller, request: ImagesRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let status = tag_status(request.filter.as_ref())?;
    let page = page(lab, request.max_results, request.next_token)?;
    lab.read(|state| {
        let repository = state.repository(&registry, &name)?;
        let rows = repository.listed_images().filter(|row| status_allows(status, row.tag.is_some()));
        let (rows, next_token) = page.take(rows, |row| match &row.tag {
            Some(tag) => format!("{}\u{0}{tag}", row.digest),
            None => row.digest.to_string(),
        });
        Ok(json(ListImagesResponse { image_ids: rows.iter().map(ImageIdentifier::from).collect(), next_token }))
    })
}

fn batch_get_image(lab: &Lab, caller: &Caller, request: ImagesRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let ids = image_refs(request.image_ids)?;
    let accepted = request.accepted_media_types.unwrap_or_default();
    if accepted.len() > 100 {
        return Err(invalid("acceptedMediaTypes", "Member must have length less than or equal to 100"));
    }
    lab.read(|state| {
        let repository = state.repository(&registry, &name)?;
        let mut images = Vec::new();
        let mut failures = Vec::new();
        for id in ids {
            match repository.find(&id) {
                Ok(image) if !accepted.is_empty() && !accepted.contains(&image.media_type) => failures.push(failure(
                    id,
                    ImageFailure {
                        code: "UnsupportedImageType",
                        reason: format!("The image's media type {} is not in acceptedMediaTypes", image.media_type),
                    },
                )),
                Ok(image) => images.push(ImageOut {
                    registry_id: registry.account.to_string(),
                    repository_name: name.to_string(),
                    image_id: ImageIdentifier {
                        image_digest: Some(image.digest.to_string()),
                        image_tag: id.tag.clone(),
                    },
                    image_manifest: image.manifest.clone(),
                    image_manifest_media_type: image.media_type.clone(),
                }),
                Err(f) => failures.push(failure(id, f)),
            }
        }
        Ok(json(BatchGetImageResponse { images, failures }))
    })
}

async fn batch_delete_image(lab: &Lab, caller: &Caller, request: ImagesRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let ids = image_refs(request.image_ids)?;
    let (deleted, failures) = lab.write(|state| state.delete_images(&registry, &name, &ids)).await?;
    Ok(json(BatchDeleteImageResponse {
        image_ids: deleted.iter().map(ImageIdentifier::from).collect(),
        failures: failures.into_iter().map(|(id, f)| failure(id, f)).collect(),
    }))
}

/// Whether a manifest says what it is: a top-level `mediaType`, or a Docker schema 1 manifest
/// (which has no such field and is known by its `schemaVersion`).
fn names_its_media_type(manifest: &str) -> bool {
    let Ok(serde_json::Value::Object(document)) = serde_json::from_str::<serde_json::Value>(manifest) else {
        return true; // manifest::parse gives the JSON error
    };
    document.get("mediaType").is_some_and(serde_json::Value::is_string)
        || document.get("schemaVersion").and_then(serde_json::Value::as_i64) == Some(1)
}

async fn put_image(lab: &Lab, caller: &Caller, request: PutImageRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let manifest_text = required(request.image_manifest, "imageManifest")?;
    let tag = request.image_tag.map(|t| ImageTag::parse(&t).map_err(|e| invalid("imageTag", &e.0))).transpose()?;
    if request.image_manifest_media_type.is_none() && !names_its_media_type(&manifest_text) {
        // The model: "If you push an image manifest that does not contain the mediaType field, you
        // must specify the imageManifestMediaType"; ECR answers this (aws/aws-cli#8620).
        return Err(invalid("ImageManifest", "Invalid JSON syntax"));
    }
    let parsed = manifest::parse(&manifest_text, request.image_manifest_media_type.as_deref())?;
    if let Some(given) = request.image_digest {
        Digest::parse(&given).map_err(|e| invalid("imageDigest", &e.0))?;
        let computed = Digest::sha256_of(manifest_text.as_bytes());
        if given != computed.as_str() {
            return Err(StateError::ImageDigestDoesNotMatch { given, computed }.into());
        }
    }
    let outcome = lab
        .write(|state| {
            let repository = state.repository(&registry, &name)?;
            let child_size =
                |digest: &str| Digest::parse(digest).ok().and_then(|d| repository.images.get(&d)).map(|i| i.size);
            let image = manifest::image_from(manifest_text, &parsed, state.now_for(&registry.account), child_size);
            state.put_image(&registry, &name, image, tag, PutMode::Api)
        })
        .await?;
    Ok(json(PutImageResponse {
        image: ImageOut {
            registry_id: registry.account.to_string(),
            repository_name: name.to_string(),
            image_id: ImageIdentifier {
                image_digest: Some(outcome.image.digest.to_string()),
                image_tag: outcome.tag.map(|t| t.to_string()),
            },
            image_manifest: outcome.image.manifest,
            image_manifest_media_type: outcome.image.media_type,
        },
    }))
}

// ---- repository settings and tags ----

async fn put_image_tag_mutability(
    lab: &Lab,
    caller: &Caller,
    request: RepositoryRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let mode = required(request.image_tag_mutability, "imageTagMutability")?;
    let setting = tag_mutability(Some(mode), request.image_tag_mutability_exclusion_filters)?;
    let response = lab
        .write(|state| {
            let repository = state.update_repository(&registry, &name, RepositoryUpdate::TagMutability(setting))?;
            Ok(PutImageTagMutabilityResponse {
                registry_id: registry.account.to_string(),
                repository_name: name.to_string(),
                image_tag_mutability: repository.tag_mutability.mode.wire(),
                image_tag_mutability_exclusion_filters: exclusion_filters(repository),
            })
        })
        .await?;
    Ok(json(response))
}

async fn put_image_scanning_configuration(
    lab: &Lab,
    caller: &Caller,
    request: RepositoryRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let configuration = required(request.image_scanning_configuration, "imageScanningConfiguration")?;
    let scan_on_push = configuration.scan_on_push.unwrap_or(false);
    lab.write(|state| {
        state.update_repository(&registry, &name, RepositoryUpdate::ScanOnPush(scan_on_push)).map(|_| ())
    })
    .await?;
    Ok(json(PutImageScanningConfigurationResponse {
        registry_id: registry.account.to_string(),
        repository_name: name.to_string(),
        image_scanning_configuration: ScanningOut { scan_on_push },
    }))
}

async fn tag_resource(lab: &Lab, caller: &Caller, request: ResourceRequest) -> Result<Response, EcrError> {
    let (registry, name) = repository_arn(caller, request.resource_arn)?;
    let tags = resource_tags(required(request.tags, "tags")?)?;
    lab.write(|state| state.update_repository(&registry, &name, RepositoryUpdate::TagsSet(tags)).map(|_| ())).await?;
    Ok(json(Empty {}))
}

async fn untag_resource(lab: &Lab, caller: &Caller, request: ResourceRequest) -> Result<Response, EcrError> {
    let (registry, name) = repository_arn(caller, request.resource_arn)?;
    let keys = required(request.tag_keys, "tagKeys")?;
    lab.write(|state| state.update_repository(&registry, &name, RepositoryUpdate::TagsRemoved(keys)).map(|_| ()))
        .await?;
    Ok(json(Empty {}))
}

fn list_tags_for_resource(lab: &Lab, caller: &Caller, request: ResourceRequest) -> Result<Response, EcrError> {
    let (registry, name) = repository_arn(caller, request.resource_arn)?;
    lab.read(|state| {
        let repository = state.repository(&registry, &name)?;
        Ok(json(ListTagsForResourceResponse { tags: repository.resource_tags.iter().map(Tag::from).collect() }))
    })
}

// ---- lifecycle policies ----

async fn put_lifecycle_policy(
    lab: &Lab,
    caller: &Caller,
    request: LifecyclePolicyRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let text = required(request.lifecycle_policy_text, "lifecyclePolicyText")?;
    lab.write(|state| state.put_lifecycle_policy(&registry, &name, text.clone()).map(|_| ())).await?;
    Ok(json(LifecyclePolicyResponse::policy_only(&registry, name.as_str(), text)))
}

fn get_lifecycle_policy(lab: &Lab, caller: &Caller, request: LifecyclePolicyRequest) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    lab.read(|state| {
        let (text, evaluated) = state.lifecycle_policy(&registry, &name)?;
        Ok(json(LifecyclePolicyResponse::new(&registry, name.as_str(), text.to_owned(), evaluated)))
    })
}

async fn delete_lifecycle_policy(
    lab: &Lab,
    caller: &Caller,
    request: LifecyclePolicyRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let (text, evaluated) = lab.write(|state| state.delete_lifecycle_policy(&registry, &name)).await?;
    Ok(json(LifecyclePolicyResponse::new(&registry, name.as_str(), text, evaluated)))
}

async fn start_lifecycle_policy_preview(
    lab: &Lab,
    caller: &Caller,
    request: LifecyclePolicyRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let text = request.lifecycle_policy_text;
    let preview = lab.write(|state| state.start_lifecycle_preview(&registry, &name, text)).await?;
    Ok(json(LifecyclePolicyResponse {
        // ECR answers before the preview runs; the lab's is complete already.
        status: Some("IN_PROGRESS"),
        ..LifecyclePolicyResponse::policy_only(&registry, name.as_str(), preview.policy_text)
    }))
}

fn get_lifecycle_policy_preview(
    lab: &Lab,
    caller: &Caller,
    request: LifecyclePolicyRequest,
) -> Result<Response, EcrError> {
    let registry = registry(caller, request.registry_id)?;
    let name = repository_name(request.repository_name)?;
    let status = tag_status(request.filter.as_ref())?;
    let ids = request.image_ids.map(|ids| image_refs(Some(ids))).transpose()?;
    if let Some(n) = request.max_results
        && !(1..=100).contains(&n)
    {
        let bound = if n < 1 { "greater than or equal to 1" } else { "less than or equal to 100" };
        return Err(invalid("maxResults", &format!("Member must have value {bound}")));
    }
    let page = page(lab, request.max_results, request.next_token)?;
    lab.read(|state| {
        let preview = state.lifecycle_preview(&registry, &name)?;
        let wanted = |r: &PreviewResult| {
            let by_id = ids.as_ref().is_none_or(|ids| {
                ids.iter().any(|id| {
                    id.digest.as_deref().is_none_or(|d| d == r.digest.as_str())
                        && id.tag.as_ref().is_none_or(|t| r.tags.contains(t))
                })
            });
            by_id && status_allows(status, !r.tags.is_empty())
        };
        let selected = preview.results.iter().filter(|r| wanted(r)).enumerate();
        // Results keep rule order, so the page key is the position.
        let (rows, next_token) = page.take(selected, |(i, _)| format!("{i:08}"));
        Ok(json(GetLifecyclePolicyPreviewResponse {
            registry_id: registry.account.to_string(),
            repository_name: name.to_string(),
            lifecycle_policy_text: preview.policy_text.clone(),
            status: "COMPLETE",
            next_token,
            preview_results: rows
                .into_iter()
                .map(|(_, r)| PreviewResultOut {
                    image_tags: r.tags.clone(),
                    image_digest: r.digest.to_string(),
                    image_pushed_at: r.pushed_at.epoch_seconds(),
                    action: PreviewAction { kind: "EXPIRE" },
                    applied_rule_priority: r.rule_priority,
                })
                .collect(),
            summary: PreviewSummary { expiring_image_total_count: preview.results.len() },
        }))
    })
}
