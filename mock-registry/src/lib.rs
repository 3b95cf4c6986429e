//! A mock of Amazon ECR for teaching: the ECR JSON API, STS GetCallerIdentity, the Docker/OCI
//! registry and the lab control API on one port, with AWS's identity rules, error texts and durability. Knows nothing of lessons.

pub mod console;
pub mod control;
pub mod ecr_api;
pub mod lab;
pub mod oci_api;
pub mod request_log;
pub mod scan;
pub mod server;
pub mod sigv4;
pub mod state;
pub mod store;
pub mod sts_api;
pub mod types;

pub use lab::{Lab, LabError};
pub use server::{router, serve, serve_app};
