//! Issue 18 item 3: the replication backfill operations (newer than botocore's model, so the aws CLI
//! the lab tests with has no commands for them) through aws-sdk-ecr 1.138.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_ecr::types::{
    ImageIdentifier, ReplicationBackfillResultStatus, ReplicationBackfillStatus, ReplicationConfiguration,
    ReplicationDestination, ReplicationRule, ReplicationStatus, RepositoryFilter, RepositoryFilterType,
};

use crate::common::{InProcess, ecr_client, put_sample, sample};

const ACCOUNT: &str = "920736617090";
const OTHER_ACCOUNT: &str = "111122223333";

/// The (code, message) of a failed SDK call.
fn failure<E: ProvideErrorMetadata, R: std::fmt::Debug>(
    result: Result<R, aws_sdk_ecr::error::SdkError<E>>,
) -> (String, String) {
    let error = result.expect_err("the call should fail");
    (error.code().unwrap_or_default().to_owned(), error.message().unwrap_or_default().to_owned())
}

fn destination(region: &str, account: &str) -> ReplicationDestination {
    ReplicationDestination::builder().region(region).registry_id(account).build().unwrap()
}

fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]) && id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

/// Two images pushed to `prod-web` (and one to `dev-web`), then replication to us-west-2 and to
/// another account (whose registry policy allows nothing) for `prod` repositories.
async fn pushed_then_configured(ecr: &aws_sdk_ecr::Client) {
    for (name, n, tag) in [("prod-web", 1, "v1"), ("prod-web", 2, "v2"), ("dev-web", 3, "v1")] {
        if n != 2 {
            ecr.create_repository().repository_name(name).send().await.unwrap();
        }
        put_sample(ecr, name, &sample(n, 100), tag).await.unwrap();
    }
    let filter =
        RepositoryFilter::builder().filter("prod").filter_type(RepositoryFilterType::PrefixMatch).build().unwrap();
    let rule = ReplicationRule::builder()
        .destinations(destination("us-west-2", ACCOUNT))
        .destinations(destination("ap-south-1", OTHER_ACCOUNT))
        .repository_filters(filter)
        .build()
        .unwrap();
    let configuration = ReplicationConfiguration::builder().rules(rule).build().unwrap();
    ecr.put_replication_configuration().replication_configuration(configuration).send().await.unwrap();
}

#[tokio::test]
async fn a_backfill_copies_the_images_pushed_before_replication() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    let west = ecr_client(&mock.url, "us-west-2").await;
    pushed_then_configured(&ecr).await;
    let (code, _) = failure(west.describe_images().repository_name("prod-web").send().await);
    assert_eq!(code, "RepositoryNotFoundException", "replication copies only later pushes");

    let started = ecr.start_replication_backfill().destination(destination("us-west-2", ACCOUNT)).send().await.unwrap();
    let id = started.replication_backfill_id().unwrap().to_owned();
    assert!(is_uuid(&id), "{id}");
    assert_eq!(started.registry_id(), Some(ACCOUNT));
    assert_eq!(started.destination(), Some(&destination("us-west-2", ACCOUNT)));
    assert_eq!(started.status(), Some(&ReplicationBackfillStatus::Preparing), "as the model says a new one is");
    assert!(started.started_at().is_some());

    // The copies are in the destination region: both images, with their tags.
    let copies = west.describe_images().repository_name("prod-web").send().await.unwrap();
    let mut tags: Vec<&str> = copies.image_details().iter().flat_map(|d| d.image_tags()).map(String::as_str).collect();
    tags.sort();
    assert_eq!(tags, ["v1", "v2"]);
    let (code, _) = failure(west.describe_images().repository_name("dev-web").send().await);
    assert_eq!(code, "RepositoryNotFoundException", "dev-web is outside the filter");
    let status = ecr
        .describe_image_replication_status()
        .repository_name("prod-web")
        .image_id(ImageIdentifier::builder().image_tag("v1").build())
        .send()
        .await
        .unwrap();
    let statuses: Vec<_> = status.replication_statuses().iter().map(|s| (s.region(), s.status())).collect();
    assert_eq!(statuses, [(Some("us-west-2"), Some(&ReplicationStatus::Complete))]);

    let described = ecr.describe_replication_backfill_results().replication_backfill_id(&id).send().await.unwrap();
    assert_eq!(described.replication_backfill_id(), Some(id.as_str()));
    assert_eq!(described.registry_id(), Some(ACCOUNT));
    assert_eq!(described.status(), Some(&ReplicationBackfillStatus::Complete));
    assert!(described.ended_at().is_some());
    assert_eq!(described.failure_code(), None);
    let progress = described.progress().unwrap();
    let counts = (
        progress.total_replication_count(),
        progress.completed_replication_count(),
        progress.failed_replication_count(),
    );
    assert_eq!(counts, (2, 2, 0));
    assert!(progress.failure_codes().is_empty());
    let results: Vec<_> = described
        .results()
        .iter()
        .map(|r| (r.repository_name(), r.image_id().and_then(|i| i.image_tag()), r.status().clone()))
        .collect();
    assert_eq!(results.len(), 2);
    for (name, tag, status) in results {
        assert_eq!((name, status), ("prod-web", ReplicationBackfillResultStatus::Complete));
        assert!(matches!(tag, Some("v1" | "v2")), "{tag:?}");
    }
    assert!(described.results().iter().all(|r| r.image_id().unwrap().image_digest().is_some()));

    // Pages of results.
    let first =
        ecr.describe_replication_backfill_results().replication_backfill_id(&id).max_results(1).send().await.unwrap();
    assert_eq!(first.results().len(), 1);
    let token = first.next_token().expect("a second page").to_owned();
    let second = ecr
        .describe_replication_backfill_results()
        .replication_backfill_id(&id)
        .max_results(1)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.results().len(), 1);
    assert_eq!(second.next_token(), None);
    assert_ne!(first.results()[0].image_id(), second.results()[0].image_id());
    let failed = ecr
        .describe_replication_backfill_results()
        .replication_backfill_id(&id)
        .result_status_filter(ReplicationBackfillResultStatus::Failed)
        .send()
        .await
        .unwrap();
    assert!(failed.results().is_empty());

    // A finished backfill cannot be stopped.
    let (code, message) = failure(ecr.stop_replication_backfill().replication_backfill_id(&id).send().await);
    assert_eq!(code, "ReplicationBackfillInvalidStatusException");
    assert!(message.contains("has status COMPLETE"), "{message}");
}

#[tokio::test]
async fn backfills_are_listed_with_failures_counted_per_image_and_tag() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    pushed_then_configured(&ecr).await;
    let west = ecr.start_replication_backfill().destination(destination("us-west-2", ACCOUNT)).send().await.unwrap();
    // The other account's registry policy does not allow ecr:ReplicateImage: every copy fails.
    let other =
        ecr.start_replication_backfill().destination(destination("ap-south-1", OTHER_ACCOUNT)).send().await.unwrap();
    let other_id = other.replication_backfill_id().unwrap();
    let described = ecr.describe_replication_backfill_results().replication_backfill_id(other_id).send().await.unwrap();
    // Fewer than 100 replications: the backfill itself is COMPLETE, its replications FAILED.
    assert_eq!(described.status(), Some(&ReplicationBackfillStatus::Complete));
    let progress = described.progress().unwrap();
    assert_eq!((progress.total_replication_count(), progress.failed_replication_count()), (2, 2));
    assert_eq!(progress.failure_codes().len(), 1);
    assert!(progress.failure_codes()[0].starts_with("AccessDenied"), "{:?}", progress.failure_codes());
    let results = described.results();
    assert!(results.iter().all(|r| r.status() == &ReplicationBackfillResultStatus::Failed), "{results:?}");
    assert_eq!(results[0].failure_code(), Some(progress.failure_codes()[0].as_str()));

    let listed = ecr.list_replication_backfills().send().await.unwrap();
    assert_eq!(listed.registry_id(), Some(ACCOUNT));
    let ids: Vec<&str> = listed.backfills().iter().map(|b| b.replication_backfill_id()).collect();
    assert_eq!(ids, [west.replication_backfill_id().unwrap(), other_id]);
    let summary = &listed.backfills()[1];
    assert_eq!(summary.destination(), Some(&destination("ap-south-1", OTHER_ACCOUNT)));
    assert_eq!(summary.status(), &ReplicationBackfillStatus::Complete);
    assert_eq!(summary.progress().unwrap().failed_replication_count(), 2);
    assert!(summary.ended_at().is_some());

    let first = ecr.list_replication_backfills().max_results(1).send().await.unwrap();
    assert_eq!(first.backfills().len(), 1);
    let token = first.next_token().expect("a second page");
    let second = ecr.list_replication_backfills().max_results(1).next_token(token).send().await.unwrap();
    assert_eq!(second.backfills()[0].replication_backfill_id(), other_id);
    assert_eq!(second.next_token(), None);

    // Once copied, an image is not copied again.
    let again = ecr.start_replication_backfill().destination(destination("us-west-2", ACCOUNT)).send().await.unwrap();
    let id = again.replication_backfill_id().unwrap();
    let described = ecr.describe_replication_backfill_results().replication_backfill_id(id).send().await.unwrap();
    assert_eq!(described.progress().unwrap().total_replication_count(), 0);
    assert!(described.results().is_empty());
}

#[tokio::test]
async fn backfill_errors_carry_the_models_codes() {
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    pushed_then_configured(&ecr).await;
    let unknown = "0b5e3f1c-2d4a-4c6b-9e8f-1a2b3c4d5e6f";

    let (code, message) = failure(ecr.stop_replication_backfill().replication_backfill_id(unknown).send().await);
    assert_eq!(code, "ReplicationBackfillNotFoundException");
    assert!(message.contains(unknown), "{message}");
    let (code, _) = failure(ecr.describe_replication_backfill_results().replication_backfill_id(unknown).send().await);
    assert_eq!(code, "ReplicationBackfillNotFoundException");
    let (code, message) =
        failure(ecr.describe_replication_backfill_results().replication_backfill_id("backfill-1").send().await);
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Invalid parameter at 'replicationBackfillId' failed to satisfy constraint: 'Member must satisfy regular \
         expression pattern: [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'"
    );

    // The destination must be in the replication configuration, and well formed.
    let (code, message) =
        failure(ecr.start_replication_backfill().destination(destination("eu-west-1", ACCOUNT)).send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("PutReplicationConfiguration"), "{message}");
    let (code, message) =
        failure(ecr.start_replication_backfill().destination(destination("us-west-2", "12")).send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.starts_with("Invalid parameter at 'destination.registryId'"), "{message}");
    let (code, message) = failure(ecr.start_replication_backfill().send().await);
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(message, "Invalid parameter at 'destination' failed to satisfy constraint: 'must not be null'");

    for (max, bound) in [(0, "greater than or equal to 1"), (51, "less than or equal to 50")] {
        let (code, message) = failure(ecr.list_replication_backfills().max_results(max).send().await);
        assert_eq!(code, "InvalidParameterException");
        assert!(message.ends_with(&format!("'Member must have value {bound}'")), "{message}");
    }
    let (code, message) = failure(ecr.list_replication_backfills().next_token("made-up").send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("nextToken"), "{message}");
    let started = ecr.start_replication_backfill().destination(destination("us-west-2", ACCOUNT)).send().await;
    let id = started.unwrap().replication_backfill_id().unwrap().to_owned();
    let (code, message) = failure(
        ecr.describe_replication_backfill_results()
            .replication_backfill_id(id)
            .result_status_filter(ReplicationBackfillResultStatus::from("DONE"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.ends_with("'Member must satisfy enum value set: [COMPLETE, FAILED]'"), "{message}");
}
