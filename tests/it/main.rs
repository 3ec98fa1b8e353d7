//! Integration tests: the schema, roles and seed on a real PostgreSQL (one server per test
//! process, one database per test, see `pglab::testing`), and the `pglab` binary end to end.

// Test helpers outside #[test] functions may panic on failure too: that is how tests fail;
// and they may tell the person running them that a test was skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod acting;
mod app;
mod audit_db;
mod audit_screen;
mod cli;
mod clients;
mod console;
mod demo;
mod demo_audit;
mod demo_cloud;
mod demo_durability;
mod demo_foreign_keys;
mod demo_indexes;
mod demo_orm;
mod demo_postgres;
mod demo_soft_delete;
mod demo_tenancy;
mod demo_tenant_security;
mod explain;
mod explain_advice;
mod explain_fetch;
mod explain_insight;
mod faults;
mod grading;
mod handout;
mod hardening;
mod isolation;
mod journeys;
mod lesson_fuzz;
mod lessons;
mod lifecycle;
mod notes_screen;
mod presenter;
mod presenting;
mod proxy;
mod proxy_cli;
mod proxy_tls;
mod proxy_wire;
mod readme;
mod roles;
mod schema;
mod schema_map;
mod screens;
mod seed;
mod support;
mod tables;
mod wire;
