//! `pglab db …`: status, url, psql, serve, stop and reset.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::db::cluster::{Layout, State};
use crate::db::status::Status;
use crate::db::{self, LESSON_SCHEMA, Lab, LabConfig, Purpose, Source};

pub async fn status(config: &LabConfig) -> anyhow::Result<()> {
    let started = Instant::now();
    let lab = Lab::open(config).await?;
    let status = db::status::read(&lab).await?;
    let mut out = super::stdout();
    write_status(&mut out, &status)?;
    for warning in &lab.warnings {
        writeln!(out, "warning        {warning}")?;
    }
    writeln!(out, "ready in       {} ms", started.elapsed().as_millis())?;
    Ok(())
}

fn write_status(out: &mut impl Write, s: &Status) -> std::io::Result<()> {
    writeln!(
        out,
        "database       {} (PostgreSQL {})",
        s.source, s.server_version
    )?;
    writeln!(out, "url            {}", s.url)?;
    for (label, value) in [
        ("data dir", &s.data_dir),
        ("socket dir", &s.socket_dir),
        ("server log", &s.server_log),
        ("programs", &s.binaries),
    ] {
        if let Some(value) = value {
            writeln!(out, "{label:<14} {value}")?;
        }
    }
    let superuser = if s.learner_is_superuser {
        " — a superuser: lessons about permissions will not hold"
    } else {
        ", not a superuser"
    };
    writeln!(out, "learner role   {}{superuser}", s.learner)?;
    writeln!(out, "timeout        {} per statement", s.statement_timeout)?;
    writeln!(
        out,
        "lab data       {} — {} organizations, {} users, {} posts",
        s.database_size, s.organizations, s.users, s.posts
    )
}

/// Prints the URL of a running private server without starting one: a URL to a server that
/// stops when this command exits would be useless.
pub fn url(config: &LabConfig, owner: bool) -> anyhow::Result<()> {
    let mut out = super::stdout();
    if let Some(url) = &config.database_url {
        writeln!(out, "{url}")?;
        return Ok(());
    }
    let layout = Layout::new(&config.data_dir);
    let State::Running(pid_file) = crate::db::cluster::state_of(&layout) else {
        bail!(
            "pglab's database is not running. Start it with `pglab db serve` (or open pglab) \
             in another terminal, then ask again."
        );
    };
    let url = crate::db::private_url(&layout, pid_file.port, owner)?;
    writeln!(out, "{url}")?;
    Ok(())
}

pub async fn psql(config: &LabConfig, owner: bool, args: &[String]) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let program = match &lab.source {
        Source::Private { cluster, .. } => cluster.binaries.psql(),
        Source::External => "psql".into(),
    };
    // The password travels in the environment, not on the command line where `ps` shows it.
    let mut url = url::Url::parse(lab.url(owner)).context("the lab's URL does not parse")?;
    // URLs carry the password percent-encoded (`p%40ss`); psql wants it as typed.
    let password = percent_encoding::percent_decode_str(url.password().unwrap_or_default())
        .decode_utf8_lossy()
        .into_owned();
    let _ = url.set_password(None);
    let status = tokio::process::Command::new(&program)
        .arg(url.as_str())
        .args(args)
        .env("PGPASSWORD", password)
        .env("PGOPTIONS", format!("-c search_path={LESSON_SCHEMA},public"))
        .status()
        .await
        .with_context(|| {
            format!(
                "cannot run {} (install the PostgreSQL client, e.g. `apt-get install postgresql-client`)",
                program.display()
            )
        })?;
    if !status.success() {
        bail!("psql ended with {status}");
    }
    Ok(())
}

pub async fn serve(config: &LabConfig) -> anyhow::Result<()> {
    let lab = Lab::open(config).await?;
    let mut out = super::stdout();
    writeln!(out, "pglab's database is up at {}", lab.masked_url())?;
    writeln!(
        out,
        "`pglab db url` prints the full URL. Press Ctrl-C to stop."
    )?;
    out.flush()?;
    let Source::Private { cluster, .. } = &lab.source else {
        tokio::signal::ctrl_c().await?;
        return Ok(());
    };
    // Also end when the server goes away (`pglab db stop`), instead of serving nothing.
    let mut check = tokio::time::interval(std::time::Duration::from_secs(1));
    // One future for the whole wait: a Ctrl-C between two ticks is not lost.
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            result = &mut interrupted => return Ok(result?),
            _ = check.tick() => {
                if !matches!(crate::db::cluster::state_of(&cluster.layout), State::Running(_)) {
                    bail!("pglab's database stopped");
                }
            }
        }
    }
}

pub fn stop(config: &LabConfig) -> anyhow::Result<()> {
    let mut out = super::stdout();
    if config.database_url.is_some() {
        writeln!(
            out,
            "DATABASE_URL is set: that server is not pglab's to stop."
        )?;
        return Ok(());
    }
    let layout = Layout::new(&config.data_dir);
    if crate::db::cluster::stop(&layout)? {
        writeln!(out, "stopped pglab's database in {}", layout.root.display())?;
    } else {
        writeln!(out, "pglab's database was not running")?;
    }
    Ok(())
}

pub async fn reset(config: &LabConfig) -> anyhow::Result<()> {
    let lab = Lab::open_for(config, Purpose::Reset).await?;
    let started = Instant::now();
    db::reset(&lab).await?;
    writeln!(
        super::stdout(),
        "lab database reset to the story seed in {} ms (progress kept)",
        started.elapsed().as_millis()
    )?;
    Ok(())
}
