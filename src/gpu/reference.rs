//! The kernels' contract computed on the CPU: what a GPU operator falls back to for a chunk
//! a device cannot take (nulls, memory), the check the GPU benchmark compares against, and
//! the test seam's "device".

use std::collections::HashMap;

use super::program::{Column, Kind, Program, Unsure, Value};
use super::regression::{self, Coefficients, HostRows, Regression};
use super::{
    Accelerator, DeviceInfo, DeviceKind, GpuError, GroupInput, Groups, KMeansFit, Keys, Reduce,
    State,
};

/// Row `row`'s group: its packed keys, or (keys too wide to pack) all its keys.
fn group_of(input: &GroupInput<'_>, row: usize) -> GroupKey {
    match &input.keys {
        Keys::Packed { columns, .. } => GroupKey::Code(columns.iter().fold(0u64, |code, key| {
            code | ((key.values[row].wrapping_sub(key.min) as u64) << key.shift)
        })),
        Keys::Rows(columns) => GroupKey::Values(columns.iter().map(|k| k[row]).collect()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    Code(u64),
    Values(Vec<i64>),
}

/// Partial aggregates per group, groups in order of first appearance; rows the filter drops
/// count nowhere. Refused as the device refuses it (see [`GroupInput::check`]), and where a
/// program is unsure of a row (see [`super::program`]).
pub fn group_aggregate(input: &GroupInput<'_>) -> Result<Groups, GpuError> {
    let kinds = input.check()?;
    let unsure = |_| GpuError::Unsupported("a comparison of a NaN that arithmetic made".into());
    let mut kept = Vec::with_capacity(input.rows);
    for row in 0..input.rows {
        let keep = match &input.filter {
            Some(filter) => filter.eval(&input.columns, row).map_err(unsure)?,
            None => Value {
                bits: 1,
                valid: true,
            },
        };
        if keep.valid && keep.bits != 0 {
            kept.push(row);
        }
    }
    let mut slot_of: HashMap<GroupKey, usize> = HashMap::new();
    let mut codes = Vec::new();
    let slots: Vec<usize> = kept
        .iter()
        .map(|&row| {
            let key = group_of(input, row);
            let code = match &key {
                GroupKey::Code(code) => *code,
                GroupKey::Values(_) => row as u64,
            };
            *slot_of.entry(key).or_insert_with(|| {
                codes.push(code);
                codes.len() - 1
            })
        })
        .collect();
    let groups = codes.len();
    let mut states = Vec::with_capacity(input.aggregates.len());
    for aggregate in &input.aggregates {
        let values = match (
            input.values.get(aggregate.value),
            kinds.get(aggregate.value),
        ) {
            (Some(program), Some(&kind)) => {
                Some(computed(program, kind, &input.columns, &kept).map_err(unsure)?)
            }
            _ => None,
        };
        // What the device leaves to the CPU: a NaN in a float sum (its sign is the
        // processor's), a NaN or -0.0 in a float min/max (DataFusion keeps the last).
        let order_free: fn(&f64) -> bool = match aggregate.reduce {
            Reduce::Min | Reduce::Max => |x| super::order_free(*x),
            _ => |x| !x.is_nan(),
        };
        if let Some(Kept::F64(v)) = &values
            && aggregate.reduce != Reduce::Count
            && !v.iter().all(order_free)
        {
            return Err(GpuError::Unsupported(
                "a NaN in a float sum, or a NaN or -0.0 in a float min/max".into(),
            ));
        }
        states.push(reduce(aggregate.reduce, values.as_ref(), &slots, groups));
    }
    Ok(Groups {
        codes,
        states,
        timings: None,
    })
}

/// Owned values of some rows.
enum Kept {
    I64(Vec<i64>),
    F64(Vec<f64>),
}

/// A program's values in `rows`.
fn computed(
    program: &Program,
    kind: Kind,
    columns: &[Column<'_>],
    rows: &[usize],
) -> Result<Kept, Unsure> {
    let bits = rows
        .iter()
        .map(|&row| program.eval(columns, row).map(|v| v.bits))
        .collect::<Result<Vec<i64>, Unsure>>()?;
    Ok(match kind {
        Kind::F64 => Kept::F64(bits.into_iter().map(|b| f64::from_bits(b as u64)).collect()),
        _ => Kept::I64(bits),
    })
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
        // As DataFusion's accumulators: min from f64::MAX (so a group of only +inf keeps
        // f64::MAX), max from f64::MIN, a value replacing the current one when strictly
        // smaller (larger).
        (Reduce::Min, Some(Kept::F64(v))) => State::F64(fold(
            v,
            slots,
            groups,
            f64::MAX,
            |a, b| {
                if b < a { b } else { a }
            },
        )),
        (Reduce::Max, Some(Kept::F64(v))) => State::F64(fold(
            v,
            slots,
            groups,
            f64::MIN,
            |a, b| {
                if b > a { b } else { a }
            },
        )),
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
        group_aggregate(input)
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

    fn regression(
        &self,
        points: &[f64],
        dims: usize,
        targets: &[f64],
        how: Regression,
    ) -> Result<Coefficients, GpuError> {
        regression::check(points, dims, targets)?;
        let mut rows = HostRows {
            points,
            dims,
            targets,
        };
        regression::fit(&mut rows, dims, how)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::program::{Arith, Op};
    use crate::gpu::{Aggregate, Comparison, KeyColumn, Values, ordered_bits};

    fn column(values: Values<'_>) -> Column<'_> {
        Column {
            values,
            valid: None,
        }
    }

    #[test]
    fn groups_by_two_packed_keys() {
        let a = [1i64, 1, 2, 1, 2];
        let b = [10i64, 11, 10, 10, 10];
        let v = [1.5f64, 2.0, 3.0, 4.0, -1.0];
        let w = [5i64, 7, 1, -3, 9];
        let input = GroupInput {
            rows: 5,
            keys: Keys::Packed {
                columns: vec![
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
            },
            columns: vec![column(Values::F64(&v)), column(Values::I64(&w))],
            values: vec![Program::column(0), Program::column(1)],
            filter: None,
            aggregates: vec![
                Aggregate {
                    reduce: Reduce::Count,
                    value: 0,
                },
                Aggregate {
                    reduce: Reduce::Sum,
                    value: 0,
                },
                Aggregate {
                    reduce: Reduce::Min,
                    value: 1,
                },
                Aggregate {
                    reduce: Reduce::Max,
                    value: 1,
                },
            ],
        };
        let groups = group_aggregate(&input).unwrap();
        // (1,10) → code 0; (1,11) → 2; (2,10) → 1.
        assert_eq!(groups.codes, vec![0, 2, 1]);
        assert_eq!(groups.states[0], State::Count(vec![2, 1, 2]));
        assert_eq!(groups.states[1], State::F64(vec![5.5, 2.0, 2.0]));
        assert_eq!(groups.states[2], State::I64(vec![-3, 7, 1]));
        assert_eq!(groups.states[3], State::I64(vec![5, 7, 9]));
        // The same groups by rows: each named by its first row.
        let by_rows = GroupInput {
            keys: Keys::Rows(vec![&a, &b]),
            ..input
        };
        let groups = group_aggregate(&by_rows).unwrap();
        assert_eq!(groups.codes, vec![0, 1, 2]);
        assert_eq!(groups.states[0], State::Count(vec![2, 1, 2]));
        assert_eq!(groups.states[2], State::I64(vec![-3, 7, 1]));
    }

    #[test]
    fn a_filter_drops_rows_before_grouping() {
        let k = [1i64, 2, 1, 2, 3];
        let v = [10i64, 20, 30, 40, 50];
        let x = [0.5f64, 1.5, 2.5, 3.5, 4.5];
        let input = GroupInput {
            rows: 5,
            keys: Keys::Packed {
                columns: vec![KeyColumn {
                    values: &k,
                    min: 1,
                    shift: 0,
                }],
                code_bits: 2,
            },
            columns: vec![column(Values::I64(&v)), column(Values::F64(&x))],
            // sum(v * 2)
            values: vec![Program {
                ops: vec![Op::Load(0), Op::I64(2), Op::Arith(Arith::Mul, Kind::I64)],
            }],
            aggregates: vec![
                Aggregate {
                    reduce: Reduce::Count,
                    value: 0,
                },
                Aggregate {
                    reduce: Reduce::Sum,
                    value: 0,
                },
            ],
            // v > 10 and x < 4: rows 1, 2, 3.
            filter: Some(Program {
                ops: vec![
                    Op::Load(0),
                    Op::I64(10),
                    Op::Compare(Comparison::Gt, Kind::I64),
                    Op::Load(1),
                    Op::F64(4.0),
                    Op::Compare(Comparison::Lt, Kind::F64),
                    Op::And,
                ],
            }),
        };
        let groups = group_aggregate(&input).unwrap();
        // Key 2 (code 1) first, then key 1 (code 0); key 3 is filtered away.
        assert_eq!(groups.codes, vec![1, 0]);
        assert_eq!(groups.states[0], State::Count(vec![2, 1]));
        assert_eq!(groups.states[1], State::I64(vec![120, 60]));
        // A value that reads a column with nulls is the CPU's.
        let valid = [true, false, true, true, true];
        let mut with_nulls = input.clone();
        with_nulls.columns[0].valid = Some(&valid);
        assert!(group_aggregate(&with_nulls).is_err());
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
        // IEEE total order for the rest, as Arrow's comparison kernels: a NaN with its sign
        // bit set is below minus infinity.
        assert!(ordered_bits(-f64::NAN) < ordered_bits(f64::NEG_INFINITY));
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
