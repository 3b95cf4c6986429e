//! `aws ecr ...`: one [`Command`] per CLI command, keyed by the mock's [`Operation`] (the CLI name is
//! derived from it), each with its own flags and a `run` that builds the SDK request from the flags,
//! sends it and renders the response as the CLI prints it. The commands live by family, one file
//! each; [`COMMANDS`] is the table, in the order the CLI lists them. `aws ecr wait` is in `wait`.

mod images;
mod layers;
mod lifecycle;
mod policies;
mod pull_through;
mod registry;
mod replication;
mod repositories;
mod scanning;
mod settings;
mod shared_flags;
mod signing;
mod tags;
mod templates;
mod wait;

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use mock_registry::aws::Operation;

use super::failure::{Failure, Outcome, service_error};
use super::flags::{Flag, Flags};
use super::globals::{Invocation, ecr_client, endpoint_shown};
use crate::shell::{Io, Session};

/// What a command's `run` gets: its parsed flags, a client, and what the CLI's messages name.
pub struct Call<'a> {
    pub session: &'a Session,
    pub flags: Flags,
    pub ecr: aws_sdk_ecr::Client,
    pub region: String,
    pub io: &'a mut Io,
    operation: &'static str,
    endpoint: String,
}

impl Call<'_> {
    /// An SDK failure of this call, as the CLI prints it.
    pub fn failed<E, R>(&self, error: aws_sdk_ecr::error::SdkError<E, R>) -> Failure
    where
        E: aws_sdk_ecr::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        service_error(self.operation, error, &self.endpoint)
    }
}

type Run = for<'a> fn(Call<'a>) -> Pin<Box<dyn Future<Output = Outcome> + 'a>>;

/// One `aws ecr` command.
pub struct Command {
    pub operation: Operation,
    /// The CLI's name when it is not the operation's name in kebab case (`get-login-password`).
    pub alias: Option<&'static str>,
    pub flags: &'static [Flag],
    pub run: Run,
}

/// `command!(Operation, [flags], run_fn)`: a [`Command`] named after its operation.
macro_rules! command {
    ($operation:ident, [$($flag:expr),* $(,)?], $run:path) => {
        super::Command {
            operation: super::Operation::$operation,
            alias: None,
            flags: &[$($flag),*],
            run: |call| Box::pin($run(call)),
        }
    };
}
use command;

impl Command {
    pub fn name(&self) -> String {
        match self.alias {
            Some(alias) => alias.to_owned(),
            None => kebab(self.operation.name()),
        }
    }
}

/// `CreateRepository` → `create-repository`.
fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `aws ecr` command, in the order `aws ecr` lists them.
const COMMANDS: &[Command] = &[
    layers::BATCH_CHECK_LAYER_AVAILABILITY,
    images::BATCH_DELETE_IMAGE,
    images::BATCH_GET_IMAGE,
    layers::COMPLETE_LAYER_UPLOAD,
    repositories::CREATE_REPOSITORY,
    repositories::DELETE_REPOSITORY,
    images::DESCRIBE_IMAGES,
    registry::DESCRIBE_REGISTRY,
    scanning::BATCH_GET_REPOSITORY_SCANNING_CONFIGURATION,
    scanning::GET_REGISTRY_SCANNING_CONFIGURATION,
    scanning::PUT_REGISTRY_SCANNING_CONFIGURATION,
    lifecycle::DELETE_LIFECYCLE_POLICY,
    policies::DELETE_REPOSITORY_POLICY,
    scanning::DESCRIBE_IMAGE_SCAN_FINDINGS,
    lifecycle::GET_LIFECYCLE_POLICY,
    lifecycle::GET_LIFECYCLE_POLICY_PREVIEW,
    policies::GET_REPOSITORY_POLICY,
    lifecycle::PUT_LIFECYCLE_POLICY,
    scanning::START_IMAGE_SCAN,
    lifecycle::START_LIFECYCLE_POLICY_PREVIEW,
    repositories::DESCRIBE_REPOSITORIES,
    registry::GET_AUTHORIZATION_TOKEN,
    layers::GET_DOWNLOAD_URL_FOR_LAYER,
    registry::GET_LOGIN_PASSWORD,
    layers::INITIATE_LAYER_UPLOAD,
    images::LIST_IMAGES,
    tags::LIST_TAGS_FOR_RESOURCE,
    images::PUT_IMAGE,
    scanning::PUT_IMAGE_SCANNING_CONFIGURATION,
    repositories::PUT_IMAGE_TAG_MUTABILITY,
    policies::SET_REPOSITORY_POLICY,
    tags::TAG_RESOURCE,
    tags::UNTAG_RESOURCE,
    layers::UPLOAD_LAYER_PART,
    settings::PUT_REGISTRY_POLICY,
    settings::GET_REGISTRY_POLICY,
    settings::DELETE_REGISTRY_POLICY,
    settings::GET_ACCOUNT_SETTING,
    settings::PUT_ACCOUNT_SETTING,
    settings::REGISTER_PULL_TIME_UPDATE_EXCLUSION,
    settings::DEREGISTER_PULL_TIME_UPDATE_EXCLUSION,
    settings::LIST_PULL_TIME_UPDATE_EXCLUSIONS,
    templates::CREATE_REPOSITORY_CREATION_TEMPLATE,
    templates::DESCRIBE_REPOSITORY_CREATION_TEMPLATES,
    templates::UPDATE_REPOSITORY_CREATION_TEMPLATE,
    templates::DELETE_REPOSITORY_CREATION_TEMPLATE,
    signing::PUT_SIGNING_CONFIGURATION,
    signing::GET_SIGNING_CONFIGURATION,
    signing::DELETE_SIGNING_CONFIGURATION,
    signing::DESCRIBE_IMAGE_SIGNING_STATUS,
    signing::LIST_IMAGE_REFERRERS,
    signing::UPDATE_IMAGE_STORAGE_CLASS,
    pull_through::CREATE_PULL_THROUGH_CACHE_RULE,
    pull_through::DELETE_PULL_THROUGH_CACHE_RULE,
    pull_through::DESCRIBE_PULL_THROUGH_CACHE_RULES,
    pull_through::UPDATE_PULL_THROUGH_CACHE_RULE,
    pull_through::VALIDATE_PULL_THROUGH_CACHE_RULE,
    replication::DESCRIBE_IMAGE_REPLICATION_STATUS,
    replication::PUT_REPLICATION_CONFIGURATION,
];

/// The CLI names of [`COMMANDS`], in the same order.
static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| COMMANDS.iter().map(Command::name).collect());

pub fn operation_names() -> impl Iterator<Item = &'static str> {
    NAMES.iter().map(String::as_str)
}

fn find(name: &str) -> Option<&'static Command> {
    COMMANDS.iter().zip(NAMES.iter()).find(|(_, n)| *n == name).map(|(command, _)| command)
}

pub fn flags_of(operation: &str) -> impl Iterator<Item = &'static str> {
    find(operation).into_iter().flat_map(|command| command.flags.iter().map(|f| f.name))
}

/// `aws ecr OPERATION ...` (or `aws ecr wait WAITER ...`).
pub async fn run(session: &Session, invocation: &Invocation, args: &[String], io: &mut Io) -> Outcome {
    let Some(name) = args.first() else {
        return Err(Failure::Usage("the following arguments are required: operation".into()));
    };
    if name == "wait" {
        return wait::run(session, invocation, &args[1..]).await;
    }
    let Some(command) = find(name) else {
        let choices: Vec<&str> = operation_names().collect();
        return Err(Failure::Usage(format!(
            "argument operation: Invalid choice, valid choices are:\n\n{}",
            choices.chunks(2).map(|pair| pair.join(" | ")).collect::<Vec<_>>().join("\n")
        )));
    };
    let flags = Flags::parse(&args[1..], command.flags)?;
    let (ecr, region) = ecr_client(session, invocation)?;
    let endpoint = endpoint_shown(session, invocation, "api.ecr", &region);
    let call = Call { session, flags, ecr, region, io, operation: command.operation.name(), endpoint };
    (command.run)(call).await
}

#[cfg(test)]
mod tests {
    use super::{COMMANDS, Operation, operation_names};

    /// Operations newer than the aws CLI the lab follows (botocore's 58): it has no command for them.
    const NEWER_THAN_THE_CLI: &[&str] = &[
        "StartReplicationBackfill",
        "StopReplicationBackfill",
        "ListReplicationBackfills",
        "DescribeReplicationBackfillResults",
    ];

    #[test]
    fn every_operation_the_mock_supports_has_a_built_in_command() {
        let built_in: Vec<&str> = COMMANDS.iter().map(|command| command.operation.name()).collect();
        let missing: Vec<&str> = Operation::ALL
            .iter()
            .map(|op| op.name())
            .filter(|name| !built_in.contains(name) && !NEWER_THAN_THE_CLI.contains(name))
            .collect();
        assert!(missing.is_empty(), "no built-in `aws ecr` command for {missing:?}");
    }

    #[test]
    fn cli_names_are_the_operations_in_kebab_case() {
        let names: Vec<&str> = operation_names().collect();
        assert_eq!(names.len(), COMMANDS.len());
        assert!(names.contains(&"batch-get-repository-scanning-configuration"));
        assert!(names.contains(&"get-download-url-for-layer"));
        assert!(names.contains(&"get-login-password"));
        assert_eq!(names.iter().filter(|n| **n == "get-authorization-token").count(), 1);
    }
}
