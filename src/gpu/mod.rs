//! GPU devices and their kernels. libcuda and NVRTC are loaded at run time (cudarc's
//! `dynamic-loading`), so the same binary builds and runs where no CUDA is installed: a worker
//! there has no devices and runs everything on the CPU. The only module with `unsafe`.
//!
//! An [`Accelerator`] computes what the engine's GPU operators need (partial group-by
//! aggregates, k-means steps) over host columns; [`reference`] computes the same on the CPU,
//! and is what an operator falls back to when a device cannot take a chunk.

mod cuda;
mod discover;
pub mod kernels;
pub mod program;
pub mod reference;
pub mod regression;

use std::fmt;
use std::sync::Arc;

pub use discover::{Selection, driver_version, open};
pub use program::{Column, Kind, Program};

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// `RUSK_GPUS` names a device this machine does not have.
    #[error("RUSK_GPUS names device {index}, but this machine has {present} CUDA device(s)")]
    NoSuchDevice { index: usize, present: usize },
    #[error("RUSK_GPUS={0:?}: expected all, none, or device numbers such as 0,1")]
    Selection(String),
    /// NVRTC (libnvrtc.so.12) is not on the library path.
    #[error("NVRTC (libnvrtc.so.12) was not found on the library path")]
    NoCompiler,
    #[error("kernel compilation failed: {0}")]
    Compile(String),
    /// The driver refused a call (out of device memory, a launch failure…).
    #[error("CUDA driver: {0}")]
    Driver(String),
    /// The input is not one the kernels take (too many groups for the code width…).
    #[error("not for the device: {0}")]
    Unsupported(String),
}

/// What kind of device an accelerator is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Cuda,
    /// The CPU standing in for a device: a test seam for the scheduling and the operator
    /// choice, never created from the environment.
    TestStub,
}

/// A device as discovered.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    pub index: usize,
    pub kind: DeviceKind,
    pub name: String,
    pub total_memory: u64,
    pub free_memory: u64,
    /// `(major, minor)`.
    pub compute_capability: (i32, i32),
}

impl fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DeviceKind::Cuda => write!(f, "cuda:{} ({})", self.index, self.name),
            DeviceKind::TestStub => write!(f, "stub:{} ({})", self.index, self.name),
        }
    }
}

/// One key column of a group-by, widened to `i64`: its rows' `key - min` take `bits` bits of
/// the group code, from bit `shift`.
#[derive(Debug, Clone, Copy)]
pub struct KeyColumn<'a> {
    pub values: &'a [i64],
    pub min: i64,
    pub shift: u32,
}

/// A column's values on the host.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    I64(&'a [i64]),
    F64(&'a [f64]),
}

/// What an aggregate computes per group. `Count` reads no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    Count,
    Sum,
    Min,
    Max,
}

/// One aggregate over a value (`value` indexes [`GroupInput::values`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregate {
    pub reduce: Reduce,
    pub value: usize,
}

/// How a group-by's rows find their group.
#[derive(Debug, Clone)]
pub enum Keys<'a> {
    /// Keys packed into codes of `code_bits` (at most 63) bits: a group is its code.
    Packed {
        columns: Vec<KeyColumn<'a>>,
        code_bits: u32,
    },
    /// Keys too wide to pack: rows hashed by all their keys and compared key by key; a group
    /// is named by one of its rows.
    Rows(Vec<&'a [i64]>),
}

/// A group-by: its keys (no nulls); the values the aggregates read, each a program over
/// `columns` with no nulls in the columns it reads; only rows where `filter` is true (not
/// false, not null) count.
#[derive(Debug, Clone)]
pub struct GroupInput<'a> {
    pub rows: usize,
    pub keys: Keys<'a>,
    pub columns: Vec<Column<'a>>,
    pub values: Vec<Program>,
    pub aggregates: Vec<Aggregate>,
    pub filter: Option<Program>,
}

impl GroupInput<'_> {
    /// The kinds of the values (integers or floats), or why the kernels cannot run the
    /// input: a program that does not check, a value that is not a number or reads a column
    /// with nulls, a filter that is not a condition, a key or column of the wrong length.
    pub fn check(&self) -> Result<Vec<Kind>, GpuError> {
        let refuse = |why: &str| Err(GpuError::Unsupported(why.into()));
        let wrong_length = match &self.keys {
            Keys::Packed { columns, code_bits } => {
                *code_bits > 63 || columns.iter().any(|k| k.values.len() != self.rows)
            }
            Keys::Rows(columns) => columns.iter().any(|k| k.len() != self.rows),
        };
        if wrong_length {
            return refuse("a key of the wrong length, or codes wider than 63 bits");
        }
        let columns_fit = self
            .columns
            .iter()
            .all(|c| c.rows() == self.rows && c.valid.is_none_or(|v| v.len() == self.rows));
        if !columns_fit {
            return refuse("a column or validity of the wrong length");
        }
        let mut kinds = Vec::with_capacity(self.values.len());
        for value in &self.values {
            let kind = value.check_rows(&self.columns, self.rows)?;
            if kind == Kind::Bool {
                return refuse("a boolean to aggregate");
            }
            if value.columns().any(|c| self.columns[c].has_nulls()) {
                return refuse("nulls in a value");
            }
            kinds.push(kind);
        }
        if let Some(filter) = &self.filter
            && filter.check_rows(&self.columns, self.rows)? != Kind::Bool
        {
            return refuse("a filter that is not a condition");
        }
        let missing = |a: &Aggregate| a.reduce != Reduce::Count && a.value >= kinds.len();
        if self.aggregates.iter().any(missing) {
            return refuse("an aggregate of no value");
        }
        Ok(kinds)
    }
}

/// A comparison of a column with a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

impl Comparison {
    /// The kernels' number for it.
    pub fn code(self) -> u32 {
        self as u32
    }

    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Comparison::Eq => a == b,
            Comparison::NotEq => a != b,
            Comparison::Lt => a < b,
            Comparison::LtEq => a <= b,
            Comparison::Gt => a > b,
            Comparison::GtEq => a >= b,
        }
    }
}

/// A float as an integer that orders as DataFusion compares floats: -0.0 equal to 0.0, then
/// IEEE 754's total order (`f64::total_cmp`: NaN above infinity, a NaN with its sign bit set
/// below minus infinity).
pub fn ordered_bits(value: f64) -> i64 {
    total_order_bits(if value == 0.0 { 0.0 } else { value })
}

/// A float as an integer in IEEE 754's total order (`f64::total_cmp`), and back: what the
/// device's float `min`/`max` compare with integer atomics.
pub fn total_order_bits(value: f64) -> i64 {
    let bits = value.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

pub fn from_total_order_bits(key: i64) -> f64 {
    f64::from_bits((key ^ (((key >> 63) as u64) >> 1) as i64) as u64)
}

/// Whether a float `min`/`max` can take `value` in any order: DataFusion's accumulators keep
/// whichever of two equal values (-0.0, 0.0) or of a NaN and a number came last, so a chunk
/// with a NaN or a -0.0 is left to them.
pub fn order_free(value: f64) -> bool {
    !(value.is_nan() || (value == 0.0 && value.is_sign_negative()))
}

/// One aggregate's value per group.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    I64(Vec<i64>),
    F64(Vec<f64>),
    Count(Vec<u64>),
}

/// Each group's code (with [`Keys::Packed`]) or one of its rows (with [`Keys::Rows`]) and its
/// aggregates' values, groups in any order; where a device ran them, how long each phase
/// took.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    pub codes: Vec<u64>,
    pub states: Vec<State>,
    pub timings: Option<Timings>,
}

/// Seconds a device spent copying the input in, running the kernels, and copying out.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timings {
    pub upload_s: f64,
    pub kernels_s: f64,
    pub download_s: f64,
}

/// Host-to-device copy rates, in GB/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bandwidth {
    pub pinned_gb_s: f64,
    pub pageable_gb_s: f64,
    /// From pageable memory through two pinned buffers in turn (what the operators' uploads
    /// use where it beats a pageable copy).
    pub staged_gb_s: f64,
}

/// A fitted k-means: centroids (`k × dims`, row-major), labels, iterations run.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansFit {
    pub centroids: Vec<f64>,
    pub labels: Vec<u32>,
    pub iterations: usize,
}

/// A device the engine can hand work to.
pub trait Accelerator: Send + Sync + fmt::Debug {
    fn info(&self) -> &DeviceInfo;
    /// Device memory one operator may use at once; inputs are cut into chunks that fit.
    fn memory_limit(&self) -> u64;
    /// Bytes of device memory free now.
    fn free_memory(&self) -> u64 {
        self.info().free_memory
    }
    fn group_aggregate(&self, input: &GroupInput<'_>) -> Result<Groups, GpuError>;
    /// Host-to-device copy rates for `bytes`; `None` for a device with no copies.
    fn copy_bandwidth(&self, _bytes: usize) -> Result<Option<Bandwidth>, GpuError> {
        Ok(None)
    }
    /// Lloyd's iterations from `init` until no label changes or `max_iter` (see
    /// [`check_kmeans`] for what is refused).
    fn kmeans(
        &self,
        points: &[f64],
        dims: usize,
        init: &[f64],
        max_iter: usize,
    ) -> Result<KMeansFit, GpuError>;
    /// A linear or binary logistic regression of `targets` on `points` (row-major, `dims` a
    /// row), with an intercept: the sums over the rows on the device, the small system they
    /// make solved on the host (see [`regression`]).
    fn regression(
        &self,
        points: &[f64],
        dims: usize,
        targets: &[f64],
        how: regression::Regression,
    ) -> Result<regression::Coefficients, GpuError>;
}

/// The devices a worker uses (none where it has none).
#[derive(Debug, Clone, Default)]
pub struct Devices(Vec<Arc<dyn Accelerator>>);

impl Devices {
    pub fn new(devices: Vec<Arc<dyn Accelerator>>) -> Devices {
        Devices(devices)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Accelerator>> {
        self.0.iter()
    }

    /// The device for the next operator: the one with the most free memory when opened.
    pub fn pick(&self) -> Option<Arc<dyn Accelerator>> {
        self.0
            .iter()
            .max_by_key(|device| device.info().free_memory)
            .cloned()
    }
}

/// Refuses a k-means the kernels cannot run: no points, no dimensions, no centroids, or an
/// `init` that is not `k × dims`.
pub fn check_kmeans(points: &[f64], dims: usize, init: &[f64]) -> Result<(), GpuError> {
    let shaped = dims > 0 && points.len().is_multiple_of(dims) && init.len().is_multiple_of(dims);
    if !shaped || points.is_empty() || init.is_empty() || u32::try_from(dims).is_err() {
        return Err(GpuError::Unsupported(format!(
            "k-means of {} values in {dims} dimensions from {} initial values",
            points.len(),
            init.len()
        )));
    }
    Ok(())
}

/// Bits needed to tell apart the values `0..=span`.
pub fn bits_for(span: u64) -> u32 {
    64 - span.leading_zeros()
}
