//! `pglab schema [TABLE…]`: the schema map as plain text — the server, its databases, this
//! database's schemas, a box per table of the lessons' schema, and the foreign keys as
//! arrows — read from the live catalog as the learner, so it shows what the learner can
//! see, tables the learner created included. Plain characters only: nothing to colour, so
//! `NO_COLOR` has nothing to turn off.

use std::io::Write;

use anyhow::Context;

use super::Refused;
use crate::data::schema::text;
use crate::db::{LESSON_SCHEMA, Lab, LabConfig};

pub async fn run(config: &LabConfig, tables: &[String]) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut conn = crate::db::connect(&lab.learner).await?;
    let map = crate::db::schema::read(&mut conn, LESSON_SCHEMA, tables).await?;
    let unknown = text::unknown(&map, tables);
    if !unknown.is_empty() {
        // The schema's line lists its first tables by name and counts them all.
        let (known, count) = map
            .schemas
            .iter()
            .find(|s| s.name == LESSON_SCHEMA)
            .map_or((&[][..], 0), |s| (&s.tables[..], s.table_count));
        let listed = match (known.len(), count) {
            (0, _) => "none yet".to_owned(),
            (shown, all) if all > shown => {
                format!("{}, … and {} more", known.join(", "), all - shown)
            }
            _ => known.join(", "),
        };
        return Err(Refused(format!(
            "no table {} in schema {LESSON_SCHEMA}; its tables are: {listed}",
            unknown.join(", "),
        ))
        .into());
    }
    let mut out = super::stdout();
    for line in text::lines(&map, tables) {
        writeln!(out, "{}", line.text.trim_end())?;
    }
    out.flush()
        .context("cannot write the schema map to standard output")?;
    Ok(())
}
