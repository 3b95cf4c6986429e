//! `ecr-lab iam ...` inside the lab shell: the same commands as `ecr-lab iam` (users with inline
//! policies on this shell's mock), with policy files found as the shell finds files (`~/` is its
//! home). A user `create-user` makes is also saved as an aws profile of its name in the lab's
//! config, so `AWS_PROFILE=NAME aws ...` (or `aws ... --profile NAME`) acts as that user.

use clap::Parser as _;

use super::{Io, Session, aws};
use crate::iam::{IamCommand, execute};

pub(super) async fn run(session: &mut Session, args: &[String], io: &mut Io) -> i32 {
    let mut command = match IamCommand::try_parse_from(args) {
        Ok(command) => command,
        Err(error) => {
            let text = error.render().to_string();
            let status = if error.use_stderr() { 2 } else { 0 };
            if status == 0 {
                io.out.extend_from_slice(text.as_bytes())
            } else {
                io.err.extend_from_slice(text.as_bytes())
            }
            return status;
        }
    };
    let Some(endpoint) = session.backend.mock_endpoint().map(str::to_owned) else {
        io.eprintln(
            "lab: `ecr-lab iam` makes users on the lab's mock; on real AWS use `aws iam` with your own account",
        );
        return 1;
    };
    command.action.endpoint_mut().get_or_insert(endpoint);
    let home = session.home.clone();
    let path = move |text: &str| {
        let expanded = text.strip_prefix("~/").map(|rest| home.join(rest));
        expanded.unwrap_or_else(|| std::path::PathBuf::from(text))
    };
    match execute(command.action, &path).await {
        Ok((lines, made)) => {
            for line in lines {
                io.println(line);
            }
            if let Some(user) = made {
                let region = session.backend.region.clone();
                let values = [
                    ("aws_access_key_id".to_owned(), user.access_key_id),
                    ("aws_secret_access_key".to_owned(), user.secret_access_key),
                    ("region".to_owned(), region),
                ];
                if let Err(e) = aws::save_profile(session, &user.user_name, values.into_iter().collect()) {
                    io.eprintln(format!("ecr-lab: cannot save the profile {}: {e}", user.user_name));
                    return 1;
                }
                io.println(format!(
                    "saved as aws profile {0}: `AWS_PROFILE={0} aws ...` or `aws ... --profile {0}` acts as {0}",
                    user.user_name
                ));
            }
            0
        }
        Err(error) => {
            io.eprintln(format!("ecr-lab: {error:#}"));
            1
        }
    }
}
