//! How a command ends, as the CLI reports it: [`Failure`] and its exit status and lines, and an
//! SDK error read as the CLI reads it.

use aws_sdk_ecr::error::ProvideErrorMetadata;
use serde_json::Value;

use crate::shell::Io;
use crate::shell::aws_json as out;

pub const USAGE: &str = "usage: \rNote: AWS CLI version 2, the latest major version of the AWS CLI, is now stable and recommended for general use. For more information, see the AWS CLI version 2 installation instructions at: https://docs.aws.amazon.com/cli/latest/userguide/install-cliv2.html

usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]
To see help text, you can run:

  aws help
  aws <command> help
  aws <command> <subcommand> help";

/// How a command ends, as the CLI reports it.
pub enum Failure {
    /// argparse: usage, then `aws: error: ...`, exit 2.
    Usage(String),
    /// Unknown options: usage, blank line, `Unknown options: ...`, exit 255.
    UnknownOptions(String),
    /// Client-side validation: `Parameter validation failed:` ..., exit 255.
    Validation(String),
    /// `An error occurred (Code) when calling the Op operation: message`, exit 255.
    Service { code: String, operation: &'static str, message: String },
    /// Anything else the CLI prints after a blank line, exit 255.
    Other(String),
}

pub type Outcome = Result<Option<Value>, Failure>;

pub fn report(outcome: Outcome, io: &mut Io) -> i32 {
    match outcome {
        Ok(None) => 0,
        Ok(Some(value)) => {
            io.println(out::pretty(&value));
            0
        }
        Err(Failure::Usage(message)) => {
            io.eprintln(USAGE);
            io.eprintln(format!("aws: error: {message}"));
            2
        }
        Err(Failure::UnknownOptions(options)) => {
            io.eprintln(USAGE);
            io.eprintln("");
            io.eprintln(format!("Unknown options: {options}"));
            255
        }
        Err(Failure::Validation(line)) => {
            io.eprintln("");
            io.eprintln("Parameter validation failed:");
            io.eprintln(line);
            255
        }
        Err(Failure::Service { code, operation, message }) => {
            io.eprintln("");
            io.eprintln(format!("An error occurred ({code}) when calling the {operation} operation: {message}"));
            255
        }
        Err(Failure::Other(message)) => {
            io.eprintln("");
            io.eprintln(message);
            255
        }
    }
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
