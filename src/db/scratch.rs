//! Throwaway copies of the seeded lab database, for work that must start from the story
//! exactly as shipped and must not touch the learner's database: `pglab lessons check` runs
//! every lesson's SQL, demos and solutions in one.

use sqlx::postgres::PgConnectOptions;

use super::provision::{drop_database, ensure_template, replace_database, template_version};
use super::{Error, Lab, OWNER_ROLE, TEMPLATE_DATABASE, connect};

/// A fresh database cloned from the template; [`ScratchDb::drop`] removes it.
#[derive(Debug)]
pub struct ScratchDb {
    pub name: String,
    /// Connects as the learner, like the lab's own connections.
    pub learner: PgConnectOptions,
    admin: PgConnectOptions,
}

/// The seeded template pglab builds on a `DATABASE_URL` server (which has no lab template),
/// named with the schema version it holds so labs of different versions can share a server.
pub(crate) fn external_template() -> String {
    let version = template_version();
    format!(
        "pglab_scratch_{}",
        version.rsplit(' ').next().unwrap_or("0")
    )
}

impl ScratchDb {
    /// Clones the seeded template into `name` (replacing a leftover of that name). On the
    /// private cluster the template always exists; on a `DATABASE_URL` server it is built
    /// once per schema version, which needs a role allowed to create databases.
    pub async fn create(lab: &Lab, name: &str) -> Result<Self, Error> {
        let (admin, template, owner) = match &lab.superuser {
            Some(superuser) => (
                superuser.clone(),
                TEMPLATE_DATABASE.to_string(),
                Some(OWNER_ROLE),
            ),
            None => {
                let template = external_template();
                let mut admin = connect(&lab.owner).await?;
                let builder = lab.owner.clone().database(&template);
                ensure_template(&mut admin, &template, &builder, None).await?;
                (lab.owner.clone(), template, None)
            }
        };
        let mut conn = connect(&admin).await?;
        replace_database(&mut conn, &template, name, owner).await?;
        Ok(Self {
            name: name.to_string(),
            learner: lab.learner.clone().database(name),
            admin,
        })
    }

    pub async fn drop(self) -> Result<(), Error> {
        let mut admin = connect(&self.admin).await?;
        drop_database(&mut admin, &self.name).await
    }
}
