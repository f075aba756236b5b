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
pub mod reference;

use std::fmt;
use std::sync::Arc;

pub use discover::{Selection, driver_version, open};

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

/// A value column an aggregate reads.
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    I64(&'a [i64]),
    F64(&'a [f64]),
}

/// What an aggregate computes per group. `Count` reads no column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reduce {
    Count,
    Sum,
    Min,
    Max,
}

/// One aggregate over a value column (`column` indexes [`GroupInput::values`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregate {
    pub reduce: Reduce,
    pub column: usize,
}

/// A group-by over rows with no nulls: keys packed into codes of `code_bits` bits; only rows
/// that meet every condition of `filter` count.
#[derive(Debug, Clone)]
pub struct GroupInput<'a> {
    pub rows: usize,
    pub keys: Vec<KeyColumn<'a>>,
    pub code_bits: u32,
    pub values: Vec<Values<'a>>,
    pub aggregates: Vec<Aggregate>,
    pub filter: Vec<Condition<'a>>,
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

/// A condition a row must meet: `column op literal`, over integers (floats as
/// [`ordered_bits`], so they compare as Arrow compares floats).
#[derive(Debug, Clone, Copy)]
pub struct Condition<'a> {
    pub column: &'a [i64],
    pub op: Comparison,
    pub literal: i64,
}

impl Condition<'_> {
    pub fn holds(&self, row: usize) -> bool {
        self.op.holds(self.column[row], self.literal)
    }
}

/// A float as an integer that orders as DataFusion compares floats: NaN equal to NaN and
/// above infinity, -0.0 equal to 0.0 (`f64::total_cmp` after making every zero +0.0 and every
/// NaN the same NaN). A NaN with its sign bit set is left to the CPU by callers.
pub fn ordered_bits(value: f64) -> i64 {
    let value = if value.is_nan() {
        f64::NAN
    } else {
        // -0.0 + 0.0 is +0.0; every other value is unchanged.
        value + 0.0
    };
    let bits = value.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// One aggregate's value per group.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    I64(Vec<i64>),
    F64(Vec<f64>),
    Count(Vec<u64>),
}

/// Each group's code and its aggregates' values, groups in any order; where a device ran
/// them, how long each phase took.
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
