//! Integration tests: the schema, roles and seed on a real PostgreSQL (one server per test
//! process, one database per test, see `pglab::testing`), and the `pglab` binary end to end.

// Test helpers outside #[test] functions may panic on failure too: that is how tests fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod faults;
mod lifecycle;
mod roles;
mod schema;
mod seed;
mod support;
