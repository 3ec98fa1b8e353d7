//! `foreign_keys.one_to_many` and `foreign_keys.many_to_many`: the two shapes of
//! relationship a foreign key draws.
//!
//! One-to-many, both ways, for the user the lab acts as: the user's organization and the
//! organization's users, each read the way a lazy ORM relationship reads it (the parent
//! row, then a second query) and as one join. Every statement runs once before it is
//! measured: a statement's first use on a connection also prepares it, a round trip an
//! application with a warm connection does not pay on every request.
//!
//! Many-to-many: tags on posts need a table of their own between the two, `post_tags`, whose
//! two foreign keys together make its primary key. It is created in a transaction that is
//! rolled back, with Acme's tags.

use super::*;
use crate::demo::requests::Told;
use crate::demo::{exec, refusal, refusal_lines, say, sql};
use sqlx::Row;

const ONE: &str = "foreign_keys.one_to_many";

const FOREIGN_KEYS: &str = "select c.conrelid::regclass::text || '.' || a.attname,
        c.confrelid::regclass::text,
        case c.confdeltype when 'c' then 'cascade' when 'r' then 'restrict'
             when 'n' then 'set null' when 'd' then 'set default' else 'no action' end
   from pg_constraint c
   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
  where c.contype = 'f' and c.conrelid in ('users'::regclass, 'posts'::regclass)
  order by c.conrelid::regclass::text desc, c.conname";

const USER_BY_ID: &str = "select organization_id from users where id = $1 and deleted_at is null";
const ORGANIZATION_BY_ID: &str = "select name from organizations where id = $1";
const USERS_OF: &str = "select username from users
     where organization_id = $1 and deleted_at is null order by id";
const USER_WITH_ORGANIZATION: &str = "select o.id, o.name from users u
      join organizations o on o.id = u.organization_id
     where u.id = $1 and u.deleted_at is null";
const ORGANIZATION_WITH_USERS: &str = "select o.name, u.username from organizations o
      join users u on u.organization_id = o.id
     where o.id = $1 and u.deleted_at is null
     order by u.id";

/// One way of reading one direction of the key: what it is, the statements it sends, and
/// the code that sends them.
#[derive(Clone, Copy)]
struct Way {
    what: &'static str,
    statements: &'static [&'static str],
    reads: Reads,
}

#[derive(Clone, Copy)]
enum Reads {
    OrganizationLazily,
    OrganizationJoined,
    UsersLazily,
    UsersJoined,
}

const WAYS: [Way; 4] = [
    Way {
        what: "the user's organization, lazily (user.organization)",
        statements: &[USER_BY_ID, ORGANIZATION_BY_ID],
        reads: Reads::OrganizationLazily,
    },
    Way {
        what: "the same, joined",
        statements: &[USER_WITH_ORGANIZATION],
        reads: Reads::OrganizationJoined,
    },
    Way {
        what: "the organization's users, lazily (organization.users)",
        statements: &[ORGANIZATION_BY_ID, USERS_OF],
        reads: Reads::UsersLazily,
    },
    Way {
        what: "the same, joined",
        statements: &[ORGANIZATION_WITH_USERS],
        reads: Reads::UsersJoined,
    },
];

impl Way {
    /// Reads this way, for user `user` of organization `org`: the answer, as text.
    async fn read(&self, conn: &mut PgConnection, user: i64, org: i64) -> sqlx::Result<String> {
        match self.reads {
            Reads::OrganizationLazily => lazy_organization(conn, user).await,
            Reads::OrganizationJoined => joined_organization(conn, user).await,
            Reads::UsersLazily => lazy_users(conn, org).await,
            Reads::UsersJoined => joined_users(conn, org).await,
        }
    }
}

/// The user's organization, lazily: the user row, then the organization it points at.
async fn lazy_organization(conn: &mut PgConnection, user_id: i64) -> sqlx::Result<String> {
    let org: i64 = sqlx::query_scalar(USER_BY_ID)
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
    let name: String = sqlx::query_scalar(ORGANIZATION_BY_ID)
        .bind(org)
        .fetch_one(conn)
        .await?;
    Ok(format!("{name} (organization {org})"))
}

async fn joined_organization(conn: &mut PgConnection, user_id: i64) -> sqlx::Result<String> {
    let (org, name): (i64, String) = sqlx::query_as(USER_WITH_ORGANIZATION)
        .bind(user_id)
        .fetch_one(conn)
        .await?;
    Ok(format!("{name} (organization {org})"))
}

/// The organization's users, lazily: the organization row, then the users pointing at it.
async fn lazy_users(conn: &mut PgConnection, org: i64) -> sqlx::Result<String> {
    let name: String = sqlx::query_scalar(ORGANIZATION_BY_ID)
        .bind(org)
        .fetch_one(&mut *conn)
        .await?;
    let users: Vec<String> = sqlx::query_scalar(USERS_OF)
        .bind(org)
        .fetch_all(conn)
        .await?;
    Ok(format!("{name}: {}", users.join(", ")))
}

async fn joined_users(conn: &mut PgConnection, org: i64) -> sqlx::Result<String> {
    let rows: Vec<(String, String)> = sqlx::query_as(ORGANIZATION_WITH_USERS)
        .bind(org)
        .fetch_all(conn)
        .await?;
    let name = rows
        .first()
        .map(|(name, _)| name.clone())
        .unwrap_or_default();
    let users: Vec<&str> = rows.iter().map(|(_, user)| user.as_str()).collect();
    Ok(format!("{name}: {}", users.join(", ")))
}

pub(super) async fn one_to_many(
    lab: &mut RequestRun,
    current: &Current,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    let (keys, _) = lab
        .step("the foreign keys", async |conn| {
            sqlx::query(FOREIGN_KEYS).fetch_all(conn).await
        })
        .await;
    let keys = keys.map_err(sql(ONE, "reading the foreign keys"))?;
    let mut lines = vec!["the foreign keys of users and posts, from the catalog:".to_string()];
    for key in keys {
        let column: String = key.get(0);
        let parent: String = key.get(1);
        let on_delete: String = key.get(2);
        let parent = format!("{parent} (id)");
        lines.push(format!(
            "  {column:<22} → {parent:<19} on delete {on_delete}"
        ));
    }
    lines.push(String::new());
    let user = current.user_id;
    // The organization comes from the user's row: the handlers below are the ones a
    // profile page and a team page call.
    let (org, _) = lab
        .step("the user's organization id", async |conn| {
            sqlx::query_scalar::<_, i64>(USER_BY_ID)
                .bind(user)
                .fetch_one(conn)
                .await
        })
        .await;
    let org = org.map_err(sql(ONE, "reading the user's organization"))?;
    let mut reads = Vec::new();
    for measured in [false, true] {
        say(
            progress,
            match measured {
                false => "preparing each statement once",
                true => "reading both ways, lazily and joined",
            },
        );
        reads.clear();
        for way in WAYS {
            let (answer, round_trips) = lab
                .step(way.what, async |conn| way.read(conn, user, org).await)
                .await;
            let answer = answer.map_err(sql(ONE, "reading a relationship"))?;
            reads.push((way, answer, round_trips));
        }
    }
    lines.push(format!(
        "As {} (user {user}), on a warm connection:",
        current.username
    ));
    for (way, answer, round_trips) in &reads {
        lines.push(format!(
            "{}, {}:",
            way.what,
            crate::text::plural(*round_trips, "round trip", "round trips")
        ));
        for statement in way.statements {
            lines.extend(shown(statement));
        }
        lines.push(format!("  → {answer}"));
    }
    lines.push(String::new());
    lines.push(
        "One foreign key, users.organization_id, serves both directions: the user's row \
         holds the organization's id, and the organization's users are the rows holding \
         it. An ORM's two relationship attributes are two ways of querying that one column."
            .to_string(),
    );
    let trips = |n: usize| reads.get(n).map_or(0, |(_, _, trips)| *trips);
    let each = match trips(0) == trips(2) && trips(1) == trips(3) {
        true => format!(
            "lazily {} each, joined {}",
            crate::text::plural(trips(0), "round trip", "round trips"),
            trips(1)
        ),
        false => "lazily and joined".to_string(),
    };
    Ok((
        format!("{}'s organization and its users: {each}", current.username),
        lines,
    ))
}

const MANY: &str = "foreign_keys.many_to_many";

const TAGS: &str = "create table tags (
    id bigint generated always as identity primary key,
    organization_id bigint not null
        references organizations (id) on delete cascade,
    name text not null,
    unique (organization_id, name));
create table post_tags (
    post_id bigint references posts (id) on delete cascade,
    tag_id bigint references tags (id) on delete cascade,
    primary key (post_id, tag_id));";

const TAGGED: &str = "insert into tags (organization_id, name)
  values (1, 'company'), (1, 'engineering'), (1, 'incidents');
insert into post_tags (post_id, tag_id)
  select p.id, t.id from (values (1, 'company'), (2, 'engineering'), (2, 'incidents'),
      (4, 'company'), (4, 'engineering'), (8, 'engineering'), (8, 'incidents')) v(post, tag)
  join posts p on p.id = v.post and p.organization_id = 1 and p.deleted_at is null
  join tags t on t.organization_id = 1 and t.name = v.tag;";

const POSTS_TAGGED: &str = "select p.id, p.title from posts p
  join post_tags pt on pt.post_id = p.id
  join tags t on t.id = pt.tag_id
 where t.organization_id = 1 and t.name = 'engineering'
   and p.organization_id = 1 and p.deleted_at is null
 order by p.id";

const TAGS_OF_POST: &str = "select t.name from tags t
  join post_tags pt on pt.tag_id = t.id
 where pt.post_id = 8 order by t.name";

const TAG_TWICE: &str = "insert into post_tags (post_id, tag_id)
  select 8, id from tags where organization_id = 1 and name = 'engineering'";
const TAG_NO_POST: &str = "insert into post_tags (post_id, tag_id)
  select 999, id from tags where organization_id = 1 and name = 'engineering'";

pub(super) async fn many_to_many(
    lab: &mut RequestRun,
    progress: &mpsc::UnboundedSender<DemoProgress>,
) -> Result<Told, Error> {
    say(
        progress,
        "creating tags and post_tags, tagging Acme's posts",
    );
    let (made, _) = lab
        .step("tags", async |conn| {
            exec(conn, MANY, "opening its transaction", "begin").await?;
            exec(conn, MANY, "creating the tag tables", TAGS).await?;
            exec(conn, MANY, "tagging posts", TAGGED).await
        })
        .await;
    made?;
    let mut lines = vec!["a post has many tags, a tag has many posts: a table between".into()];
    lines.extend(TAGS.lines().map(|l| format!("  {l}")));
    lines.push(String::new());
    let (read, _) = lab
        .step("both ways", async |conn| {
            let posts: Vec<(i64, String)> =
                sqlx::query_as(POSTS_TAGGED).fetch_all(&mut *conn).await?;
            let tags: Vec<String> = sqlx::query_scalar(TAGS_OF_POST).fetch_all(conn).await?;
            Ok::<_, sqlx::Error>((posts, tags))
        })
        .await;
    let (posts, tags) = read.map_err(sql(MANY, "reading through the join table"))?;
    lines.push("Acme's posts tagged engineering (tag → post_tags → posts):".into());
    lines.extend(shown(POSTS_TAGGED));
    for (id, title) in &posts {
        lines.push(format!("  → #{id:<3} {title}"));
    }
    lines.push("post 8's tags (post → post_tags → tags):".into());
    lines.extend(shown(TAGS_OF_POST));
    lines.push(format!("  → {}", tags.join(", ")));
    lines.push(String::new());
    for (what, statement) in [
        ("the same tag on post 8 again", TAG_TWICE),
        ("a tag on post 999, which does not exist", TAG_NO_POST),
    ] {
        let (ran, _) = lab
            .step(what, async |conn| {
                exec(conn, MANY, "setting a savepoint", "savepoint tag").await?;
                let ran = sqlx::query(statement).execute(&mut *conn).await;
                let refused = refusal(MANY, "tagging", ran)?;
                exec(conn, MANY, "undoing it", "rollback to savepoint tag").await?;
                Ok::<_, Error>(refused)
            })
            .await;
        lines.push(format!("{what}:"));
        match ran? {
            Some(failure) => lines.extend(refusal_lines(&failure)),
            None => lines.push("  accepted (!)".into()),
        }
    }
    let (ended, _) = lab
        .step("rollback", async |conn| {
            exec(conn, MANY, "rolling back", "rollback").await
        })
        .await;
    ended?;
    lines.push(String::new());
    lines.push(
        "The join table's primary key is the pair of foreign keys: the same tag twice on \
         one post is a duplicate key, and a link to a post that does not exist is an \
         orphan. Deleting a post or a tag cascades to its links only. Rolled back: tags and \
         post_tags are gone."
            .to_string(),
    );
    Ok((
        format!(
            "Tags through a join table: {} tagged engineering, post 8 has {}",
            crate::text::plural(posts.len(), "post", "posts"),
            crate::text::plural(tags.len(), "tag", "tags")
        ),
        lines,
    ))
}
