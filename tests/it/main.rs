//! Integration tests: the mock driven by clients nobody on the team wrote (aws-sdk-ecr, the aws
//! CLI) and by raw requests, over real sockets on 127.0.0.1:0.

pub mod aws_backend;
mod aws_cli;
mod builtin_client;
pub mod common;
mod console;
mod contract;
mod durability;
mod instructor;
mod lessons;
mod real_clients;
pub mod registry;
mod scan;
mod sdk;
mod shell;
mod slides;
mod wire;
