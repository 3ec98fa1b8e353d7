//! The generated rows themselves, and PostgreSQL's binary `COPY` format to stream them in.
//! Rows are computed from their id alone, so the data is the same whichever connection
//! writes which chunk.

use sqlx::postgres::PgConnection;

use super::{Added, ROWS_PER_CHUNK, SeedSize};
use crate::db::Error;

/// What one run writes: id ranges, and the tenants users are spread over.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub first_user: i64,
    pub first_post: i64,
    pub size: SeedSize,
    pub tenants: Vec<i64>,
}

/// Writes chunk number `chunk`: [`Plan::users_per_chunk`] users and their posts.
pub(super) async fn write_chunk(
    conn: &mut PgConnection,
    plan: &Plan,
    chunk: i64,
) -> Result<Added, Error> {
    let per_chunk = plan.users_per_chunk();
    let first = plan.first_user + chunk * per_chunk;
    let last = (first + per_chunk - 1).min(plan.first_user + plan.size.users - 1);
    let mut rows = BinaryRows::with_capacity((last - first + 1) as usize * 96);
    for id in first..=last {
        plan.user_row(id, &mut rows);
    }
    let users = copy(conn, COPY_USERS, rows).await?;
    let mut posts = 0;
    if plan.size.posts_per_user > 0 {
        let per_user = plan.size.posts_per_user as usize;
        let mut rows = BinaryRows::with_capacity((last - first + 1) as usize * per_user * 110);
        for id in first..=last {
            plan.post_rows(id, &mut rows);
        }
        posts = copy(conn, COPY_POSTS, rows).await?;
    }
    Ok(Added { users, posts })
}

/// Streams rows through `COPY … FROM STDIN (format binary)`: the server's bulk path writes a
/// page of rows at a time, and binary values need no parsing.
async fn copy(conn: &mut PgConnection, statement: &str, rows: BinaryRows) -> Result<i64, Error> {
    let mut sink = conn
        .copy_in_raw(statement)
        .await
        .map_err(Error::sql("cannot start a bulk load"))?;
    for piece in rows.finish().chunks(1 << 20) {
        sink.send(piece)
            .await
            .map_err(Error::sql("cannot stream generated rows"))?;
    }
    let written = sink
        .finish()
        .await
        .map_err(Error::sql("cannot finish a bulk load"))?;
    Ok(written as i64)
}

const COPY_USERS: &str = "copy users (id, organization_id, username, email, created_at, updated_at) \
                          from stdin (format binary)";
const COPY_POSTS: &str = "copy posts (id, organization_id, author_id, title, body, created_at, \
                          updated_at) from stdin (format binary)";

/// Generated rows start at 2026-01-01 00:00 UTC and spread over the year minute by minute.
const MINUTES_IN_2026: i64 = 525_600;
/// 2026-01-01 00:00 UTC in PostgreSQL's binary timestamp unit: µs since 2000-01-01.
const START_OF_2026_PG_MICROS: i64 = 820_454_400 * 1_000_000;

impl Plan {
    /// Users per chunk, so that a chunk holds about [`ROWS_PER_CHUNK`] rows, posts included.
    pub(super) fn users_per_chunk(&self) -> i64 {
        (ROWS_PER_CHUNK / (1 + self.size.posts_per_user)).max(1)
    }

    /// Users go round-robin over the tenants, so a tenant's users are spread over the table
    /// (as they are in a real product) rather than stored side by side.
    fn tenant_of(&self, user: i64) -> i64 {
        self.tenants[(user as usize) % self.tenants.len()]
    }

    /// Sign-up time of `user`, in µs since 2000: minute `user mod year` of 2026.
    fn signed_up(user: i64) -> i64 {
        START_OF_2026_PG_MICROS + user % MINUTES_IN_2026 * 60_000_000
    }

    /// User `id`: `user<id>`, its tenant, its sign-up time.
    fn user_row(&self, id: i64, out: &mut BinaryRows) {
        let signed_up = Self::signed_up(id);
        out.row(6);
        out.int8(id);
        out.int8(self.tenant_of(id));
        out.text(format_args!("user{id}"));
        out.text(format_args!("user{id}@generated.test"));
        out.int8(signed_up);
        out.int8(signed_up);
    }

    /// The posts of user `id`, an hour apart after the sign-up, in the author's tenant.
    fn post_rows(&self, id: i64, out: &mut BinaryRows) {
        let tenant = self.tenant_of(id);
        let per_user = self.size.posts_per_user;
        let first_post = self.first_post + (id - self.first_user) * per_user;
        for n in 1..=per_user {
            let written = Self::signed_up(id) + n * 3_600_000_000;
            out.row(7);
            out.int8(first_post + n - 1);
            out.int8(tenant);
            out.int8(id);
            out.text(format_args!("Post {n} by user{id}"));
            out.text(format_args!("Generated post number {n}."));
            out.int8(written);
            out.int8(written);
        }
    }
}

/// PostgreSQL's binary COPY format: a signature, then per row a field count and per field a
/// length and the value in network byte order (`bigint` and `timestamptz` are 8 bytes).
struct BinaryRows(Vec<u8>);

impl BinaryRows {
    fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes + 32);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0_i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0_i32.to_be_bytes()); // header extension length
        Self(buf)
    }

    fn row(&mut self, fields: i16) {
        self.0.extend_from_slice(&fields.to_be_bytes());
    }

    fn int8(&mut self, value: i64) {
        self.0.extend_from_slice(&8_i32.to_be_bytes());
        self.0.extend_from_slice(&value.to_be_bytes());
    }

    /// Writes the length after the text, which is formatted straight into the buffer.
    fn text(&mut self, value: std::fmt::Arguments<'_>) {
        use std::io::Write;
        let at = self.0.len();
        self.0.extend_from_slice(&[0; 4]);
        let _ = self.0.write_fmt(value);
        let len = (self.0.len() - at - 4) as i32;
        self.0[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    fn finish(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&(-1_i16).to_be_bytes()); // end of data
        self.0
    }
}
