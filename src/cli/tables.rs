//! `pglab tables [TABLE…]`: the live tables view as plain text — chosen tables of the
//! lessons' schema (organizations, users and posts unless named) side by side with their
//! rows, each row's tenant in its `organization_id` column, `✗` on soft-deleted rows, and
//! the foreign keys between the tables — read as the learner. Plain characters only: the
//! marks carry the meaning, so `NO_COLOR` has nothing to turn off.

use std::io::Write;

use anyhow::Context;

use crate::data::tables::{default_tables, text};
use crate::db::{LESSON_SCHEMA, Lab, LabConfig};

pub async fn run(config: &LabConfig, tables: &[String], width: usize) -> anyhow::Result<()> {
    let names: Vec<String> = if tables.is_empty() {
        default_tables()
    } else {
        tables.to_vec()
    };
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let snapshot = crate::db::tables::read(&mut conn, LESSON_SCHEMA, &names).await?;
    let mut out = super::stdout();
    for line in text::lines(&snapshot, width, None) {
        writeln!(out, "{}", line.text())?;
    }
    out.flush()
        .context("cannot write the tables to standard output")?;
    Ok(())
}
