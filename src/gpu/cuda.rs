//! The CUDA device: discovery through the driver API, and the kernels launched on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, CudaView, CudaViewMut,
    DeviceRepr, DriverError, LaunchConfig, PinnedHostSlice, PushKernelArg, ValidAsZeroBits,
};

use super::kernels;
use super::regression::{self, Coefficients, Regression, Rows, Sums};
use super::{
    Accelerator, Bandwidth, DeviceInfo, DeviceKind, GpuError, GroupInput, Groups, KMeansFit, Keys,
    Kind, Program, Reduce, State, Timings, Values,
};

/// Group codes of at most this many bits index the state arrays directly (no hash table).
const DENSE_BITS: u32 = 20;
/// Dense tables this small are reduced in each block's shared memory first.
const SHARED_GROUPS: u64 = 2048;
/// Blocks of a shared-memory reduction: a few per multiprocessor of a large device.
const SHARED_BLOCKS: u32 = 1024;
const EMPTY: u64 = u64::MAX;
/// Values in each pinned staging buffer (8 MiB); columns of fewer than two buffers' worth are
/// copied straight from pageable memory.
const STAGING_VALUES: usize = 1 << 20;

impl From<DriverError> for GpuError {
    fn from(error: DriverError) -> GpuError {
        GpuError::Driver(format!("{error:?}"))
    }
}

/// Whether libcuda can be loaded.
pub(super) fn driver_present() -> bool {
    // SAFETY: only tries to open the library by its names; calls nothing in it.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

pub(super) fn driver_version() -> Option<i32> {
    let mut version = 0;
    // SAFETY: the driver writes one int; called only where the library is present.
    let status = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut version) };
    (status == cudarc::driver::sys::CUresult::CUDA_SUCCESS).then_some(version)
}

pub(super) fn device_count() -> Result<usize, GpuError> {
    Ok(usize::try_from(CudaContext::device_count()?).unwrap_or(0))
}

#[derive(Debug)]
pub(super) struct CudaAccelerator {
    info: DeviceInfo,
    ctx: Arc<CudaContext>,
    memory_limit: u64,
    /// Set once the context has failed (see `usable`).
    broken: AtomicBool,
    /// The kernels, compiled and loaded on first use (NVRTC is only needed then).
    module: OnceLock<Result<Kernels, String>>,
    /// Whether uploads go through `staging` (measured once, on the first large upload).
    staged: OnceLock<bool>,
    staging: Mutex<Option<Staging>>,
}

/// Host-to-device copies through two pinned buffers in turn: the host fills one while the
/// copy engine drains the other, so a column moves at the pinned rate less the host's own
/// copy. A pageable copy is staged by the driver too, through smaller buffers.
struct Staging {
    buffers: [PinnedHostSlice<i64>; 2],
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Staging")
    }
}

impl Staging {
    fn new(ctx: &Arc<CudaContext>) -> Result<Staging, GpuError> {
        // SAFETY: a buffer is written (as_mut_slice, in `copy`) before any copy reads it.
        let buffer = || unsafe { ctx.alloc_pinned::<i64>(STAGING_VALUES) };
        Ok(Staging {
            buffers: [buffer()?, buffer()?],
        })
    }

    fn copy(
        &mut self,
        stream: &Arc<CudaStream>,
        src: &[i64],
        dst: &mut CudaViewMut<'_, i64>,
    ) -> Result<(), GpuError> {
        let whole = src.len() / STAGING_VALUES * STAGING_VALUES;
        for (i, part) in src[..whole].chunks_exact(STAGING_VALUES).enumerate() {
            let buffer = &mut self.buffers[i % 2];
            // Waits until the copy that last read this buffer is done.
            buffer.as_mut_slice()?.copy_from_slice(part);
            let at = i * STAGING_VALUES;
            stream.memcpy_htod(buffer, &mut dst.slice_mut(at..at + STAGING_VALUES))?;
        }
        if whole < src.len() {
            stream.memcpy_htod(&src[whole..], &mut dst.slice_mut(whole..))?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Kernels {
    _module: Arc<CudaModule>,
    functions: HashMap<&'static str, CudaFunction>,
}

impl CudaAccelerator {
    pub(super) fn open(index: usize, memory_limit: Option<u64>) -> Result<Self, GpuError> {
        let ctx = CudaContext::new(index)?;
        let (free, total) = ctx.mem_get_info()?;
        let info = DeviceInfo {
            index,
            kind: DeviceKind::Cuda,
            name: ctx.name()?,
            total_memory: total as u64,
            free_memory: free as u64,
            compute_capability: ctx.compute_capability()?,
        };
        Ok(CudaAccelerator {
            memory_limit: memory_limit.unwrap_or(info.free_memory / 2),
            info,
            ctx,
            broken: AtomicBool::new(false),
            module: OnceLock::new(),
            staged: OnceLock::new(),
            staging: Mutex::new(None),
        })
    }

    fn kernels(&self) -> Result<&Kernels, GpuError> {
        self.module
            .get_or_init(|| self.load().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| GpuError::Compile(e.clone()))
    }

    fn load(&self) -> Result<Kernels, GpuError> {
        let (major, minor) = self.info.compute_capability;
        let ptx = kernels::for_device(major, minor)?;
        let module = self.ctx.load_module(ptx)?;
        let mut functions = HashMap::new();
        for name in kernels::NAMES {
            functions.insert(*name, module.load_function(name)?);
        }
        Ok(Kernels {
            _module: module,
            functions,
        })
    }

    /// Copies a column to the device: through the pinned staging buffers where that measured
    /// faster than a pageable copy and no other upload holds them, else straight.
    fn upload(
        &self,
        stream: &Arc<CudaStream>,
        src: &[i64],
        dst: &mut CudaViewMut<'_, i64>,
    ) -> Result<(), GpuError> {
        if src.len() >= 2 * STAGING_VALUES
            && *self.staged.get_or_init(|| self.staging_pays())
            && let Some(mut staging) = match self.staging.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
            && let Some(staging) = staging.as_mut()
        {
            return staging.copy(stream, src, dst);
        }
        stream.memcpy_htod(src, dst)?;
        Ok(())
    }

    /// Whether staged copies beat pageable ones here (32 MiB each way); sets up the staging
    /// buffers where they do.
    fn staging_pays(&self) -> bool {
        let rates = self.copy_rates(32 << 20);
        let pays = rates.is_ok_and(|r| r.staged_gb_s > r.pageable_gb_s);
        tracing::info!(device = %self.info, staged = pays, "host-to-device copies measured");
        if !pays {
            // The measurement made the buffers; they are not used.
            self.lock_staging().take();
        }
        pays
    }

    fn lock_staging(&self) -> std::sync::MutexGuard<'_, Option<Staging>> {
        self.staging
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The staging buffers, made on first use.
    fn with_staging<T>(
        &self,
        f: impl FnOnce(&mut Staging) -> Result<T, GpuError>,
    ) -> Result<T, GpuError> {
        let mut guard = self.lock_staging();
        let staging = match guard.as_mut() {
            Some(staging) => staging,
            None => guard.insert(Staging::new(&self.ctx)?),
        };
        f(staging)
    }

    fn function(&self, name: &str) -> Result<&CudaFunction, GpuError> {
        self.kernels()?
            .functions
            .get(name)
            .ok_or_else(|| GpuError::Compile(format!("no kernel {name}")))
    }
}

/// A launch over `n` rows: 256 threads a block, at most 64k blocks (the kernels stride).
fn rows(n: u64) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (n.div_ceil(256).clamp(1, 65_535) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Launches `$name` on `$stream` over `$n` rows with the arguments given.
macro_rules! launch {
    ($self:expr, $stream:expr, $name:expr, $config:expr; $($arg:expr),* $(,)?) => {{
        let function = $self.function($name)?;
        let mut builder = $stream.launch_builder(function);
        $( builder.arg($arg); )*
        // SAFETY: each kernel's parameters are the arguments given here, in order and of the
        // same types (see kernels.cu); every slice holds the rows the kernel reads or writes.
        unsafe { builder.launch($config) }?;
    }};
}

fn filled<T: DeviceRepr + ValidAsZeroBits>(
    stream: &Arc<CudaStream>,
    len: usize,
) -> Result<CudaSlice<T>, GpuError> {
    Ok(stream.alloc_zeros::<T>(len.max(1))?)
}

impl Accelerator for CudaAccelerator {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn memory_limit(&self) -> u64 {
        self.memory_limit
    }

    fn free_memory(&self) -> u64 {
        match self.ctx.mem_get_info() {
            Ok((free, _)) => free as u64,
            Err(_) => 0,
        }
    }

    fn group_aggregate(&self, input: &GroupInput<'_>) -> Result<Groups, GpuError> {
        let kinds = input.check()?;
        if input.rows == 0 {
            let empty = input.aggregates.iter().map(|a| match kinds.get(a.value) {
                _ if a.reduce == Reduce::Count => State::Count(Vec::new()),
                Some(Kind::F64) => State::F64(Vec::new()),
                _ => State::I64(Vec::new()),
            });
            return Ok(Groups {
                codes: Vec::new(),
                states: empty.collect(),
                timings: None,
            });
        }
        self.usable()?;
        let result = self.group_aggregate_on_device(input, &kinds);
        self.note(&result);
        result
    }

    fn copy_bandwidth(&self, bytes: usize) -> Result<Option<Bandwidth>, GpuError> {
        self.usable()?;
        let result = self.copy_rates(bytes);
        self.note(&result);
        result.map(Some)
    }

    fn kmeans(
        &self,
        points: &[f64],
        dims: usize,
        init: &[f64],
        max_iter: usize,
    ) -> Result<KMeansFit, GpuError> {
        super::check_kmeans(points, dims, init)?;
        self.usable()?;
        let result = self.kmeans_on_device(points, dims, init, max_iter);
        self.note(&result);
        result
    }

    fn regression(
        &self,
        points: &[f64],
        dims: usize,
        targets: &[f64],
        how: Regression,
    ) -> Result<Coefficients, GpuError> {
        regression::check(points, dims, targets)?;
        self.usable()?;
        let result = DeviceRows::upload(self, points, dims, targets)
            .and_then(|mut rows| regression::fit(&mut rows, dims, how));
        self.note(&result);
        result
    }
}

/// A regression's rows on the device, and the per-row terms of a logistic step.
struct DeviceRows<'a> {
    device: &'a CudaAccelerator,
    stream: Arc<CudaStream>,
    x: CudaSlice<f64>,
    y: CudaSlice<f64>,
    w: CudaSlice<f64>,
    r: CudaSlice<f64>,
    n: u64,
    dims: u32,
}

impl<'a> DeviceRows<'a> {
    fn upload(
        device: &'a CudaAccelerator,
        points: &[f64],
        dims: usize,
        targets: &[f64],
    ) -> Result<DeviceRows<'a>, GpuError> {
        let stream = device.ctx.new_stream()?;
        Ok(DeviceRows {
            device,
            x: stream.clone_htod(points)?,
            y: stream.clone_htod(targets)?,
            w: filled(&stream, targets.len())?,
            r: filled(&stream, targets.len())?,
            stream,
            n: targets.len() as u64,
            dims: u32::try_from(dims).map_err(|_| GpuError::Unsupported("dims".into()))?,
        })
    }

    /// `Σ w x̃ x̃ᵀ` and `Σ r x̃`: `w` and `r` the logistic terms where `weighted`, else 1 and `y`.
    fn sums(&mut self, weighted: bool) -> Result<Sums, GpuError> {
        let m = self.dims as usize + 1;
        let packed = regression::packed_len(m);
        let mut out: CudaSlice<f64> = filled(&self.stream, packed + m)?;
        // A few thousand rows a block: enough blocks to fill a large device.
        let blocks = self.n.div_ceil(4096).clamp(1, 65_535);
        let per_block = self.n.div_ceil(blocks);
        let config = LaunchConfig {
            grid_dim: (blocks as u32, 1, 1),
            block_dim: (256, 1, 1),
            shared_mem_bytes: 0,
        };
        let flag = u32::from(weighted);
        let r = if weighted { &self.r } else { &self.y };
        let stream = &self.stream;
        launch!(self.device, stream, "regression_sums", config;
            &self.x, &self.w, r, &flag, &self.dims, &per_block, &mut out, &self.n);
        let out = stream.clone_dtoh(&out)?;
        Ok(Sums {
            gram: out[..packed].to_vec(),
            moment: out[packed..packed + m].to_vec(),
        })
    }
}

impl Rows for DeviceRows<'_> {
    fn linear(&mut self) -> Result<Sums, GpuError> {
        self.sums(false)
    }

    fn logistic(&mut self, beta: &[f64]) -> Result<Sums, GpuError> {
        let on_device = self.stream.clone_htod(beta)?;
        let stream = &self.stream;
        launch!(self.device, stream, "logistic_terms", rows(self.n);
            &self.x, &self.y, &on_device, &self.dims, &mut self.w, &mut self.r, &self.n);
        self.sums(true)
    }
}

impl CudaAccelerator {
    /// Refuses work once the context has failed: a CUDA error such as an illegal address is
    /// sticky, and every later call would fail the same way.
    fn usable(&self) -> Result<(), GpuError> {
        match self.broken.load(Ordering::Relaxed) {
            true => Err(GpuError::Driver(
                "the device failed earlier; not used again".into(),
            )),
            false => Ok(()),
        }
    }

    /// Marks the device unusable after a driver error other than running out of memory.
    fn note<T>(&self, result: &Result<T, GpuError>) {
        if let Err(GpuError::Driver(message)) = result
            && !message.contains("OUT_OF_MEMORY")
        {
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    fn group_aggregate_on_device(
        &self,
        input: &GroupInput<'_>,
        kinds: &[Kind],
    ) -> Result<Groups, GpuError> {
        let stream = self.ctx.new_stream()?;
        let started = Instant::now();
        let keys = KeysOnDevice::upload(self, &stream, input)?;
        let mut columns = Columns::upload(self, &stream, input)?;
        stream.synchronize()?;
        let uploaded = Instant::now();
        let (codes, states) = self.aggregate_on(&stream, input, kinds, &keys, &mut columns)?;
        let computed = Instant::now();
        let groups = Groups {
            codes: codes.download(&stream)?,
            states: states
                .into_iter()
                .map(|state| state.download(&stream))
                .collect::<Result<_, _>>()?,
            timings: None,
        };
        let downloaded = Instant::now();
        Ok(Groups {
            timings: Some(Timings {
                upload_s: (uploaded - started).as_secs_f64(),
                kernels_s: (computed - uploaded).as_secs_f64(),
                download_s: (downloaded - computed).as_secs_f64(),
            }),
            ..groups
        })
    }

    fn copy_rates(&self, bytes: usize) -> Result<Bandwidth, GpuError> {
        let bytes = bytes.max(8);
        let stream = self.ctx.new_stream()?;
        let mut on_device: CudaSlice<u8> = filled(&stream, bytes)?;
        let pageable = vec![1u8; bytes];
        // SAFETY: the pinned buffer is written (below) before it is read.
        let mut pinned = unsafe { self.ctx.alloc_pinned::<u8>(bytes) }?;
        pinned.as_mut_slice()?.fill(1);
        let rate = |seconds: f64| bytes as f64 / seconds / 1e9;
        // The first copy of each kind warms up; the second is timed.
        let mut time = |pinned_copy: bool| -> Result<f64, GpuError> {
            let mut best = f64::INFINITY;
            for _ in 0..2 {
                let start = Instant::now();
                if pinned_copy {
                    stream.memcpy_htod(&pinned, &mut on_device)?;
                } else {
                    stream.memcpy_htod(&pageable, &mut on_device)?;
                }
                stream.synchronize()?;
                best = best.min(start.elapsed().as_secs_f64());
            }
            Ok(best)
        };
        let (pinned_gb_s, pageable_gb_s) = (rate(time(true)?), rate(time(false)?));
        drop((pinned, pageable, on_device));
        let values = vec![1i64; bytes / 8];
        let mut on_device: CudaSlice<i64> = filled(&stream, values.len())?;
        let mut best = f64::INFINITY;
        for _ in 0..2 {
            let start = Instant::now();
            self.with_staging(|staging| {
                staging.copy(&stream, &values, &mut on_device.slice_mut(..))
            })?;
            stream.synchronize()?;
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok(Bandwidth {
            pinned_gb_s,
            pageable_gb_s,
            staged_gb_s: rate(best),
        })
    }

    fn kmeans_on_device(
        &self,
        points: &[f64],
        dims: usize,
        init: &[f64],
        max_iter: usize,
    ) -> Result<KMeansFit, GpuError> {
        let stream = self.ctx.new_stream()?;
        let dims32 = u32::try_from(dims).map_err(|_| GpuError::Unsupported("dims".into()))?;
        let k = init.len() / dims.max(1);
        let k32 = k as u32;
        let n = (points.len() / dims.max(1)) as u64;
        let on_device = stream.clone_htod(points)?;
        let mut labels: CudaSlice<u32> = filled(&stream, n as usize)?;
        let mut centroids = init.to_vec();
        let mut iterations = 0;
        while iterations < max_iter {
            iterations += 1;
            let on_device_centroids = stream.clone_htod(&centroids)?;
            let mut changed: CudaSlice<u32> = filled(&stream, 1)?;
            launch!(self, stream, "kmeans_assign", rows(n);
                &on_device, &on_device_centroids, &mut labels, &mut changed, &n, &dims32, &k32);
            let mut sums: CudaSlice<f64> = filled(&stream, k * dims)?;
            let mut counts: CudaSlice<u64> = filled(&stream, k)?;
            launch!(self, stream, "kmeans_accumulate", rows(n);
                &on_device, &labels, &mut sums, &mut counts, &n, &dims32);
            let sums = stream.clone_dtoh(&sums)?;
            let counts = stream.clone_dtoh(&counts)?;
            centroids = super::reference::update(&centroids, &sums, &counts[..k], dims);
            if stream.clone_dtoh(&changed)?[0] == 0 {
                break;
            }
        }
        let mut labels = stream.clone_dtoh(&labels)?;
        labels.truncate(n as usize);
        Ok(KMeansFit {
            centroids,
            labels,
            iterations,
        })
    }
}

/// The columns programs read, on the device: column `c`'s rows at `c * rows` of `data`, and
/// the validity of those with nulls (`validity[c]` numbers them) in `valid`.
struct Columns {
    data: CudaSlice<i64>,
    valid: CudaSlice<u8>,
    validity: Vec<Option<usize>>,
    rows: usize,
    /// Set by a program that met a row whose answer is the processor's choice.
    unsure: CudaSlice<u32>,
}

/// Floats as their bit patterns, which is how the programs' kernel reads them.
fn float_bits(values: &[f64]) -> &[i64] {
    // SAFETY: `f64` and `i64` have the same size and alignment, and every bit pattern is a
    // valid `i64`; the slice borrows `values` for its lifetime.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast::<i64>(), values.len()) }
}

impl Columns {
    fn upload(
        device: &CudaAccelerator,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
    ) -> Result<Columns, GpuError> {
        let rows = input.rows;
        let mut data: CudaSlice<i64> = filled(stream, input.columns.len() * rows)?;
        let mut validity = Vec::with_capacity(input.columns.len());
        let mut nullable = Vec::new();
        for (c, column) in input.columns.iter().enumerate() {
            let mut rows_of_c = data.slice_mut(c * rows..(c + 1) * rows);
            match column.values {
                Values::I64(values) => device.upload(stream, values, &mut rows_of_c)?,
                Values::F64(values) => device.upload(stream, float_bits(values), &mut rows_of_c)?,
            }
            let valid = column.valid.filter(|_| column.has_nulls());
            validity.push(valid.map(|_| nullable.len()));
            nullable.extend(valid);
        }
        let mut valid: CudaSlice<u8> = filled(stream, nullable.len() * rows)?;
        for (slot, flags) in nullable.iter().enumerate() {
            let bytes: Vec<u8> = flags.iter().map(|&v| u8::from(v)).collect();
            stream.memcpy_htod(&bytes, &mut valid.slice_mut(slot * rows..(slot + 1) * rows))?;
        }
        Ok(Columns {
            data,
            valid,
            validity,
            rows,
            unsure: filled(stream, 1)?,
        })
    }
}

/// Each row's slot in the group tables, the tables' capacity, and the hash table (`None`
/// where packed codes index the tables directly).
struct Slotted {
    slots: CudaSlice<u32>,
    capacity: u64,
    table: Option<CudaSlice<u64>>,
}

/// A group-by's keys on the device: a column each to pack, or (too wide to pack) column `k`'s
/// rows at `k * rows` of one buffer, and how many.
enum KeysOnDevice {
    Packed(Vec<CudaSlice<i64>>),
    Rows(CudaSlice<i64>, u32),
}

impl KeysOnDevice {
    fn upload(
        device: &CudaAccelerator,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
    ) -> Result<Self, GpuError> {
        let rows = input.rows;
        Ok(match &input.keys {
            Keys::Packed { columns, .. } => {
                let mut on_device = Vec::with_capacity(columns.len());
                for key in columns {
                    let mut column: CudaSlice<i64> = filled(stream, rows)?;
                    device.upload(stream, key.values, &mut column.slice_mut(..rows))?;
                    on_device.push(column);
                }
                KeysOnDevice::Packed(on_device)
            }
            Keys::Rows(columns) => {
                let mut all: CudaSlice<i64> = filled(stream, columns.len() * rows)?;
                for (k, column) in columns.iter().enumerate() {
                    let mut rows_of_k = all.slice_mut(k * rows..(k + 1) * rows);
                    device.upload(stream, column, &mut rows_of_k)?;
                }
                let count = u32::try_from(columns.len())
                    .map_err(|_| GpuError::Unsupported("too many keys".into()))?;
                KeysOnDevice::Rows(all, count)
            }
        })
    }
}

/// A value an aggregate reads: an input column as it is, or what a program computed.
enum Value {
    Column(usize),
    Computed(CudaSlice<i64>),
}

impl Value {
    /// The values, `rows` long; a column's are in `data` (see [`Columns`]).
    fn view<'a>(&'a self, data: &'a CudaSlice<i64>, rows: usize) -> CudaView<'a, i64> {
        match self {
            Value::Column(c) => data.slice(c * rows..(c + 1) * rows),
            Value::Computed(values) => values.slice(..),
        }
    }
}

/// A result left on the device until the kernels are done: `len` of its values count.
enum Pending {
    I64(CudaSlice<u64>, usize),
    F64(CudaSlice<f64>, usize),
    /// Floats as their total-order keys (float min/max).
    Ordered(CudaSlice<u64>, usize),
    Count(CudaSlice<u64>, usize),
}

impl Pending {
    fn download(self, stream: &Arc<CudaStream>) -> Result<State, GpuError> {
        let cut = |mut v: Vec<u64>, len: usize| {
            v.truncate(len);
            v
        };
        Ok(match self {
            Pending::I64(slice, len) => State::I64(
                cut(stream.clone_dtoh(&slice)?, len)
                    .into_iter()
                    .map(|v| v as i64)
                    .collect(),
            ),
            Pending::F64(slice, len) => {
                let mut values = stream.clone_dtoh(&slice)?;
                values.truncate(len);
                State::F64(values)
            }
            Pending::Ordered(slice, len) => State::F64(
                cut(stream.clone_dtoh(&slice)?, len)
                    .into_iter()
                    .map(|key| super::from_total_order_bits(key as i64))
                    .collect(),
            ),
            Pending::Count(slice, len) => State::Count(cut(stream.clone_dtoh(&slice)?, len)),
        })
    }
}

/// The group codes, left on the device or already on the host.
enum Codes {
    OnDevice(CudaSlice<u64>, usize),
    Host(Vec<u64>),
}

impl Codes {
    fn download(self, stream: &Arc<CudaStream>) -> Result<Vec<u64>, GpuError> {
        Ok(match self {
            Codes::OnDevice(slice, len) => {
                let mut codes = stream.clone_dtoh(&slice)?;
                codes.truncate(len);
                codes
            }
            Codes::Host(codes) => codes,
        })
    }
}

impl CudaAccelerator {
    /// A program's value and validity in each row.
    fn eval(
        &self,
        stream: &Arc<CudaStream>,
        program: &Program,
        columns: &mut Columns,
    ) -> Result<(CudaSlice<i64>, CudaSlice<u8>), GpuError> {
        let n = columns.rows as u64;
        let (ops, args) = program.encode(&columns.validity);
        let len = ops.len() as u32;
        let (ops, args) = (stream.clone_htod(&ops)?, stream.clone_htod(&args)?);
        let mut out: CudaSlice<i64> = filled(stream, columns.rows)?;
        let mut out_valid: CudaSlice<u8> = filled(stream, columns.rows)?;
        launch!(self, stream, "eval_program", rows(n);
            &ops, &args, &len, &columns.data, &columns.valid, &n, &mut out, &mut out_valid,
            &mut columns.unsure);
        Ok((out, out_valid))
    }

    /// Marks the rows `input.filter` drops, so that no aggregation kernel counts them.
    fn drop_filtered(
        &self,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
        columns: &mut Columns,
        slots: &mut CudaSlice<u32>,
    ) -> Result<(), GpuError> {
        let Some(filter) = &input.filter else {
            return Ok(());
        };
        let n = input.rows as u64;
        let (keep, keep_valid) = self.eval(stream, filter, columns)?;
        launch!(self, stream, "drop_unless", rows(n); slots, &keep, &keep_valid, &n);
        Ok(())
    }

    /// The aggregates' values on the device: columns as they are, programs computed.
    fn values(
        &self,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
        columns: &mut Columns,
    ) -> Result<Vec<Value>, GpuError> {
        input
            .values
            .iter()
            .map(|program| match program.as_column() {
                Some(c) => Ok(Value::Column(c)),
                None => Ok(Value::Computed(self.eval(stream, program, columns)?.0)),
            })
            .collect()
    }

    /// Each row's slot in the group tables.
    fn slots(
        &self,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
        keys: &KeysOnDevice,
    ) -> Result<Slotted, GpuError> {
        let n = input.rows as u64;
        let mut slots: CudaSlice<u32> = filled(stream, input.rows)?;
        let hash_table = |stream: &Arc<CudaStream>| -> Result<(u64, CudaSlice<u64>), GpuError> {
            let capacity = (2 * n).next_power_of_two().max(2);
            if capacity > u64::from(u32::MAX) {
                return Err(GpuError::Unsupported(
                    "more than 2^30 rows in one chunk".into(),
                ));
            }
            let mut table: CudaSlice<u64> = filled(stream, capacity as usize)?;
            launch!(self, stream, "fill_u64", rows(capacity); &mut table, &EMPTY, &capacity);
            Ok((capacity, table))
        };
        match (&input.keys, keys) {
            (Keys::Packed { columns, code_bits }, KeysOnDevice::Packed(on_device)) => {
                // Without keys every code stays 0: one group.
                let mut codes: CudaSlice<u64> = filled(stream, input.rows)?;
                for (i, (key, on_device)) in columns.iter().zip(on_device).enumerate() {
                    let first = u32::from(i == 0);
                    launch!(self, stream, "pack_keys", rows(n);
                        on_device, &key.min, &key.shift, &mut codes, &first, &n);
                }
                if *code_bits <= DENSE_BITS {
                    launch!(self, stream, "dense_slots", rows(n); &codes, &mut slots, &n);
                    return Ok(Slotted {
                        slots,
                        capacity: 1u64 << code_bits,
                        table: None,
                    });
                }
                let (capacity, mut table) = hash_table(stream)?;
                let mask = capacity - 1;
                launch!(self, stream, "hash_slots", rows(n);
                    &codes, &mut table, &mut slots, &mask, &n);
                Ok(Slotted {
                    slots,
                    capacity,
                    table: Some(table),
                })
            }
            (Keys::Rows(_), KeysOnDevice::Rows(on_device, count)) => {
                let (capacity, mut table) = hash_table(stream)?;
                let mask = capacity - 1;
                launch!(self, stream, "hash_rows", rows(n);
                    on_device, count, &mut table, &mut slots, &mask, &n);
                Ok(Slotted {
                    slots,
                    capacity,
                    table: Some(table),
                })
            }
            _ => Err(GpuError::Unsupported(
                "keys uploaded in another form".into(),
            )),
        }
    }

    /// The kernels of a group-by over columns already on the device.
    fn aggregate_on(
        &self,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
        kinds: &[Kind],
        keys: &KeysOnDevice,
        columns: &mut Columns,
    ) -> Result<(Codes, Vec<Pending>), GpuError> {
        let n = input.rows as u64;
        let Slotted {
            mut slots,
            capacity,
            table,
        } = self.slots(stream, input, keys)?;
        let dense = table.is_none();
        self.drop_filtered(stream, input, columns, &mut slots)?;
        let values = self.values(stream, input, columns)?;
        if stream.clone_dtoh(&columns.unsure)?[0] != 0 {
            return Err(GpuError::Unsupported(
                "a comparison of a NaN that arithmetic made".into(),
            ));
        }
        let shared = dense && capacity <= SHARED_GROUPS;
        // Few blocks, each over many rows: a block adds its whole table to the global one at
        // its end, so more blocks would mean more global atomics, not fewer.
        let shared_config = LaunchConfig {
            grid_dim: (rows(n).grid_dim.0.min(SHARED_BLOCKS), 1, 1),
            shared_mem_bytes: (capacity * 8) as u32,
            ..rows(n)
        };
        let groups32 = capacity as u32;
        let mut counts: CudaSlice<u64> = filled(stream, capacity as usize)?;
        if shared {
            launch!(self, stream, "count_rows_shared", shared_config;
                &slots, &mut counts, &groups32, &n);
        } else {
            launch!(self, stream, "count_rows", rows(n); &slots, &mut counts, &n);
        }
        // The occupied slots, compacted.
        let mut occupied: CudaSlice<u32> = filled(stream, capacity as usize)?;
        let mut found: CudaSlice<u32> = filled(stream, 1)?;
        launch!(self, stream, "occupied", rows(capacity);
            &counts, &mut occupied, &mut found, &capacity);
        let groups = u64::from(stream.clone_dtoh(&found)?[0]);
        let len = groups as usize;
        let gather_u64 = |from: &CudaSlice<u64>| -> Result<CudaSlice<u64>, GpuError> {
            let mut to: CudaSlice<u64> = filled(stream, len)?;
            launch!(self, stream, "gather_u64", rows(groups); from, &occupied, &mut to, &groups);
            Ok(to)
        };
        let gather_f64 = |from: &CudaSlice<f64>| -> Result<CudaSlice<f64>, GpuError> {
            let mut to: CudaSlice<f64> = filled(stream, len)?;
            launch!(self, stream, "gather_f64", rows(groups); from, &occupied, &mut to, &groups);
            Ok(to)
        };
        let codes = match &table {
            Some(table) => Codes::OnDevice(gather_u64(table)?, len),
            None => {
                let slots = stream.clone_dtoh(&occupied)?;
                Codes::Host(slots[..len].iter().map(|&s| u64::from(s)).collect())
            }
        };
        let mut states = Vec::with_capacity(input.aggregates.len());
        for aggregate in &input.aggregates {
            let value = values
                .get(aggregate.value)
                .map(|v| v.view(&columns.data, columns.rows));
            let state = match (aggregate.reduce, value, kinds.get(aggregate.value)) {
                (Reduce::Count, _, _) | (_, None, _) | (_, _, None) => {
                    Pending::Count(gather_u64(&counts)?, len)
                }
                (reduce, Some(values), Some(Kind::I64)) => {
                    let mut out: CudaSlice<u64> = filled(stream, capacity as usize)?;
                    let start = match reduce {
                        Reduce::Min => i64::MAX as u64,
                        Reduce::Max => i64::MIN as u64,
                        _ => 0,
                    };
                    launch!(self, stream, "fill_u64", rows(capacity); &mut out, &start, &capacity);
                    match reduce {
                        Reduce::Sum if shared => launch!(self, stream, "sum_i64_shared",
                            shared_config; &slots, &values, &mut out, &groups32, &n),
                        Reduce::Sum => launch!(self, stream, "sum_i64", rows(n);
                            &slots, &values, &mut out, &n),
                        Reduce::Min => launch!(self, stream, "min_i64", rows(n);
                            &slots, &values, &mut out, &n),
                        _ => launch!(self, stream, "max_i64", rows(n);
                            &slots, &values, &mut out, &n),
                    }
                    Pending::I64(gather_u64(&out)?, len)
                }
                (Reduce::Sum, Some(values), Some(_)) => {
                    // The kernel reads the bits as doubles.
                    let mut out: CudaSlice<f64> = filled(stream, capacity as usize)?;
                    let unsure = &mut columns.unsure;
                    if shared {
                        launch!(self, stream, "sum_f64_shared", shared_config;
                            &slots, &values, &mut out, unsure, &groups32, &n);
                    } else {
                        launch!(self, stream, "sum_f64", rows(n);
                            &slots, &values, &mut out, unsure, &n);
                    }
                    Pending::F64(gather_f64(&out)?, len)
                }
                (reduce, Some(values), Some(_)) => {
                    let (name, start) = match reduce {
                        Reduce::Min => ("min_f64", super::total_order_bits(f64::MAX)),
                        _ => ("max_f64", super::total_order_bits(f64::MIN)),
                    };
                    let mut out: CudaSlice<u64> = filled(stream, capacity as usize)?;
                    let start = start as u64;
                    launch!(self, stream, "fill_u64", rows(capacity); &mut out, &start, &capacity);
                    launch!(self, stream, name, rows(n);
                        &slots, &values, &mut out, &mut columns.unsure, &n);
                    Pending::Ordered(gather_u64(&out)?, len)
                }
            };
            states.push(state);
        }
        if stream.clone_dtoh(&columns.unsure)?[0] != 0 {
            return Err(GpuError::Unsupported(
                "a NaN in a float sum, or a NaN or -0.0 in a float min/max".into(),
            ));
        }
        Ok((codes, states))
    }
}
