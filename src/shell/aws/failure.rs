//! How a command ends, as the CLI reports it: [`Failure`] and its exit status and lines, and an
//! SDK error read as the CLI reads it.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use serde_json::Value;

use crate::shell::Io;
use crate::shell::aws_json as out;

/// The usage lines both CLIs print.
const USAGE_LINES: &str = "usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]
To see help text, you can run:

  aws help
  aws <command> help
  aws <command> <subcommand> help";

/// CLI v1's usage: a note about v2 (after a carriage return that hides `usage: `) above the lines.
const USAGE_V1_NOTE: &str = "usage: \rNote: AWS CLI version 2, the latest major version of the AWS CLI, is now stable and recommended for general use. For more information, see the AWS CLI version 2 installation instructions at: https://docs.aws.amazon.com/cli/latest/userguide/install-cliv2.html
";

/// Which major version of the aws CLI the built-in `aws` speaks: v2 unless `AWS_LAB_CLI_VERSION=1`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cli {
    V1,
    V2,
}

impl Cli {
    /// The exit status for each kind of failure: v1 has 2 (usage) and 255; v2 has 252 (usage and
    /// parameters), 253 (credentials), 254 (the service said no) and 255 (anything else).
    fn status(self, failure: &Failure) -> i32 {
        match (self, failure) {
            (Cli::V1, Failure::Usage(_)) => 2,
            (Cli::V1, _) => 255,
            (Cli::V2, Failure::Usage(_) | Failure::UnknownOptions(_) | Failure::Validation(_)) => 252,
            (Cli::V2, Failure::Service { .. }) => 254,
            (Cli::V2, Failure::Other(m)) if m.starts_with("Unable to locate credentials") => 253,
            (Cli::V2, Failure::Other(m))
                if m.starts_with("Error parsing parameter") || m.starts_with("Bad value for --") =>
            {
                252
            }
            (Cli::V2, Failure::Other(_)) => 255,
        }
    }

    /// Usage, then `last` (an `aws: error: ...` or `Unknown options: ...` line), as each version
    /// lays them out.
    fn usage(self, last: &str, io: &mut Io) {
        match self {
            Cli::V1 => {
                io.eprintln(format!("{USAGE_V1_NOTE}\n{USAGE_LINES}"));
                if last.starts_with("Unknown options") {
                    io.eprintln("");
                }
                io.eprintln(last);
            }
            Cli::V2 => {
                io.eprintln("");
                io.eprintln(USAGE_LINES);
                io.eprintln("");
                io.eprintln(last);
                io.eprintln("");
            }
        }
    }
}

/// How a command ends, as the CLI reports it (exit statuses v2's, then v1's: see [`Cli::status`]).
pub enum Failure {
    /// argparse: usage, then `aws: error: ...`, exit 252 (v1: 2).
    Usage(String),
    /// Unknown options: usage, blank line, `Unknown options: ...`, exit 252 (v1: 255).
    UnknownOptions(String),
    /// Client-side validation: `Parameter validation failed:` ..., exit 252 (v1: 255).
    Validation(String),
    /// `An error occurred (Code) when calling the Op operation: message`, exit 254 (v1: 255).
    Service { code: String, operation: &'static str, message: String },
    /// Anything else the CLI prints after a blank line: exit 253 for missing credentials, 252 for a
    /// bad parameter or `--query`, else 255 (v1: 255).
    Other(String),
}

pub type Outcome = Result<Option<Value>, Failure>;

pub fn report(outcome: Outcome, cli: Cli, io: &mut Io) -> i32 {
    let failure = match outcome {
        Ok(None) => return 0,
        Ok(Some(value)) => {
            io.println(out::pretty(&value));
            return 0;
        }
        Err(failure) => failure,
    };
    let status = cli.status(&failure);
    match failure {
        Failure::Usage(message) => cli.usage(&format!("aws: error: {message}"), io),
        Failure::UnknownOptions(options) => cli.usage(&format!("Unknown options: {options}"), io),
        Failure::Validation(line) => {
            io.eprintln("");
            io.eprintln("Parameter validation failed:");
            io.eprintln(line);
        }
        Failure::Service { code, operation, message } => {
            io.eprintln("");
            io.eprintln(format!("An error occurred ({code}) when calling the {operation} operation: {message}"));
        }
        Failure::Other(message) => {
            io.eprintln("");
            io.eprintln(message);
        }
    }
    status
}

/// An SDK failure as the CLI prints it.
pub fn service_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
    error: aws_sdk_ecr::error::SdkError<E, R>,
    endpoint: &str,
) -> Failure {
    use aws_sdk_ecr::error::SdkError;
    match &error {
        SdkError::ServiceError(_) => Failure::Service {
            code: error.code().unwrap_or("Unknown").to_owned(),
            operation,
            message: error.message().unwrap_or_default().to_owned(),
        },
        _ if format!("{}", aws_sdk_ecr::error::DisplayErrorContext(&error)).contains("CredentialsNotLoaded") => {
            Failure::Other(
                "Unable to locate credentials. You can configure credentials by running \"aws configure\".".into(),
            )
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            Failure::Other(format!("Could not connect to the endpoint URL: \"{endpoint}/\""))
        }
        _ => Failure::Other(format!("{}", aws_sdk_ecr::error::DisplayErrorContext(&error))),
    }
}
