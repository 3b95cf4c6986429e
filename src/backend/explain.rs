//! AWS errors explained: the real message, as AWS worded it, plus one line of what to do. The only
//! place that maps an AWS error code (or a missing credential, or an endpoint that does not answer)
//! to advice. Lesson errors (RepositoryNotFoundException, ...) get no advice: finding the cause is
//! the exercise.

use aws_sdk_ecr::error::ProvideErrorMetadata;

/// A failure as the learner sees it: AWS's own text, then what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The error code (`AccessDeniedException`), when AWS sent one.
    pub code: Option<String>,
    /// AWS's text, e.g. `An error occurred (X) when calling the Y operation: ...`.
    pub message: String,
    /// One sentence: what to do about it.
    pub fix: String,
}

impl std::fmt::Display for Explained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\nwhat to do: {}", self.message, self.fix)
    }
}

impl std::error::Error for Explained {}

/// The one-line fix for an AWS error code and message; `None` for errors a lesson is about.
pub fn fix_for(code: &str, message: &str) -> Option<String> {
    let fix = match code {
        "AccessDeniedException" | "AccessDenied" | "DENIED" if message.contains("not authorized to perform") => {
            let action = denied_action(message).unwrap_or("this action");
            format!(
                "your identity is not allowed {action}: ask your AWS administrator for a policy that allows {action} (the lab needs the ecr:* actions its lessons use)"
            )
        }
        "AccessDeniedException" | "AccessDenied" => {
            "your identity is not allowed this action: ask your AWS administrator for a policy that allows it".into()
        }
        "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => {
            "your temporary credentials have expired: get new ones (`aws sso login`, or a new session token) and try again".into()
        }
        "UnrecognizedClientException" | "InvalidClientTokenId" => {
            "AWS does not know this access key: check AWS_ACCESS_KEY_ID or your profile (`aws configure list`), or create a new access key".into()
        }
        "RequestTimeTooSkewed" | "InvalidSignatureException" | "SignatureDoesNotMatch"
            if code == "RequestTimeTooSkewed" || message.contains("Signature expired") =>
        {
            "this computer's clock is off, and AWS refuses signatures from the wrong time: set it right (e.g. `sudo timedatectl set-ntp true`)".into()
        }
        "InvalidSignatureException" | "SignatureDoesNotMatch" => {
            "the secret access key does not belong to this access key id: enter the pair again (`aws configure`)".into()
        }
        "ThrottlingException" | "Throttling" | "ThrottledException" | "TooManyRequestsException" | "RequestLimitExceeded" => {
            format!(
                "AWS is limiting the request rate (ecr-lab tried {} times): wait a minute, then try again",
                super::MAX_ATTEMPTS
            )
        }
        _ => return None,
    };
    Some(fix)
}

/// `ecr:CreateRepository` from `... is not authorized to perform: ecr:CreateRepository on resource: ...`.
pub fn denied_action(message: &str) -> Option<&str> {
    let rest = message.split("not authorized to perform: ").nth(1)?;
    rest.split_whitespace().next().map(|a| a.trim_end_matches([',', '.']))
}

/// The SDK's error chain without the `(DispatchFailure(DispatchFailure { ... }))` debug dump it ends with.
fn brief(context: &str) -> String {
    let cut = context.match_indices(" (").map(|(i, _)| i).find(|&i| {
        let rest = &context[i + 2..];
        let word: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
        word.starts_with(|c: char| c.is_ascii_uppercase())
            && rest[word.len()..].starts_with(['(', ' '])
            && rest[word.len()..].trim_start().starts_with(['(', '{'])
    });
    match cut {
        Some(i) => context[..i].to_owned(),
        None => context.to_owned(),
    }
}

/// Where a call could not even reach AWS.
pub fn unreachable(detail: &str) -> Explained {
    Explained {
        code: None,
        message: detail.to_owned(),
        fix: "check the region name (`--region`, AWS_REGION) and your network: the regional endpoint did not answer (an AWS_ENDPOINT_URL setting also changes where requests go)".into(),
    }
}

/// No credentials anywhere in the chain.
pub fn no_credentials(detail: &str) -> Explained {
    Explained {
        code: None,
        message: format!("Unable to locate credentials ({detail})"),
        fix: "run `aws configure` (an access key), `aws sso login --profile NAME` then pass --profile NAME, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
    }
}

/// Temporary credentials whose expiry has passed.
pub fn expired_session() -> Explained {
    Explained {
        code: Some("ExpiredToken".into()),
        message: "The credentials the chain found have expired.".into(),
        fix: fix_for("ExpiredToken", "").expect("in the table"),
    }
}

/// A credential provider's failure.
pub fn credentials(error: &aws_credential_types::provider::error::CredentialsError) -> Explained {
    use aws_credential_types::provider::error::CredentialsError;
    let detail = format!("{}", aws_sdk_ecr::error::DisplayErrorContext(error));
    match error {
        CredentialsError::CredentialsNotLoaded(_) => no_credentials(&detail),
        // The instance metadata service is the chain's last resort: when it fails, nothing before
        // it (environment, profiles, SSO, process, containers) had credentials either.
        _ if detail.contains("IMDS") || detail.contains("instance metadata") => {
            no_credentials("none in the environment or the profiles, and this is not an EC2 instance with a role")
        }
        _ => Explained {
            code: None,
            message: format!("The credentials could not be loaded: {detail}"),
            fix: "fix the profile named in the message (`aws configure list` shows what is used), or sign in again (`aws sso login`)".into(),
        },
    }
}

/// An SDK failure of `operation`: the CLI's wording for a service error, and the fix.
pub fn sdk<E, R>(operation: &str, error: &aws_sdk_ecr::error::SdkError<E, R>) -> Explained
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_ecr::error::SdkError;
    let context = brief(&format!("{}", aws_sdk_ecr::error::DisplayErrorContext(error)));
    match error {
        SdkError::ServiceError(_) => {
            let code = error.code().unwrap_or("Unknown").to_owned();
            let text = error.message().unwrap_or_default().to_owned();
            let message = format!("An error occurred ({code}) when calling the {operation} operation: {text}");
            let fix = fix_for(&code, &text).unwrap_or_else(|| "see the message above".into());
            Explained { code: Some(code), message, fix }
        }
        _ if context.contains("CredentialsNotLoaded") || context.contains("IMDS") => no_credentials("the chain found none"),
        _ if context.contains("ProviderError") => Explained {
            code: None,
            message: format!("The credentials could not be loaded: {context}"),
            fix: "fix the profile named in the message (`aws configure list` shows what is used), or sign in again (`aws sso login`)".into(),
        },
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            unreachable(&format!("Could not connect to the endpoint for {operation}: {context}"))
        }
        _ => Explained { code: None, message: context, fix: "see the message above".into() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_missing_action() {
        let message = "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:123456789012:repository/test because no identity-based policy allows the ecr:CreateRepository action";
        assert_eq!(denied_action(message), Some("ecr:CreateRepository"));
        let fix = fix_for("AccessDeniedException", message).unwrap();
        assert!(fix.contains("allows ecr:CreateRepository"), "{fix}");
        let plain = "User: x is not authorized to perform: ecr:GetAuthorizationToken on resource: *";
        assert_eq!(denied_action(plain), Some("ecr:GetAuthorizationToken"));
    }

    #[test]
    fn the_sdk_debug_dump_is_cut() {
        let context = "dispatch failure: io error: client error (Connect): dns error: failed to lookup address information: Name or service not known (DispatchFailure(DispatchFailure { source: ConnectorError { kind: Io } }))";
        assert_eq!(
            brief(context),
            "dispatch failure: io error: client error (Connect): dns error: failed to lookup address information: Name or service not known"
        );
        assert_eq!(brief("service error: Rate exceeded"), "service error: Rate exceeded");
    }

    #[test]
    fn each_environment_error_has_a_fix_and_lesson_errors_have_none() {
        for code in [
            "ExpiredTokenException",
            "ExpiredToken",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "InvalidSignatureException",
            "ThrottlingException",
            "AccessDeniedException",
        ] {
            assert!(fix_for(code, "").is_some(), "{code}");
        }
        assert!(
            fix_for("ThrottlingException", "")
                .unwrap()
                .contains(&format!("tried {} times", super::super::MAX_ATTEMPTS))
        );
        for code in ["RepositoryNotFoundException", "ImageTagAlreadyExistsException", "NAME_UNKNOWN"] {
            assert_eq!(fix_for(code, ""), None, "{code}");
        }
    }
}
