//! The process's CPU use between two reports, for `GET /v1/workers` and the dashboard.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// Clock ticks per second in `/proc/{pid}/stat`: Linux reports them in USER_HZ, which is 100
/// on every architecture it exports to user space.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Default)]
pub(super) struct CpuMeter {
    last: Mutex<Option<(Instant, f64)>>,
}

impl CpuMeter {
    /// Percent of one core used since the previous call; `None` on the first call and where
    /// `/proc` is missing.
    pub(super) fn percent(&self) -> Option<f64> {
        let now = (Instant::now(), cpu_seconds()?);
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let before = last.replace(now)?;
        let wall = now.0.duration_since(before.0).as_secs_f64();
        (wall > 0.0).then(|| ((now.1 - before.1) / wall * 100.0).max(0.0))
    }
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat(&stat)
}

fn parse_stat(stat: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_user_and_system_time_after_a_command_name_with_spaces() {
        let stat = "42 (rusk (worker) 1) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0";
        assert_eq!(parse_stat(stat), Some(3.0));
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(cpu_seconds().is_some_and(|s| s >= 0.0));
    }
}
