//! A mock of Amazon ECR for teaching: the ECR JSON API, STS GetCallerIdentity, the Docker/OCI
//! registry and the lab control API on one port, with AWS's identity rules, error texts and
//! durability. Knows nothing of lessons.
//!
//! # Public surface
//!
//! Everything another crate may use is listed here; every module below is private to the crate.
//!
//! - Running a mock: [`Lab`] (the state, its journal and blob store; [`LabError`]), [`router`] (the
//!   whole HTTP API, testable without a socket), [`serve`] / [`serve_app`] (on a listener, until a
//!   shutdown future resolves), [`spawn`] (on `127.0.0.1`, a free port, in this process:
//!   [`Running`] has the `url` and `stop`s when asked or dropped). The state a [`Lab`] hands to
//!   `read`/`write` closures is [`State`] (errors: [`StateError`]); a durable lab that cannot
//!   open its directory says [`JournalError`] ([`inspect_journal`] and [`repair_journal`] show and
//!   cut a damaged journal's [`JournalDamage`], keeping a copy); its request log is [`RequestLog`] of
//!   [`LoggedRequest`]s; a scan's bounds are [`ScanLimits`].
//! - Limits that clients and tests meet: [`MAX_API_BODY`] (the largest AWS API request body),
//!   [`MAX_DRAIN_BYTES`] (the most of an unread body drained to keep a connection alive),
//!   [`IDLE_TIMEOUT`] (how long a connection may wait between requests; `Lab::set_idle_timeout`
//!   shortens it in tests). A lab's instructor token (for `/_lab/` off loopback) is
//!   `Lab::instructor_token`.
//! - Class mode (`ecr-lab class serve`): [`Lab::set_class`] with a [`ClassConfig`] (its course of
//!   [`CourseLesson`]s) turns on `/class/` (the roster API and the instructor's dashboard), makes
//!   `/_lab/` want the instructor token from every caller and the console a sign-in on loopback
//!   too; a student's progress events are [`ProgressKind`]s. [`tls`]: the class CA and HTTPS
//!   ([`tls::ClassTls`], [`tls::serve_tls`]).
//! - [`types`]: the typed values at the edge (account ids, regions, repository names, tags,
//!   digests, [`types::Millis`], the wire enums such as [`types::TagMutability`],
//!   [`types::Severity`] and [`types::ScanStatus`], [`types::WireEnum`], [`types::wildcard_match`], [`types::human_size`]).
//!   [`RegistryKey`] (an account and region) and [`AccessKey`] name state.
//! - [`defaults`]: the lab's default account, region and access key, and its default registry.
//! - [`aws`]: speaking AWS to the mock (or to AWS): the SigV4 [`aws::Signer`],
//!   ECR's [`aws::Operation`]s, [`aws::signed_headers`], [`aws::EcrError`] and its texts.
//! - [`clock`]: every date and time the mock reads or writes (the `time` crate): the wall clock
//!   (injectable in [`State`] for tests), X-Amz-Date, ISO 8601 / RFC 3339 texts.
//!
//! # Inside
//!
//! `server` routes one port: `ecr_api` and `sts_api` (JSON on `POST /`, signed by `sigv4`),
//! `oci_api` (the registry under `/v2/`, one module per resource), `control` (`/_lab/`) and
//! `console` (HTML), and in class mode `class` (`/class/`: the roster's API, who is the
//! instructor, the dashboard; the roster itself is `state::class`). All of them act through `lab`, which applies `state`'s rules, journals the
//! events (`state::journal`) and keeps blobs in `store`; `scan` reads layers for image scans on
//! the lab's scanner thread; the console and slides are maud templates, escaped by construction.
//! `types` and `clock` are the leaves every module uses; `keep_alive` and
//! `request_log` are the server's middleware and its record.

#[doc(hidden)]
pub mod bench_auth;
#[doc(hidden)]
pub mod bench_journal;
mod class;
pub mod clock;
mod console;
mod control;
mod ecr_api;
mod guard;
mod iam_control;
mod iam_simulate;
mod keep_alive;
mod lab;
mod oci_api;
pub mod oidc;
mod other_services;
mod pull_through;
mod request_log;
mod scan;
mod server;
mod sigv4;
#[doc(hidden)]
pub mod startup_trace;
mod state;
mod store;
mod sts_api;
pub mod tls;
pub mod types;
pub mod upstream;

pub use class::{ClassConfig, CourseLesson};
pub use keep_alive::MAX_DRAIN_BYTES;
pub use lab::{Lab, LabError};
pub use request_log::{LoggedRequest, RequestLog};
pub use scan::layers::Limits as ScanLimits;
pub use server::{IDLE_TIMEOUT, MAX_API_BODY, Running, router, serve, serve_app, spawn};
pub use state::class::ProgressKind;
pub use state::journal::{
    Damage as JournalDamage, JournalError, compact as compact_journal, inspect as inspect_journal,
    repair as repair_journal,
};
pub use state::snapshot::FAILPOINTS as SNAPSHOT_FAILPOINTS;
pub use state::{AccessKey, RegistryKey, State, StateError};

/// The lab's defaults: the account, region and access key a fresh lab has, and its registry.
pub mod defaults {
    pub use crate::oci_api::default_registry;
    pub use crate::state::{DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY};
}

/// Speaking AWS: SigV4 signing and its dates, ECR's operations, and ECR's errors.
pub mod aws {
    pub use crate::ecr_api::error::SIGNATURE_MISMATCH;
    pub use crate::ecr_api::{EcrError, EcrErrorCode, NOT_IMPLEMENTED, Operation, signed_headers};
    pub use crate::sigv4::Signer;
}
