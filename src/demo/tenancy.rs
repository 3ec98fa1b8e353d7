//! The multi-tenancy lesson's demos:
//!
//! - `tenancy.databases` ([`databases`]): one database per customer, measured: databases
//!   cloned from the lab's template, each one's creation time and size, then one schema
//!   change applied to every one of them against the same change on the one shared
//!   database; all of them dropped again;
//! - `tenancy.queries` ([`queries`]): the blog's list of posts for two users of different
//!   tenants, each filtered by `organization_id`, then the list without the filter: every
//!   tenant's rows, and the lab's tenancy lint;
//! - `tenancy.index` ([`index`]): a table of the demo's own with many tenants' posts, a
//!   tenant's list planned and timed without and with an index on `organization_id`, rolled
//!   back.
//!
//! None of them leaves anything behind for another lesson to see: the databases are dropped
//! (at the end, when the demo is stopped, or at its next run and by `pglab db reset` when
//! the lab was killed), the schema change on the shared database and the index demo's table
//! are rolled back, and the queries only read.

mod databases;
mod index;
mod queries;

use tokio::sync::mpsc;

use super::params::{ParamKind, ParamSpec};
use super::{DemoContext, DemoSpec, Error};
use crate::data::demo::{DemoProgress, DemoReport};

/// Every demo of this module is named `tenancy.…`.
pub(super) const PREFIX: &str = "tenancy.";

pub const DEMOS: &[DemoSpec] = &[
    DemoSpec {
        name: "tenancy.databases",
        summary: "a database per customer: each one's creation time and size, and one schema \
                  change applied to all of them against one shared database",
        params: &[ParamSpec {
            name: "customers",
            kind: ParamKind::Int { min: 2, max: 50 },
            help: "how many customer databases to create (default 20)",
        }],
    },
    DemoSpec {
        name: "tenancy.queries",
        summary: "two tenants' lists of posts, then the list without organization_id",
        params: &[],
    },
    DemoSpec {
        name: "tenancy.index",
        summary: "a tenant's posts among many tenants', without and with an index on \
                  organization_id",
        params: &[
            ParamSpec {
                name: "rows",
                kind: ParamKind::Int {
                    min: 10_000,
                    max: 2_000_000,
                },
                help: "how many posts the demo's table holds (default 500000)",
            },
            ParamSpec {
                name: "tenants",
                kind: ParamKind::Int {
                    min: 10,
                    max: 100_000,
                },
                help: "how many tenants share them (default 1000)",
            },
        ],
    },
];

/// Runs the demo `name` (already checked) with its parameters.
pub(super) async fn run(
    ctx: &DemoContext,
    name: &'static str,
    params: &toml::Table,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<DemoReport, Error> {
    match name {
        "tenancy.databases" => databases::run(ctx, params, progress).await,
        "tenancy.queries" => queries::run(ctx).await,
        _ => index::run(ctx, params, progress).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_here_is_named_with_the_prefix() {
        assert!(DEMOS.iter().all(|demo| demo.name.starts_with(PREFIX)));
    }
}
