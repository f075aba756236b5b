//! The kernels' contract computed on the CPU: what a GPU operator falls back to for a chunk
//! a device cannot take (nulls, memory), the check the GPU benchmark compares against, and
//! the test seam's "device".

use std::collections::HashMap;

use super::{
    Accelerator, DeviceInfo, DeviceKind, GpuError, GroupInput, Groups, KMeansFit, Reduce, State,
    Values,
};

/// Packs row `row`'s keys into its group code.
fn code_of(input: &GroupInput<'_>, row: usize) -> u64 {
    input.keys.iter().fold(0u64, |code, key| {
        code | ((key.values[row].wrapping_sub(key.min) as u64) << key.shift)
    })
}

/// Partial aggregates per group, groups in order of first appearance; rows the filter drops
/// count nowhere.
pub fn group_aggregate(input: &GroupInput<'_>) -> Groups {
    let mut slot_of: HashMap<u64, usize> = HashMap::new();
    let mut codes = Vec::new();
    let kept: Vec<usize> = (0..input.rows)
        .filter(|&row| input.filter.iter().all(|c| c.holds(row)))
        .collect();
    let slots: Vec<usize> = kept
        .iter()
        .map(|&row| {
            let code = code_of(input, row);
            *slot_of.entry(code).or_insert_with(|| {
                codes.push(code);
                codes.len() - 1
            })
        })
        .collect();
    let groups = codes.len();
    let states = input
        .aggregates
        .iter()
        .map(|aggregate| {
            let values = input.values.get(aggregate.column).map(|v| v.rows(&kept));
            reduce(aggregate.reduce, values.as_ref(), &slots, groups)
        })
        .collect();
    Groups {
        codes,
        states,
        timings: None,
    }
}

/// Owned values of some rows.
enum Kept {
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl Values<'_> {
    fn rows(&self, rows: &[usize]) -> Kept {
        match self {
            Values::I64(v) => Kept::I64(rows.iter().map(|&r| v[r]).collect()),
            Values::F64(v) => Kept::F64(rows.iter().map(|&r| v[r]).collect()),
        }
    }
}

fn reduce(how: Reduce, values: Option<&Kept>, slots: &[usize], groups: usize) -> State {
    match (how, values) {
        (Reduce::Count, _) | (_, None) => {
            let mut counts = vec![0u64; groups];
            slots.iter().for_each(|&s| counts[s] += 1);
            State::Count(counts)
        }
        (Reduce::Sum, Some(Kept::I64(v))) => {
            State::I64(fold(v, slots, groups, 0, i64::wrapping_add))
        }
        (Reduce::Min, Some(Kept::I64(v))) => State::I64(fold(v, slots, groups, i64::MAX, i64::min)),
        (Reduce::Max, Some(Kept::I64(v))) => State::I64(fold(v, slots, groups, i64::MIN, i64::max)),
        (Reduce::Sum, Some(Kept::F64(v))) => State::F64(fold(v, slots, groups, 0.0, |a, b| a + b)),
        (Reduce::Min, Some(Kept::F64(v))) => {
            State::F64(fold(v, slots, groups, f64::INFINITY, f64::min))
        }
        (Reduce::Max, Some(Kept::F64(v))) => {
            State::F64(fold(v, slots, groups, f64::NEG_INFINITY, f64::max))
        }
    }
}

fn fold<T: Copy>(
    values: &[T],
    slots: &[usize],
    groups: usize,
    start: T,
    f: impl Fn(T, T) -> T,
) -> Vec<T> {
    let mut out = vec![start; groups];
    for (&slot, &value) in slots.iter().zip(values) {
        out[slot] = f(out[slot], value);
    }
    out
}

/// Lloyd's iterations from `init`: the nearest centroid (the first of equals), then each
/// cluster's mean (an empty cluster keeps its centroid), until no label changes. Labels start
/// at 0, as on the device, so both run the same iterations.
pub fn kmeans(
    points: &[f64],
    dims: usize,
    init: &[f64],
    max_iter: usize,
) -> Result<KMeansFit, GpuError> {
    super::check_kmeans(points, dims, init)?;
    let k = init.len() / dims.max(1);
    let n = points.len() / dims.max(1);
    let mut centroids = init.to_vec();
    let mut labels = vec![0u32; n];
    let mut iterations = 0;
    while iterations < max_iter {
        iterations += 1;
        let assigned = assign(points, &centroids, dims, k);
        let changed = assigned != labels;
        labels = assigned;
        let (sums, counts) = cluster_sums(points, &labels, dims, k);
        centroids = update(&centroids, &sums, &counts, dims);
        if !changed {
            break;
        }
    }
    Ok(KMeansFit {
        centroids,
        labels,
        iterations,
    })
}

/// Each point's nearest centroid, the points split over the machine's cores.
fn assign(points: &[f64], centroids: &[f64], dims: usize, k: usize) -> Vec<u32> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = (points.len() / dims).div_ceil(threads).max(1) * dims;
    std::thread::scope(|scope| {
        let parts: Vec<_> = points
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.chunks_exact(dims)
                        .map(|p| nearest(p, &centroids[..k * dims], dims))
                        .collect::<Vec<u32>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// The number of the centroid (`dims` values each, row-major) nearest to `point`, the first of
/// equals: the k-means assignment, as the device's kernel makes it.
pub fn nearest(point: &[f64], centroids: &[f64], dims: usize) -> u32 {
    let mut best = (0u32, f64::INFINITY);
    for (c, centroid) in centroids.chunks_exact(dims.max(1)).enumerate() {
        let distance = squared_distance(point, centroid);
        if distance < best.1 {
            best = (c as u32, distance);
        }
    }
    best.0
}

pub fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn cluster_sums(points: &[f64], labels: &[u32], dims: usize, k: usize) -> (Vec<f64>, Vec<u64>) {
    let mut sums = vec![0.0; k * dims];
    let mut counts = vec![0u64; k];
    for (point, &label) in points.chunks_exact(dims).zip(labels) {
        let c = label as usize;
        counts[c] += 1;
        for (j, x) in point.iter().enumerate() {
            sums[c * dims + j] += x;
        }
    }
    (sums, counts)
}

/// Each cluster's mean; an empty cluster keeps its old centroid.
pub(super) fn update(old: &[f64], sums: &[f64], counts: &[u64], dims: usize) -> Vec<f64> {
    old.chunks_exact(dims)
        .zip(counts)
        .enumerate()
        .flat_map(|(c, (centroid, &count))| {
            (0..dims).map(move |j| match count {
                0 => centroid[j],
                n => sums[c * dims + j] / n as f64,
            })
        })
        .collect()
}

/// The CPU standing in for a device (see [`super::DeviceKind::TestStub`]).
#[derive(Debug)]
pub struct CpuStub {
    info: DeviceInfo,
    memory_limit: u64,
}

impl CpuStub {
    pub fn new(memory_limit: Option<u64>) -> CpuStub {
        CpuStub {
            info: DeviceInfo {
                index: 0,
                kind: DeviceKind::TestStub,
                name: "CPU stand-in (test seam)".into(),
                total_memory: 0,
                free_memory: 0,
                compute_capability: (0, 0),
            },
            memory_limit: memory_limit.unwrap_or(256 << 20),
        }
    }
}

impl Accelerator for CpuStub {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn memory_limit(&self) -> u64 {
        self.memory_limit
    }

    fn group_aggregate(&self, input: &GroupInput<'_>) -> Result<Groups, GpuError> {
        Ok(group_aggregate(input))
    }

    fn kmeans(
        &self,
        points: &[f64],
        dims: usize,
        init: &[f64],
        max_iter: usize,
    ) -> Result<KMeansFit, GpuError> {
        kmeans(points, dims, init, max_iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::{Aggregate, Comparison, Condition, KeyColumn, ordered_bits};

    #[test]
    fn groups_by_two_packed_keys() {
        let a = [1i64, 1, 2, 1, 2];
        let b = [10i64, 11, 10, 10, 10];
        let v = [1.5f64, 2.0, 3.0, 4.0, -1.0];
        let w = [5i64, 7, 1, -3, 9];
        let input = GroupInput {
            rows: 5,
            keys: vec![
                KeyColumn {
                    values: &a,
                    min: 1,
                    shift: 0,
                },
                KeyColumn {
                    values: &b,
                    min: 10,
                    shift: 1,
                },
            ],
            code_bits: 2,
            values: vec![Values::F64(&v), Values::I64(&w)],
            filter: Vec::new(),
            aggregates: vec![
                Aggregate {
                    reduce: Reduce::Count,
                    column: 0,
                },
                Aggregate {
                    reduce: Reduce::Sum,
                    column: 0,
                },
                Aggregate {
                    reduce: Reduce::Min,
                    column: 1,
                },
                Aggregate {
                    reduce: Reduce::Max,
                    column: 1,
                },
            ],
        };
        let groups = group_aggregate(&input);
        // (1,10) → code 0; (1,11) → 2; (2,10) → 1.
        assert_eq!(groups.codes, vec![0, 2, 1]);
        assert_eq!(groups.states[0], State::Count(vec![2, 1, 2]));
        assert_eq!(groups.states[1], State::F64(vec![5.5, 2.0, 2.0]));
        assert_eq!(groups.states[2], State::I64(vec![-3, 7, 1]));
        assert_eq!(groups.states[3], State::I64(vec![5, 7, 9]));
    }

    #[test]
    fn a_filter_drops_rows_before_grouping() {
        let k = [1i64, 2, 1, 2, 3];
        let v = [10i64, 20, 30, 40, 50];
        let ordered: Vec<i64> = [0.5f64, 1.5, 2.5, 3.5, 4.5].map(ordered_bits).to_vec();
        let input = GroupInput {
            rows: 5,
            keys: vec![KeyColumn {
                values: &k,
                min: 1,
                shift: 0,
            }],
            code_bits: 2,
            values: vec![Values::I64(&v)],
            aggregates: vec![
                Aggregate {
                    reduce: Reduce::Count,
                    column: 0,
                },
                Aggregate {
                    reduce: Reduce::Sum,
                    column: 0,
                },
            ],
            // v > 10 and x < 4: rows 1, 2, 3.
            filter: vec![
                Condition {
                    column: &v,
                    op: Comparison::Gt,
                    literal: 10,
                },
                Condition {
                    column: &ordered,
                    op: Comparison::Lt,
                    literal: ordered_bits(4.0),
                },
            ],
        };
        let groups = group_aggregate(&input);
        // Key 2 (code 1) first, then key 1 (code 0); key 3 is filtered away.
        assert_eq!(groups.codes, vec![1, 0]);
        assert_eq!(groups.states[0], State::Count(vec![2, 1]));
        assert_eq!(groups.states[1], State::I64(vec![60, 30]));
    }

    #[test]
    fn ordered_bits_order_floats_as_datafusion_compares_them() {
        let floats = [
            f64::NEG_INFINITY,
            -1.5,
            0.0,
            1e-300,
            2.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for (a, b) in floats.iter().zip(&floats[1..]) {
            assert!(ordered_bits(*a) < ordered_bits(*b), "{a} < {b}");
        }
        assert_eq!(ordered_bits(-0.0), ordered_bits(0.0));
        assert_eq!(ordered_bits(f64::NAN), ordered_bits(-(-f64::NAN)));
    }

    #[test]
    fn kmeans_finds_two_clusters() {
        let points = [0.0, 0.0, 0.0, 1.0, 10.0, 10.0, 10.0, 11.0];
        let fit = kmeans(&points, 2, &[0.0, 0.0, 0.0, 1.0], 50).unwrap();
        assert!(kmeans(&points, 0, &[], 5).is_err());
        assert!(kmeans(&[], 2, &[0.0, 0.0], 5).is_err());
        assert_eq!(fit.labels, vec![0, 0, 1, 1]);
        assert_eq!(fit.centroids, vec![0.0, 0.5, 10.0, 10.5]);
    }
}
