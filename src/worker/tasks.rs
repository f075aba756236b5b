//! What a running attempt has done so far: its plan (read for progress and task spans), the
//! rows it wrote, its ML fits; and the log that sends each changed span to the task table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::physical_plan::ExecutionPlan;

use crate::domain::{Progress, TaskSpan};
use crate::engine::{Stages, node_count, scan_progress, span_slots, task_spans};
use crate::ml::{Fit, Fits};

/// Shared between an attempt's task and its heartbeat.
#[derive(Default)]
pub(super) struct Tracker {
    plan: Mutex<Option<Arc<dyn ExecutionPlan>>>,
    /// Where the plan is distributed, its job's stages on the cluster.
    stages: Mutex<Option<Arc<Stages>>>,
    /// The first `seq` of the current plan's spans: a plan run again (to use less memory)
    /// numbers its spans after the first run's.
    base: AtomicU32,
    pub(super) rows_out: AtomicU64,
    pub(super) fits: Fits,
}

impl Tracker {
    /// Follows a new run of the job's plan.
    pub(super) fn start(&self, plan: Arc<dyn ExecutionPlan>, stages: Option<Arc<Stages>>) {
        *self.stages.lock().unwrap_or_else(PoisonError::into_inner) = stages;
        let mut current = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(earlier) = current.as_ref() {
            self.base.fetch_add(span_slots(earlier), Ordering::Relaxed);
        }
        *current = Some(plan);
        self.rows_out.store(0, Ordering::Relaxed);
    }

    fn plan(&self) -> Option<Arc<dyn ExecutionPlan>> {
        self.plan
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn progress(&self) -> Progress {
        let scan = self.plan().as_ref().map(scan_progress).unwrap_or_default();
        let stages = self.stages.lock().unwrap_or_else(PoisonError::into_inner);
        let (stages_done, stages_total) = stages.as_ref().map_or((0, 0), |s| s.get());
        Progress {
            stages_done,
            stages_total,
            partitions_done: scan.partitions_done,
            partitions_total: scan.partitions_total,
            files_done: scan.files_done,
            files_total: scan.files_total,
            rows_read: scan.rows_read,
            bytes_read: scan.bytes_read,
            rows_out: self.rows_out.load(Ordering::Relaxed),
        }
    }

    /// Every span so far: the plan's operators × partitions, a distributed plan's tasks on
    /// its cluster, then the ML fits.
    pub(super) fn spans(&self) -> Vec<TaskSpan> {
        let Some(plan) = self.plan() else {
            return Vec::new();
        };
        let base = self.base.load(Ordering::Relaxed);
        let mut spans = task_spans(&plan);
        for span in &mut spans {
            span.seq = span.seq.saturating_add(base);
        }
        let mut first = base.saturating_add(span_slots(&plan));
        let stages = self
            .stages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(stages) = stages {
            spans.extend(stages.task_spans().into_iter().map(|mut span| {
                span.seq = span.seq.saturating_add(first);
                span
            }));
            first = first.saturating_add(stages.task_slots());
        }
        let node = node_count(&plan);
        let fits = self.fits.lock().unwrap_or_else(PoisonError::into_inner);
        spans.extend(
            fits.iter()
                .zip(first..)
                .map(|(fit, seq)| fit_span(fit, node, seq)),
        );
        spans
    }
}

fn fit_span(fit: &Fit, node: u32, seq: u32) -> TaskSpan {
    TaskSpan {
        seq,
        node,
        operator: "fit".to_string(),
        partition: u32::try_from(fit.fold).unwrap_or(u32::MAX),
        detail: Some(match &fit.device {
            Some(device) => format!("candidate {}: {} on {device}", fit.candidate, fit.params),
            None => format!("candidate {}: {}", fit.candidate, fit.params),
        }),
        started_at: fit.started_at,
        ended_at: Some(fit.ended_at),
        rows: 0,
        bytes: None,
        compute_ns: u64::try_from(
            (fit.ended_at - fit.started_at)
                .num_nanoseconds()
                .unwrap_or(0),
        )
        .unwrap_or(0),
        spill_count: 0,
        spilled_bytes: 0,
        memory_peak: None,
    }
}

/// The spans already in the task table, so that each heartbeat sends only what changed.
#[derive(Default)]
pub(super) struct TaskLog {
    sent: HashMap<u32, TaskSpan>,
}

impl TaskLog {
    /// The spans that are new or differ from what was sent; remembered as sent.
    pub(super) fn changed(&mut self, spans: Vec<TaskSpan>) -> Vec<TaskSpan> {
        let fresh: Vec<TaskSpan> = spans
            .into_iter()
            .filter(|s| self.sent.get(&s.seq) != Some(s))
            .collect();
        for span in &fresh {
            self.sent.insert(span.seq, span.clone());
        }
        fresh
    }

    /// Forgets spans whose write failed, so the next heartbeat sends them again.
    pub(super) fn unsend(&mut self, spans: &[TaskSpan]) {
        for span in spans {
            self.sent.remove(&span.seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(seq: u32, rows: u64) -> TaskSpan {
        TaskSpan {
            seq,
            node: 0,
            operator: "ProjectionExec".into(),
            partition: seq,
            detail: None,
            started_at: chrono::Utc::now(),
            ended_at: None,
            rows,
            bytes: None,
            compute_ns: 0,
            spill_count: 0,
            spilled_bytes: 0,
            memory_peak: None,
        }
    }

    #[test]
    fn a_span_is_sent_again_only_once_it_changed_or_its_write_failed() {
        let mut log = TaskLog::default();
        let (a, b) = (span(0, 1), span(1, 1));
        assert_eq!(log.changed(vec![a.clone(), b.clone()]).len(), 2);
        assert!(log.changed(vec![a.clone(), b.clone()]).is_empty());
        let grown = TaskSpan {
            rows: 5,
            ..b.clone()
        };
        assert_eq!(
            log.changed(vec![a.clone(), grown.clone()]),
            vec![grown.clone()]
        );
        log.unsend(std::slice::from_ref(&grown));
        assert_eq!(log.changed(vec![a, grown.clone()]), vec![grown]);
    }
}
