//! The tenancy lesson's "one database per customer": clones of the lab's seeded template,
//! named `pglab_customer_<lab database>_<n>`, which the demo `tenancy.databases` creates,
//! measures and drops. Here: which role may create them and from which template
//! ([`Creator`]), and dropping a lab's whole family of them, which the demo does at the end,
//! when it is stopped, and at its next start, and which `pglab db reset` does too (a lab
//! killed half-way leaves them behind).
//!
//! Only the lab's own template is cloned, and a privileged role runs nothing but `CREATE` and
//! `DROP DATABASE`: the learner's objects inside the clones are changed by the learner.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use super::cluster::Cluster;
use super::credentials::Credentials;
use super::provision::ensure_template;
use super::scratch::external_template;
use super::{Error, OWNER_ROLE, TEMPLATE_DATABASE, connect};

/// What every customer database's name starts with.
pub const PREFIX: &str = "pglab_customer_";

/// The name prefix of the customer databases of the lab database `lab_database`: one lab's
/// demo never drops another lab's (tests share a server).
pub fn family(lab_database: &str) -> String {
    format!("{PREFIX}{lab_database}_")
}

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

    /// `options` (the learner's, or a proxy's in front of them) as the creating role.
    pub fn options(&self, options: PgConnectOptions) -> PgConnectOptions {
        match &self.role {
            Some((role, password)) => options.username(role).password(password),
            None => options,
        }
    }
}

/// Drops every database whose name starts with `family` that the connected role may drop;
/// returns how many there were.
pub async fn drop_family(admin: &mut PgConnection, family: &str) -> Result<usize, Error> {
    let statements: Vec<(String,)> = sqlx::query_as(
        "select format('drop database if exists %I with (force)', datname)
           from pg_database
          where starts_with(datname, $1) and pg_has_role(datdba, 'member')",
    )
    .bind(family.to_string())
    .fetch_all(&mut *admin)
    .await
    .map_err(Error::sql("cannot list the customer databases"))?;
    let count = statements.len();
    // Owned statements: a borrowed one held across the await makes the future not `Send`.
    for (statement,) in statements {
        sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut *admin)
            .await
            .map_err(Error::sql("cannot drop a customer database"))?;
    }
    Ok(count)
}

/// How many databases of `family` exist.
pub async fn count_family(admin: &mut PgConnection, family: &str) -> Result<i64, Error> {
    sqlx::query_scalar("select count(*) from pg_database where starts_with(datname, $1)")
        .bind(family.to_string())
        .fetch_one(admin)
        .await
        .map_err(Error::sql("cannot count the customer databases"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_is_the_prefix_and_its_lab_database() {
        assert_eq!(family("pglab"), "pglab_customer_pglab_");
        assert!(family("x").starts_with(PREFIX));
    }
}
