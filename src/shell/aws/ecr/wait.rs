//! The CLI's waiters for what a lesson waits on: `aws ecr wait image-scan-complete` and
//! `aws ecr wait lifecycle-policy-preview-complete`. botocore's definitions: poll the describe call,
//! succeed on COMPLETE, fail on FAILED, 60 attempts. The lab polls every second (botocore every 5).

use aws_sdk_ecr::error::ProvideErrorMetadata;

use super::shared_flags::*;
use crate::shell::Session;
use crate::shell::aws::failure::{Failure, Outcome};
use crate::shell::aws::flags::{Flag, Flags};
use crate::shell::aws::globals::{Invocation, ecr_client};
use crate::shell::aws::params::{image_id, repository_name};

const WAITERS: &str = "image-scan-complete | lifecycle-policy-preview-complete";

/// A waiter: botocore's name, the member it watches, its flags.
struct Waiter {
    name: &'static str,
    path: &'static str,
    flags: &'static [Flag],
}

fn waiter(name: &str) -> Result<Waiter, Failure> {
    match name {
        "image-scan-complete" => Ok(Waiter {
            name: "ImageScanComplete",
            path: "imageScanStatus.status",
            flags: &[REGISTRY_ID, REPOSITORY_NAME, IMAGE_ID],
        }),
        "lifecycle-policy-preview-complete" => Ok(Waiter {
            name: "LifecyclePolicyPreviewComplete",
            path: "status",
            flags: &[REGISTRY_ID, REPOSITORY_NAME],
        }),
        other => Err(Failure::Usage(format!(
            "argument waiter_name: Invalid choice, valid choices are:\n\n{WAITERS}\n(got '{other}')"
        ))),
    }
}

pub async fn run(session: &Session, invocation: &Invocation, args: &[String]) -> Outcome {
    let Some(name) = args.first().map(String::as_str) else {
        return Err(Failure::Usage("the following arguments are required: waiter_name".into()));
    };
    let waiter = waiter(name)?;
    let flags = Flags::parse(&args[1..], waiter.flags)?;
    let (ecr, _) = ecr_client(session, invocation)?;
    // A service error ends the waiter, as botocore's does.
    let failed = |e: &dyn ProvideErrorMetadata| {
        Failure::Other(format!(
            "Waiter {} failed: An error occurred ({}): {}",
            waiter.name,
            e.code().unwrap_or("Unknown"),
            e.message().unwrap_or_default()
        ))
    };
    for _ in 0..60 {
        let status = if name == "image-scan-complete" {
            ecr.describe_image_scan_findings()
                .set_registry_id(flags.one("--registry-id"))
                .set_repository_name(repository_name(&flags)?)
                .set_image_id(image_id(&flags)?)
                .send()
                .await
                .map(|r| r.image_scan_status().and_then(|s| s.status()).map(|s| s.as_str().to_owned()))
                .map_err(|e| failed(&e))?
        } else {
            ecr.get_lifecycle_policy_preview()
                .set_registry_id(flags.one("--registry-id"))
                .set_repository_name(repository_name(&flags)?)
                .send()
                .await
                .map(|r| r.status().map(|s| s.as_str().to_owned()))
                .map_err(|e| failed(&e))?
        };
        match status.as_deref() {
            Some("COMPLETE") => return Ok(None),
            Some("FAILED") => {
                return Err(Failure::Other(format!(
                    "Waiter {} failed: Waiter encountered a terminal failure state: For expression \"{}\" we matched expected path: \"FAILED\"",
                    waiter.name, waiter.path
                )));
            }
            _ => {}
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    Err(Failure::Other(format!("Waiter {} failed: Max attempts exceeded", waiter.name)))
}
