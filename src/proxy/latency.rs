//! Simulated network distance: a round-trip delay and jitter, changeable while sessions
//! run, applied as a delay line per direction. Each chunk is due a fixed time after it
//! arrived, not after the previous one was sent, so messages a client pipelines pay the
//! delay once, as they would on a real network; and chunks never overtake each other.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MAX_DELAY: Duration = Duration::from_secs(60);

/// The delay setting shared by the proxy's sessions; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Latency(Arc<Setting>);

#[derive(Debug, Default)]
struct Setting {
    round_trip_micros: AtomicU64,
    jitter_micros: AtomicU64,
}

impl Latency {
    pub fn new(round_trip: Duration, jitter: Duration) -> Self {
        let latency = Self::default();
        latency.set(round_trip, jitter);
        latency
    }

    /// Changes the delay for every chunk that arrives from now on (each capped at a minute,
    /// far beyond any real network).
    pub fn set(&self, round_trip: Duration, jitter: Duration) {
        let (round_trip, jitter) = (round_trip.min(MAX_DELAY), jitter.min(MAX_DELAY));
        self.0
            .round_trip_micros
            .store(micros(round_trip), Ordering::Relaxed);
        self.0
            .jitter_micros
            .store(micros(jitter), Ordering::Relaxed);
    }

    pub fn round_trip(&self) -> Duration {
        Duration::from_micros(self.0.round_trip_micros.load(Ordering::Relaxed))
    }

    pub fn jitter(&self) -> Duration {
        Duration::from_micros(self.0.jitter_micros.load(Ordering::Relaxed))
    }

    /// Half the round trip, with up to half the jitter either way: the delay one
    /// direction adds to one chunk.
    fn one_way(&self) -> Duration {
        let half = self.0.round_trip_micros.load(Ordering::Relaxed) / 2;
        let jitter = self.0.jitter_micros.load(Ordering::Relaxed) / 2;
        if jitter == 0 {
            return Duration::from_micros(half);
        }
        let offset = fastrand::u64(0..=2 * jitter);
        Duration::from_micros((half + offset).saturating_sub(jitter))
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// When the chunks of one direction are due.
#[derive(Debug)]
pub struct DelayLine {
    latency: Latency,
    last_due: Option<Instant>,
}

impl DelayLine {
    pub fn new(latency: Latency) -> Self {
        Self {
            latency,
            last_due: None,
        }
    }

    /// When a chunk that arrived at `arrived` may go on: one-way delay later, but never
    /// before the chunk ahead of it. `None`: now, without queueing.
    pub fn due(&mut self, arrived: Instant) -> Option<Instant> {
        let delay = self.latency.one_way();
        let queued = self.last_due.is_some_and(|due| due > arrived);
        if delay.is_zero() && !queued {
            return None;
        }
        let due = (arrived + delay).max(self.last_due.unwrap_or(arrived));
        self.last_due = Some(due);
        Some(due)
    }
}

/// How late tokio's timer may fire: it ticks once a millisecond and rounds deadlines up.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Waits until `due`, to within the operating system's sleep precision (tens of
/// microseconds). tokio's timer alone would make every simulated hop up to a tick longer,
/// which more than doubles a 2 ms round trip; so it only covers the wait up to the last
/// couple of milliseconds, and a blocking thread sleeps the rest.
pub async fn sleep_precisely_until(due: Instant) {
    if let Some(coarse) = due.checked_sub(TIMER_SLACK)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse.into()).await;
    }
    let rest = due.saturating_duration_since(Instant::now());
    if !rest.is_zero() {
        // A failed blocking task (the runtime shutting down) ends the wait early: harmless.
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_latency_means_no_queueing() {
        let mut line = DelayLine::new(Latency::default());
        assert_eq!(line.due(Instant::now()), None);
    }

    #[test]
    fn each_chunk_waits_half_the_round_trip_from_its_own_arrival() {
        let latency = Latency::new(Duration::from_millis(40), Duration::ZERO);
        let mut line = DelayLine::new(latency);
        let t0 = Instant::now();
        assert_eq!(line.due(t0), Some(t0 + Duration::from_millis(20)));
        // A pipelined chunk 1 ms later is due 1 ms later, not 20 ms after the first.
        let t1 = t0 + Duration::from_millis(1);
        assert_eq!(line.due(t1), Some(t1 + Duration::from_millis(20)));
    }

    #[test]
    fn jitter_never_reorders_chunks() {
        let latency = Latency::new(Duration::from_millis(10), Duration::from_millis(10));
        let mut line = DelayLine::new(latency);
        let t0 = Instant::now();
        let mut previous = t0;
        for i in 0..1000 {
            let due = line.due(t0 + Duration::from_micros(i * 10)).unwrap();
            assert!(due >= previous);
            assert!(due <= t0 + Duration::from_micros(i * 10) + Duration::from_millis(10));
            previous = due;
        }
    }

    #[test]
    fn after_latency_is_turned_off_queued_chunks_still_go_first() {
        let latency = Latency::new(Duration::from_millis(40), Duration::ZERO);
        let mut line = DelayLine::new(latency.clone());
        let t0 = Instant::now();
        let first = line.due(t0).unwrap();
        latency.set(Duration::ZERO, Duration::ZERO);
        assert_eq!(line.due(t0 + Duration::from_millis(1)), Some(first));
        assert_eq!(line.due(first + Duration::from_millis(1)), None);
    }
}
