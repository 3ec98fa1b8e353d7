//! `pglab seed`: generated users and posts, with a progress bar.

use std::io::Write;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::SeedArgs;
use crate::db::seed::{self, SeedSize};
use crate::db::{Lab, LabConfig, connect};

pub async fn run(config: &LabConfig, args: &SeedArgs) -> anyhow::Result<()> {
    // Refuse a bad size before starting anything.
    let size = SeedSize::new(args.users, args.posts_per_user)?;
    let lab = Lab::open(config).await?;
    let mut conn = connect(&lab.owner).await?;
    let bar = ProgressBar::new(size.total_rows().unsigned_abs()).with_style(
        ProgressStyle::with_template(
            "{bar:40} {human_pos}/{human_len} rows  {elapsed} (eta {eta})",
        )?,
    );
    let started = Instant::now();
    let added = seed::generate(&mut conn, size, |so_far| {
        bar.set_position((so_far.users + so_far.posts).unsigned_abs());
    })
    .await?;
    bar.finish_and_clear();
    writeln!(
        std::io::stdout(),
        "added {} users and {} posts in {:.1} s, then analyzed",
        added.users,
        added.posts,
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}
