//! `pglab seed`: generated users and posts, with a progress bar.

use std::io::Write;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::SeedArgs;
use crate::db::seed::{self, Progress, SeedSize};
use crate::db::{Lab, LabConfig};

pub async fn run(config: &LabConfig, args: &SeedArgs) -> anyhow::Result<()> {
    // Refuse a bad size before starting anything.
    let size = SeedSize::new(args.users, args.posts_per_user)?;
    let lab = Lab::open(config).await?;
    let bar = ProgressBar::new(size.total_rows().unsigned_abs()).with_style(
        ProgressStyle::with_template("{msg:16} {bar:40} {human_pos}/{human_len}  {elapsed}")?,
    );
    bar.set_message("writing rows");
    let started = Instant::now();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let added = seed::generate(&lab.owner, size, workers, |progress| match progress {
        Progress::Loading(so_far) => bar.set_position((so_far.users + so_far.posts).unsigned_abs()),
        Progress::Indexing { done, total } => {
            if done == 0 {
                bar.set_message("building indexes");
                bar.set_length(total.unsigned_abs());
            }
            bar.set_position(done.unsigned_abs());
        }
    })
    .await?;
    bar.finish_and_clear();
    writeln!(
        super::stdout(),
        "added {} users and {} posts in {:.1} s (indexes rebuilt, statistics refreshed)",
        added.users,
        added.posts,
        started.elapsed().as_secs_f64()
    )?;
    Ok(())
}
