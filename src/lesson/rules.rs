//! The LAB rule table: every problem `lint` (and the parser) can report, as one descriptor with its
//! stable code, what the rule is about and the hint printed under it (like distribution's `errcode`
//! descriptors). The message itself names the lesson's own words, so each site formats it.
//!
//! | code   | rule |
//! |--------|------|
//! | LAB001 | missing front matter |
//! | LAB002 | bad front matter (invalid YAML, missing `id` or `title`) |
//! | LAB003 | unknown block, attribute or front matter key |
//! | LAB004 | stage without a leading `lab:stage` block; block outside a stage |
//! | LAB005 | duplicate stage id |
//! | LAB006 | undeclared variable |
//! | LAB007 | task stage without a check or a solution |
//! | LAB008 | hint levels not 1..n |
//! | LAB009 | quiz answer out of range |
//! | LAB010 | fault id not in the catalogue |
//! | LAB011 | unknown assertion or field; a value ECR does not know (`min_severity`, `tag_mutability`), a console page the console has not |
//! | LAB012 | hard-coded account id or access key in a command |
//! | LAB013 | invalid YAML in a block |
//! | LAB014 | `mock.requests` or `iam.user` in a lesson that lists `aws` in its backends |
//! | LAB015 | a troubleshoot stage that gives the cause away (a check without `label:`, no diagnose quiz) |
//! | LAB016 | a `lab:wrong` with nothing to fail (no checks) or nothing to run |
//! | LAB017 | a solution that grants `ecr:*` (or every action) in a policy |

use super::{Pos, Problem};

/// One way a lesson can be wrong: its code and the hint shown under the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub hint: &'static str,
}

impl Rule {
    /// This rule broken at `pos`, in the lesson's own words.
    pub fn at(self, pos: Pos, message: impl Into<String>) -> Problem {
        Problem { pos, code: self.code, message: message.into(), hint: self.hint }
    }
}

pub const NO_FRONT_MATTER: Rule =
    Rule { code: "LAB001", hint: "start the file with a `---` line, `id:` and `title:`, then `---`" };
pub const UNCLOSED_FRONT_MATTER: Rule = Rule { code: "LAB001", hint: "end the front matter with a line `---`" };
pub const BAD_FRONT_MATTER: Rule = Rule {
    code: "LAB002",
    hint: "front matter keys: id, title, version, duration, level, backends, requires, vars, objectives, faults, setup",
};
pub const FRONT_MATTER_WITHOUT_ID_OR_TITLE: Rule =
    Rule { code: "LAB002", hint: "every lesson needs `id:` (its progress key) and `title:`" };
pub const UNKNOWN_FRONT_MATTER_KEY: Rule = Rule { code: "LAB003", hint: BAD_FRONT_MATTER.hint };
pub const UNKNOWN_BLOCK: Rule = Rule {
    code: "LAB003",
    hint: "blocks: lab:stage, lab:run, lab:ui, lab:check, lab:fault, lab:hint level=N, lab:solution, lab:wrong, lab:quiz, lab:notes",
};
pub const UNKNOWN_ATTRIBUTE: Rule =
    Rule { code: "LAB003", hint: "only lab:hint takes attributes: level=N, or when=\"TEXT\"" };
pub const BLOCK_BEFORE_STAGE: Rule = Rule { code: "LAB004", hint: "put lab blocks under a `## Stage` heading" };
pub const STAGE_WITHOUT_HEADER: Rule =
    Rule { code: "LAB004", hint: "begin every stage with a ```lab:stage block (id, goal, kind)" };
pub const DUPLICATE_STAGE_ID: Rule =
    Rule { code: "LAB005", hint: "stage ids are progress keys: make each unique in the lesson" };
pub const UNDECLARED_VARIABLE: Rule = Rule {
    code: "LAB006",
    hint: "declare it under `vars:` in the front matter, or use a built-in: account, region, registry, repo, tag, sample, sample_v2",
};
pub const TASK_WITHOUT_CHECK: Rule =
    Rule { code: "LAB007", hint: "say what \"done\" means with a lab:check block, or make it kind: reading" };
pub const TASK_WITHOUT_SOLUTION: Rule =
    Rule { code: "LAB007", hint: "give the reference answer in a lab:solution block; verify runs it" };
pub const HINT_LEVELS: Rule = Rule { code: "LAB008", hint: "number hints level=1, level=2, ... without gaps" };
pub const QUIZ_ANSWER: Rule = Rule { code: "LAB009", hint: "answer is the 1-based number of the right choice" };
pub const UNKNOWN_FAULT: Rule =
    Rule { code: "LAB010", hint: "the catalogue, and what each fault arranges, is in lessons/README.md" };
pub const UNKNOWN_FIELD: Rule =
    Rule { code: "LAB011", hint: "see lessons/README.md for the assertions and fields each block takes" };
pub const UNKNOWN_SEVERITY: Rule =
    Rule { code: "LAB011", hint: "min_severity is one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED" };
pub const UNKNOWN_MUTABILITY: Rule = Rule {
    code: "LAB011",
    hint: "tag_mutability is one of IMMUTABLE, MUTABLE, MUTABLE_WITH_EXCLUSION, IMMUTABLE_WITH_EXCLUSION",
};
pub const UNKNOWN_ENCRYPTION: Rule =
    Rule { code: "LAB011", hint: "encryption is one of AES256, KMS, KMS_DSSE (as in --encryption-configuration)" };
pub const UNKNOWN_CONSOLE_PAGE: Rule = Rule {
    code: "LAB011",
    hint: "console viewed is one of repositories, create-repository, repository, push-commands, image, findings, edit, lifecycle, permissions, delete, delete-images, private-registry",
};
pub const HARD_CODED: Rule = Rule {
    code: "LAB012",
    hint: "write {{account}}, {{registry}} or {{region}}: the lab fills them for mock and real AWS alike",
};
pub const BAD_YAML: Rule = Rule { code: "LAB013", hint: "check the indentation and quoting of this block" };
pub const REQUESTS_ON_AWS: Rule = Rule {
    code: "LAB014",
    hint: "check the outcome instead (output, exit, ecr.image, docker.credentials), or list only `mock`",
};
pub const TROUBLESHOOT_GIVES_AWAY: Rule = Rule {
    code: "LAB015",
    hint: "in a troubleshoot stage give every check a `label:` that does not name the cause or the fix, and a lab:quiz with `diagnose: true`",
};
pub const WRONG_WITHOUT_CHECKS: Rule = Rule {
    code: "LAB016",
    hint: "a lab:wrong holds shell lines of a plausible wrong solution; verify proves the stage's lab:check fails after them",
};
pub const SOLUTION_GRANTS_ALL: Rule = Rule {
    code: "LAB017",
    hint: "least privilege: name the actions the job needs (ecr:BatchGetImage, ecr:PutImage, ...); put the `ecr:*` grant in a lab:wrong, which verify proves fails",
};
