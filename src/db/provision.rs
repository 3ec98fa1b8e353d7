//! Bringing a server to the state the lessons expect: roles, the template database, the lab
//! database, the current schema, and the story seed; and resetting back to it.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use super::credentials::Credentials;
use super::lab::connect;
use super::{
    AUDIT_SCHEMA, BOOKKEEPING_SCHEMA, Error, LAB_DATABASE, LEARNER_ROLE, LEARNER_STATEMENT_TIMEOUT,
    LESSON_SCHEMA, Lab, OWNER_ROLE, STORY_SEED, Source, TEMPLATE_DATABASE, migrator, seed,
    stable_hash,
};

/// The comment migration 0003 puts on the `audit` schema, by which pglab knows it as its own.
const AUDIT_SCHEMA_MARK: &str = "pglab audit log";

/// Advisory-lock key serialising provisioning on one server ("pglab" in ASCII).
const PROVISION_LOCK: i64 = 0x70_67_6c_61_62;

/// What the caller will do with the lab database once it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Work in it: bring it up to date first.
    Use,
    /// Replace it with a fresh copy: whatever state it is in does not matter.
    Reset,
}

/// Roles, template and lab database on the private cluster. Cheap when all exist already.
/// Returns warnings that should not stop the lab (see [`finish_interrupted_load`]).
pub(super) async fn prepare_private(
    lab: &Lab,
    credentials: &Credentials,
    purpose: Purpose,
) -> Result<Vec<String>, Error> {
    let Some(superuser) = &lab.superuser else {
        return Ok(Vec::new());
    };
    let mut admin = connect(superuser).await?;
    // Two labs opening the same cluster at once take turns; closing the connection unlocks.
    sqlx::query("select pg_advisory_lock($1)")
        .bind(PROVISION_LOCK)
        .execute(&mut admin)
        .await
        .map_err(Error::sql("cannot take the provisioning lock"))?;
    ensure_roles(&mut admin, credentials).await?;
    let roles = LabRoles {
        owner: OWNER_ROLE,
        learner: LEARNER_ROLE,
    };
    let builder = lab.owner_for(TEMPLATE_DATABASE);
    ensure_template(&mut admin, TEMPLATE_DATABASE, &builder, Some(roles)).await?;
    if !database_exists(&mut admin, LAB_DATABASE).await? {
        replace_database(
            &mut admin,
            TEMPLATE_DATABASE,
            LAB_DATABASE,
            Some(OWNER_ROLE),
        )
        .await?;
        return Ok(Vec::new());
    }
    if purpose == Purpose::Reset {
        return Ok(Vec::new());
    }
    // An existing lab database keeps the learner's work; it only gains new migrations.
    let mut owner = connect(&lab.owner).await?;
    refuse_foreign_audit_schema(&mut owner).await?;
    migrate(&mut owner).await?;
    hand_lesson_objects_to(&mut owner, LEARNER_ROLE).await?;
    let_read_audit_log(&mut owner, LEARNER_ROLE).await?;
    Ok(finish_interrupted_load(&mut owner).await)
}

/// On a server named by `DATABASE_URL`: the lab's schemas in that database, migrated, and
/// seeded the first time.
pub(super) async fn prepare_external(
    conn: &mut PgConnection,
    purpose: Purpose,
) -> Result<Vec<String>, Error> {
    let (is_fresh, has_lesson_schema): (bool, bool) = sqlx::query_as(
        "select to_regclass('pglab._sqlx_migrations') is null,
                exists (select 1 from pg_namespace where nspname = $1)",
    )
    .bind(LESSON_SCHEMA)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::sql("cannot inspect the database"))?;
    refuse_foreign_audit_schema(conn).await?;
    if is_fresh {
        if has_lesson_schema {
            // Never take over (and later reset away) a schema pglab did not create.
            return Err(Error::Refused(format!(
                "this database already has a schema named `{LESSON_SCHEMA}` that pglab did not \
                 create; point DATABASE_URL at another database (or drop that schema)"
            )));
        }
        let mut tx = conn.begin().await.map_err(Error::sql("cannot begin"))?;
        build(&mut tx).await?;
        tx.commit()
            .await
            .map_err(Error::sql("cannot commit the lab schema"))?;
        return Ok(Vec::new());
    }
    if purpose == Purpose::Reset {
        return Ok(Vec::new());
    }
    migrate(conn).await?;
    Ok(finish_interrupted_load(conn).await)
}

/// Returns the lab database to its seeded state (`db::reset` also drops what the
/// customer-database demo left). The learner's progress lives in files and is not touched.
/// Open the lab with [`Purpose::Reset`] first.
pub async fn reset_database(lab: &Lab) -> Result<(), Error> {
    match (&lab.source, &lab.superuser) {
        (Source::Private { .. }, Some(superuser)) => {
            let mut admin = connect(superuser).await?;
            replace_database(
                &mut admin,
                TEMPLATE_DATABASE,
                LAB_DATABASE,
                Some(OWNER_ROLE),
            )
            .await
        }
        _ => {
            let mut conn = connect(&lab.owner).await?;
            // No template on someone else's server: rebuild the lab's schemas in place, in
            // one transaction, so a failure leaves the old state.
            refuse_foreign_audit_schema(&mut conn).await?;
            let mut tx = conn.begin().await.map_err(Error::sql("cannot begin"))?;
            sqlx::raw_sql(AssertSqlSafe(format!(
                "drop schema if exists {LESSON_SCHEMA} cascade; \
                 drop schema if exists {AUDIT_SCHEMA} cascade; \
                 drop schema if exists {BOOKKEEPING_SCHEMA} cascade;"
            )))
            .execute(&mut *tx)
            .await
            .map_err(Error::sql("cannot drop the lab schemas"))?;
            build(&mut tx).await?;
            tx.commit()
                .await
                .map_err(Error::sql("cannot commit the reset"))
        }
    }
}

/// Creates the lesson schema, applies every migration and loads the story seed.
pub(crate) async fn build(conn: &mut PgConnection) -> Result<(), Error> {
    sqlx::raw_sql(AssertSqlSafe(format!(
        "create schema if not exists {LESSON_SCHEMA}"
    )))
    .execute(&mut *conn)
    .await
    .map_err(Error::sql("cannot create the lab schema"))?;
    migrate(conn).await?;
    sqlx::raw_sql(STORY_SEED)
        .execute(&mut *conn)
        .await
        .map_err(Error::sql("cannot load the story seed"))?;
    Ok(())
}

async fn migrate(conn: &mut PgConnection) -> Result<(), Error> {
    migrator().run(&mut *conn).await.map_err(Error::Migrate)
}

/// Finishes a bulk load that was interrupted (its indexes and keys wait in
/// `pglab.deferred_ddl`). A failure here must not lock the learner out of the lab (or out
/// of the reset that repairs it), so it becomes a warning.
async fn finish_interrupted_load(conn: &mut PgConnection) -> Vec<String> {
    match seed::finish_interrupted_load(conn).await {
        Ok(()) => Vec::new(),
        Err(e) => vec![e.to_string()],
    }
}

/// Identifies the schema and seed this binary builds; a template built by another version
/// of pglab is rebuilt.
pub(crate) fn template_version() -> String {
    let migrator = migrator();
    let parts = migrator
        .iter()
        .map(|m| m.checksum.as_ref())
        .chain([STORY_SEED.as_bytes()]);
    format!("pglab template {:016x}", stable_hash(parts))
}

async fn ensure_roles(admin: &mut PgConnection, credentials: &Credentials) -> Result<(), Error> {
    let (existing,): (i64,) =
        sqlx::query_as("select count(*) from pg_roles where rolname = any($1)")
            .bind([OWNER_ROLE, LEARNER_ROLE])
            .fetch_one(&mut *admin)
            .await
            .map_err(Error::sql("cannot list roles"))?;
    if existing == 2 {
        return Ok(());
    }
    // Role statements take no bind parameters; the server quotes every value with format().
    let statements: Vec<(String,)> = sqlx::query_as(
        "select format('create role %I login createdb password %L', $1::text, $2::text)
         union all select format('create role %I login password %L', $3::text, $4::text)
         union all select format('grant %I to %I', $3::text, $1::text)
         union all select format('alter role %I set statement_timeout = %L', $3::text, $5::text)
         union all select format('alter role %I set search_path = %I, public', $3::text, $6::text)
         union all select format('alter role %I set search_path = %I, public', $1::text, $6::text)",
    )
    .bind(OWNER_ROLE)
    .bind(&credentials.owner)
    .bind(LEARNER_ROLE)
    .bind(&credentials.learner)
    .bind(LEARNER_STATEMENT_TIMEOUT)
    .bind(LESSON_SCHEMA)
    .fetch_all(&mut *admin)
    .await
    .map_err(Error::sql("cannot prepare the role statements"))?;
    let mut tx = admin.begin().await.map_err(Error::sql("cannot begin"))?;
    run_all(&mut tx, statements, "cannot create the lab roles").await?;
    tx.commit()
        .await
        .map_err(Error::sql("cannot create the lab roles"))
}

/// The roles of a private cluster; `None` on servers where pglab uses one given role.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LabRoles<'a> {
    pub owner: &'a str,
    pub learner: &'a str,
}

/// Builds `template` unless it already holds this version's schema and seed. `builder`
/// connects to the template as the role that should own its objects.
pub(crate) async fn ensure_template(
    admin: &mut PgConnection,
    template: &str,
    builder: &PgConnectOptions,
    roles: Option<LabRoles<'_>>,
) -> Result<(), Error> {
    let version = template_version();
    // Test processes sharing a server build a template once; the others wait here, then
    // find it current. The lock ends with `admin`'s session.
    sqlx::query("select pg_advisory_lock(hashtext($1))")
        .bind(template)
        .execute(&mut *admin)
        .await
        .map_err(Error::sql("cannot lock the template"))?;
    let current: Option<(Option<String>,)> = sqlx::query_as(
        "select shobj_description(oid, 'pg_database') from pg_database where datname = $1",
    )
    .bind(template)
    .fetch_optional(&mut *admin)
    .await
    .map_err(Error::sql("cannot inspect the template database"))?;
    if matches!(&current, Some((Some(v),)) if *v == version) {
        return Ok(());
    }
    let owner = roles.map(|r| r.owner);
    let learner = roles.map(|r| r.learner);
    // A template cannot be dropped until it is an ordinary database again.
    let statements: Vec<(String,)> = sqlx::query_as(
        "select format('alter database %I is_template false', $1::text)
          where exists (select 1 from pg_database where datname = $1)
         union all
         select format('drop database if exists %I with (force)', $1::text)
         union all
         select format('create database %I', $1::text)
                || case when $2::text is null then '' else format(' owner %I', $2::text) end",
    )
    .bind(template)
    .bind(owner)
    .fetch_all(&mut *admin)
    .await
    .map_err(Error::sql("cannot prepare the template database"))?;
    run_all(admin, statements, "cannot create the template database").await?;

    let mut conn = connect(builder).await?;
    let (create_schema,): (String,) = sqlx::query_as(
        "select format('create schema %I', $1::text)
                || case when $2::text is null then ''
                        else format(' authorization %I', $2::text) end",
    )
    .bind(LESSON_SCHEMA)
    .bind(learner)
    .fetch_one(&mut conn)
    .await
    .map_err(Error::sql("cannot prepare the lab schema"))?;
    run_all(
        &mut conn,
        vec![(create_schema,)],
        "cannot create the lab schema",
    )
    .await?;
    build(&mut conn).await?;
    if let Some(learner) = learner {
        hand_lesson_objects_to(&mut conn, learner).await?;
        let_read_audit_log(&mut conn, learner).await?;
    }
    // Nothing may stay connected to a template while it is cloned.
    conn.close()
        .await
        .map_err(Error::sql("cannot close the template connection"))?;

    // Marked with the version it holds, and closed: nobody (the learner included) may
    // connect and change what every reset copies.
    let statements: Vec<(String,)> = sqlx::query_as(
        "select format('comment on database %I is %L', $1::text, $2::text)
         union all
         select format('alter database %I with is_template true allow_connections false',
                       $1::text)",
    )
    .bind(template)
    .bind(&version)
    .fetch_all(&mut *admin)
    .await
    .map_err(Error::sql("cannot mark the template"))?;
    run_all(admin, statements, "cannot mark the template").await
}

/// Runs statements the server composed with `format()` (utility statements such as
/// `create database` take no bind parameters).
async fn run_all(
    conn: &mut PgConnection,
    statements: Vec<(String,)>,
    what: &'static str,
) -> Result<(), Error> {
    for (statement,) in statements {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut *conn)
            .await
            .map_err(Error::sql(what))?;
    }
    Ok(())
}

/// Replaces `database` with a fresh copy of `template`. The copy is made under another
/// name first, so a failed copy leaves the old database in place; sessions still open on
/// the old one are ended.
pub(crate) async fn replace_database(
    admin: &mut PgConnection,
    template: &str,
    database: &str,
    owner: Option<&str>,
) -> Result<(), Error> {
    let statements: Vec<(String,)> = sqlx::query_as(
        "select format('drop database if exists %I with (force)', $2::text || '_next')
         union all
         select format('create database %I template %I', $2::text || '_next', $1::text)
                || case when $3::text is null then '' else format(' owner %I', $3::text) end
         union all
         select format('drop database if exists %I with (force)', $2::text)
         union all
         select format('alter database %I rename to %I', $2::text || '_next', $2::text)",
    )
    .bind(template)
    .bind(database)
    .bind(owner)
    .fetch_all(&mut *admin)
    .await
    .map_err(Error::sql("cannot prepare the copy of the template"))?;
    run_all(admin, statements, "cannot copy the template database").await
}

/// Drops a database, ending its sessions (tests clean up with this).
pub(crate) async fn drop_database(admin: &mut PgConnection, database: &str) -> Result<(), Error> {
    let statement: (String,) =
        sqlx::query_as("select format('drop database if exists %I with (force)', $1::text)")
            .bind(database)
            .fetch_one(&mut *admin)
            .await
            .map_err(Error::sql("cannot prepare the drop"))?;
    run_all(admin, vec![statement], "cannot drop the database").await
}

async fn database_exists(admin: &mut PgConnection, name: &str) -> Result<bool, Error> {
    let (exists,): (bool,) =
        sqlx::query_as("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut *admin)
            .await
            .map_err(Error::sql("cannot list databases"))?;
    Ok(exists)
}

/// Makes `role` the owner of every table, view and function in the lesson schema, so the
/// learner can index, alter and drop what the lessons create. Statements come from the
/// catalog, quoted by the server.
async fn hand_lesson_objects_to(conn: &mut PgConnection, role: &str) -> Result<(), Error> {
    let statements: Vec<(String,)> = sqlx::query_as(
        "select format('alter %s %s owner to %I',
                       case c.relkind when 'v' then 'view'
                                      when 'm' then 'materialized view'
                                      else 'table' end,
                       c.oid::regclass, $1::text)
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $2 and c.relkind in ('r', 'p', 'v', 'm')
            and pg_get_userbyid(c.relowner) <> $1
         union all
         select format('alter function %s owner to %I', p.oid::regprocedure, $1::text)
           from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = $2 and pg_get_userbyid(p.proowner) <> $1",
    )
    .bind(role)
    .bind(LESSON_SCHEMA)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::sql("cannot list the lesson objects"))?;
    run_all(
        conn,
        statements,
        "cannot hand the lesson objects to the learner",
    )
    .await
}

/// Lets `role` read the audit log and opt its own tables in (`audit.track`), and nothing
/// more: no insert, update, delete or truncate, and it owns nothing in the `audit` schema.
async fn let_read_audit_log(conn: &mut PgConnection, role: &str) -> Result<(), Error> {
    let statements: Vec<(String,)> = sqlx::query_as(
        "select format('grant usage on schema %I to %I', $2::text, $1::text)
         union all
         select format('grant select on %I.events, %I.redacted_columns to %I',
                       $2::text, $2::text, $1::text)
         union all
         select format('grant execute on function %I.capture(), %I.track(regclass), \
                        %I.untrack(regclass) to %I', $2::text, $2::text, $2::text, $1::text)",
    )
    .bind(role)
    .bind(AUDIT_SCHEMA)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::sql("cannot prepare the audit grants"))?;
    run_all(
        conn,
        statements,
        "cannot let the learner read the audit log",
    )
    .await
}

/// Refuses a server whose `audit` schema pglab did not create (it carries no
/// [`AUDIT_SCHEMA_MARK`]): pglab would fail to create its own there, and a reset would
/// drop someone else's log.
async fn refuse_foreign_audit_schema(conn: &mut PgConnection) -> Result<(), Error> {
    let (foreign,): (bool,) = sqlx::query_as(
        "select exists (select 1 from pg_namespace
                         where nspname = $1
                           and obj_description(oid, 'pg_namespace') is distinct from $2)",
    )
    .bind(AUDIT_SCHEMA)
    .bind(AUDIT_SCHEMA_MARK)
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::sql("cannot inspect the database"))?;
    if foreign {
        return Err(Error::Refused(format!(
            "this database already has a schema named `{AUDIT_SCHEMA}` that pglab did not \
             create; point DATABASE_URL at another database (or rename that schema)"
        )));
    }
    Ok(())
}
