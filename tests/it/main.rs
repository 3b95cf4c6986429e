//! Integration tests: the mock driven by clients nobody on the team wrote (aws-sdk-ecr, the aws
//! CLI) and by raw requests, over real sockets on 127.0.0.1:0.

pub mod aws_backend;
mod aws_cli;
mod builtin_client;
mod class;
mod class_dashboard;
mod class_tls;
pub mod common;
mod console;
mod contract;
mod credhelper;
mod disk_full;
mod docs;
mod durability;
mod fidelity;
mod iam;
mod instructor;
mod keep_alive;
mod lan;
mod learner;
mod lessons;
mod limits;
mod podman;
mod proptests;
mod pull_through;
mod real_clients;
pub mod registry;
mod robust;
mod scan;
mod sdk;
mod secrets;
mod shell;
mod signing;
mod slides;
mod wire;
