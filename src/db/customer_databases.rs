//! The tenancy lesson's "one database per customer": clones of the lab's seeded template,
//! named `pglab_customer_<lab database>_<n>`, which the demo `tenancy.databases` creates,
//! measures and drops. Here: which role may create them and from which template
//! ([`Creator`]), and dropping a lab's whole family of them, which the demo does at the end,
//! when it is stopped, and at its next start, and which `pglab db reset` does too (a lab
//! killed half-way leaves them behind).
//!
//! Only the lab's own template is cloned, and a privileged role runs nothing but `CREATE` and
//! `DROP DATABASE` and two reads of `pg_database`: the learner's objects inside the clones are
//! changed by the learner. The owner's session is connected to the lab database, whose
//! `lab` schema the learner owns, so it runs with `search_path = pg_catalog` (a learner's
//! `lab.format` or `lab.starts_with` would otherwise be a better match than the built-in
//! one), names the catalog's functions in full, and quotes the names itself.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use super::cluster::Cluster;
use super::credentials::Credentials;
use super::provision::ensure_template;
use super::scratch::external_template;
use super::{Error, Lab, OWNER_ROLE, TEMPLATE_DATABASE, connect};

/// What every customer database's name starts with.
pub const PREFIX: &str = "pglab_customer_";

/// PostgreSQL cuts names at 63 bytes: a family longer than this leaves no room for the
/// customer's number.
const MAX_FAMILY: usize = 63 - 2;

/// The name prefix of the customer databases of the lab database `lab_database`, followed
/// by exactly two digits in each of them: one lab's demo never drops another lab's (tests
/// share a server, and `pglab` is a prefix of `pglab_test`). `None` when the lab database's
/// name is too long for its customers' names to fit.
pub fn family(lab_database: &str) -> Option<String> {
    let family = format!("{PREFIX}{lab_database}_");
    (family.len() <= MAX_FAMILY).then_some(family)
}

/// Matches the databases of the family bound as `$1`: the prefix, then two digits.
const OF_FAMILY: &str = "pg_catalog.starts_with(datname, $1) \
     and pg_catalog.length(datname) = pg_catalog.length($1) + 2 \
     and pg_catalog.substr(datname, pg_catalog.length($1) + 1) OPERATOR(pg_catalog.~) '^[0-9]{2}$'";

/// Who creates the customer databases, and from which template.
#[derive(Debug, Clone)]
pub struct Creator {
    /// The role and password to connect as; `None`: the learner's own (the role of a
    /// `DATABASE_URL`, which is allowed to create databases).
    role: Option<(String, String)>,
    pub template: String,
}

impl Creator {
    /// On the private cluster: the owner role (it may create databases) and the lab's
    /// template. On a `DATABASE_URL` server: its role, if it may create databases, and a
    /// template pglab builds there once per schema version (as `lessons check` does);
    /// `Ok(Err(why))` when it may not.
    pub async fn find(
        learner: &PgConnectOptions,
        cluster: Option<&Cluster>,
    ) -> Result<Result<Self, String>, Error> {
        if let Some(cluster) = cluster {
            let credentials = Credentials::load(&cluster.layout.credentials())?;
            return Ok(Ok(Self {
                role: Some((OWNER_ROLE.to_string(), credentials.owner)),
                template: TEMPLATE_DATABASE.to_string(),
            }));
        }
        let mut conn = connect(learner).await?;
        let (role, allowed): (String, bool) = sqlx::query_as(
            "select current_user::text, rolcreatedb or rolsuper
               from pg_roles where rolname = current_user",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(Error::sql("cannot read the role's rights"))?;
        if !allowed {
            return Ok(Err(format!(
                "this lab runs on the server named by DATABASE_URL, and its role {role} may \
                 not create databases (it lacks CREATEDB), so there is no database per \
                 customer to create here. Run pglab without DATABASE_URL (its private \
                 server), or use a role with CREATEDB"
            )));
        }
        let _ = conn.close().await;
        let template = external_template();
        let (admin, builder) = (learner.clone(), learner.clone().database(&template));
        let name = template.clone();
        // The template builder's future is not `Send` for every lifetime of the names it
        // binds, and a demo runs on a spawned task: build it on a runtime of its own.
        tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Unavailable(format!("cannot start a runtime: {e}")))?;
            runtime.block_on(async {
                let mut admin = connect(&admin).await?;
                ensure_template(&mut admin, &name, &builder, None).await
            })
        })
        .await
        .map_err(|e| Error::Unavailable(format!("building the template stopped: {e}")))??;
        Ok(Ok(Self {
            role: None,
            template,
        }))
    }

    /// `options` (the learner's, or a proxy's in front of them) as the creating role; as the
    /// owner, with nothing but the catalog on its search path (see the module doc).
    pub fn options(&self, options: PgConnectOptions) -> PgConnectOptions {
        match &self.role {
            Some((role, password)) => options
                .username(role)
                .password(password)
                .options([("search_path", "pg_catalog")]),
            None => options,
        }
    }
}

/// Drops every database whose name starts with `family` that the connected role may drop;
/// returns how many there were.
pub async fn drop_family(admin: &mut PgConnection, family: &str) -> Result<usize, Error> {
    let names: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "select datname::text from pg_catalog.pg_database
          where {OF_FAMILY} and pg_catalog.pg_has_role(datdba, 'member')"
    )))
    .bind(family.to_string())
    .fetch_all(&mut *admin)
    .await
    .map_err(Error::sql("cannot list the customer databases"))?;
    let count = names.len();
    // Owned statements: a borrowed one held across the await makes the future not `Send`.
    for name in names {
        let statement = format!(
            "drop database if exists {} with (force)",
            super::quote_ident(&name)
        );
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut *admin)
            .await
            .map_err(Error::sql("cannot drop a customer database"))?;
    }
    Ok(count)
}

/// How many databases of `family` exist.
pub async fn count_family(admin: &mut PgConnection, family: &str) -> Result<i64, Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "select pg_catalog.count(*) from pg_catalog.pg_database where {OF_FAMILY}"
    )))
    .bind(family.to_string())
    .fetch_one(admin)
    .await
    .map_err(Error::sql("cannot count the customer databases"))
}

/// Drops the customer databases the demo made for `lab`'s database: a run killed half-way
/// leaves them behind, and `pglab db reset` removes them. As the superuser on the private
/// cluster, as the lab's role on a `DATABASE_URL` server (it drops only what it owns).
pub async fn drop_left_over(lab: &Lab) -> Result<(), Error> {
    let options = lab.superuser.as_ref().unwrap_or(&lab.owner);
    let database = lab.owner.get_database().unwrap_or_default().to_string();
    let Some(family) = family(&database) else {
        // Too long a name to have any.
        return Ok(());
    };
    let mut conn = connect(options).await?;
    drop_family(&mut conn, &family).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_is_the_prefix_and_its_lab_database() {
        assert_eq!(family("pglab").as_deref(), Some("pglab_customer_pglab_"));
        assert!(family("x").is_some_and(|f| f.starts_with(PREFIX)));
        // Room for two digits within PostgreSQL's 63 bytes, or no family at all.
        assert!(family(&"a".repeat(30)).is_some());
        assert_eq!(family(&"a".repeat(60)), None);
    }
}
