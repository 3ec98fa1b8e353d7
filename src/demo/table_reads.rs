//! How a transaction has read one table so far, from its own statistics
//! (`pg_stat_xact_user_tables`, which count inside rolled-back savepoints too): the foreign-key
//! demos read it before and after a delete to show whether the check scanned the referencing
//! table or used an index.

use sqlx::PgConnection;

use crate::text::{group, plural};

/// Scans of one table by the current transaction.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Reads {
    pub seq_scan: i64,
    pub seq_tup_read: i64,
    pub idx_scan: i64,
}

impl Reads {
    /// The transaction's reads of `table` so far.
    pub async fn of(conn: &mut PgConnection, table: &str) -> Result<Self, sqlx::Error> {
        sqlx::query_as(
            "select seq_scan, seq_tup_read, coalesce(idx_scan, 0) as idx_scan
               from pg_stat_xact_user_tables
              where relid = $1::regclass",
        )
        .bind(table)
        .fetch_one(conn)
        .await
    }

    /// What was read between `before` and `self`.
    pub fn since(self, before: Self) -> Self {
        Self {
            seq_scan: self.seq_scan - before.seq_scan,
            seq_tup_read: self.seq_tup_read - before.seq_tup_read,
            idx_scan: self.idx_scan - before.idx_scan,
        }
    }
}

/// "20 (4,000,000 rows)": `count` scans, with the rows they read when there were any.
pub fn scans(count: i64, rows: Option<i64>) -> String {
    match rows {
        Some(rows) if count > 0 => format!(
            "{} ({})",
            group(count as f64),
            plural(rows as f64, "row", "rows")
        ),
        _ => group(count as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_read_as_words() {
        assert_eq!(scans(20, Some(4_000_000)), "20 (4,000,000 rows)");
        assert_eq!(scans(0, Some(0)), "0");
    }
}
