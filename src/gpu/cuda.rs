//! The CUDA device: discovery through the driver API, and the kernels launched on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DeviceRepr, DriverError,
    LaunchConfig, PushKernelArg, ValidAsZeroBits,
};

use super::kernels;
use super::{
    Accelerator, Bandwidth, DeviceInfo, DeviceKind, GpuError, GroupInput, Groups, KMeansFit,
    Reduce, State, Timings, Values,
};

/// Group codes of at most this many bits index the state arrays directly (no hash table).
const DENSE_BITS: u32 = 20;
/// Dense tables this small are reduced in each block's shared memory first.
const SHARED_GROUPS: u64 = 2048;
/// Blocks of a shared-memory reduction: a few per multiprocessor of a large device.
const SHARED_BLOCKS: u32 = 1024;
const EMPTY: u64 = u64::MAX;

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
        if input.code_bits > 63 {
            return Err(GpuError::Unsupported(
                "group codes wider than 63 bits".into(),
            ));
        }
        let float_extreme = input.aggregates.iter().any(|a| {
            matches!(a.reduce, Reduce::Min | Reduce::Max)
                && matches!(input.values.get(a.column), Some(Values::F64(_)))
        });
        if float_extreme {
            return Err(GpuError::Unsupported("min/max of floats".into()));
        }
        if input.rows == 0 {
            let empty = input.aggregates.iter().map(|_| State::Count(Vec::new()));
            return Ok(Groups {
                codes: Vec::new(),
                states: empty.collect(),
                timings: None,
            });
        }
        self.usable()?;
        let result = self.group_aggregate_on_device(input);
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

    fn group_aggregate_on_device(&self, input: &GroupInput<'_>) -> Result<Groups, GpuError> {
        let stream = self.ctx.new_stream()?;
        let started = Instant::now();
        let keys = input
            .keys
            .iter()
            .map(|key| stream.clone_htod(key.values))
            .collect::<Result<Vec<_>, _>>()?;
        let values = input
            .values
            .iter()
            .map(|values| {
                Ok(match values {
                    Values::I64(v) => OnDevice::I64(stream.clone_htod(*v)?),
                    Values::F64(v) => OnDevice::F64(stream.clone_htod(*v)?),
                })
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        let conditions = input
            .filter
            .iter()
            .map(|condition| stream.clone_htod(condition.column))
            .collect::<Result<Vec<_>, _>>()?;
        stream.synchronize()?;
        let uploaded = Instant::now();
        let (codes, states) = self.aggregate_on(&stream, input, &keys, &values, &conditions)?;
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
        Ok(Bandwidth {
            pinned_gb_s: rate(time(true)?),
            pageable_gb_s: rate(time(false)?),
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

/// A value column on the device.
enum OnDevice {
    I64(CudaSlice<i64>),
    F64(CudaSlice<f64>),
}

/// A result left on the device until the kernels are done: `len` of its values count.
enum Pending {
    I64(CudaSlice<u64>, usize),
    F64(CudaSlice<f64>, usize),
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
    /// Marks the rows `input.filter` drops, so that no aggregation kernel counts them.
    fn drop_filtered(
        &self,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
        conditions: &[CudaSlice<i64>],
        slots: &mut CudaSlice<u32>,
    ) -> Result<(), GpuError> {
        if input.filter.is_empty() {
            return Ok(());
        }
        let n = input.rows as u64;
        let mut keep: CudaSlice<u8> = filled(stream, input.rows)?;
        for (i, (condition, column)) in input.filter.iter().zip(conditions).enumerate() {
            let first = u32::from(i == 0);
            let op = condition.op.code();
            launch!(self, stream, "keep_i64", rows(n);
                column, &op, &condition.literal, &mut keep, &first, &n);
        }
        launch!(self, stream, "drop_rows", rows(n); slots, &keep, &n);
        Ok(())
    }

    /// The kernels of a group-by over columns already on the device.
    fn aggregate_on(
        &self,
        stream: &Arc<CudaStream>,
        input: &GroupInput<'_>,
        keys: &[CudaSlice<i64>],
        values: &[OnDevice],
        conditions: &[CudaSlice<i64>],
    ) -> Result<(Codes, Vec<Pending>), GpuError> {
        let n = input.rows as u64;
        // Without keys every code stays 0: one group.
        let mut codes: CudaSlice<u64> = filled(stream, input.rows)?;
        for (i, (key, on_device)) in input.keys.iter().zip(keys).enumerate() {
            let first = u32::from(i == 0);
            launch!(self, stream, "pack_keys", rows(n);
                on_device, &key.min, &key.shift, &mut codes, &first, &n);
        }
        let mut slots: CudaSlice<u32> = filled(stream, input.rows)?;
        let dense = input.code_bits <= DENSE_BITS;
        let (capacity, table) = if dense {
            launch!(self, stream, "dense_slots", rows(n); &codes, &mut slots, &n);
            (1u64 << input.code_bits, None)
        } else {
            let capacity = (2 * n).next_power_of_two().max(2);
            if capacity > u64::from(u32::MAX) {
                return Err(GpuError::Unsupported(
                    "more than 2^30 rows in one chunk".into(),
                ));
            }
            let mut table: CudaSlice<u64> = filled(stream, capacity as usize)?;
            launch!(self, stream, "fill_u64", rows(capacity); &mut table, &EMPTY, &capacity);
            let mask = capacity - 1;
            launch!(self, stream, "hash_slots", rows(n); &codes, &mut table, &mut slots, &mask, &n);
            (capacity, Some(table))
        };
        drop(codes);
        self.drop_filtered(stream, input, conditions, &mut slots)?;
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
            let state = match (aggregate.reduce, values.get(aggregate.column)) {
                (Reduce::Count, _) | (_, None) => Pending::Count(gather_u64(&counts)?, len),
                (reduce, Some(OnDevice::I64(values))) => {
                    let mut out: CudaSlice<u64> = filled(stream, capacity as usize)?;
                    let start = match reduce {
                        Reduce::Min => i64::MAX as u64,
                        Reduce::Max => i64::MIN as u64,
                        _ => 0,
                    };
                    launch!(self, stream, "fill_u64", rows(capacity); &mut out, &start, &capacity);
                    match reduce {
                        Reduce::Sum if shared => launch!(self, stream, "sum_i64_shared",
                            shared_config; &slots, values, &mut out, &groups32, &n),
                        Reduce::Sum => launch!(self, stream, "sum_i64", rows(n);
                            &slots, values, &mut out, &n),
                        Reduce::Min => launch!(self, stream, "min_i64", rows(n);
                            &slots, values, &mut out, &n),
                        _ => launch!(self, stream, "max_i64", rows(n);
                            &slots, values, &mut out, &n),
                    }
                    Pending::I64(gather_u64(&out)?, len)
                }
                (Reduce::Sum, Some(OnDevice::F64(values))) => {
                    let mut out: CudaSlice<f64> = filled(stream, capacity as usize)?;
                    if shared {
                        launch!(self, stream, "sum_f64_shared", shared_config;
                            &slots, values, &mut out, &groups32, &n);
                    } else {
                        launch!(self, stream, "sum_f64", rows(n); &slots, values, &mut out, &n);
                    }
                    Pending::F64(gather_f64(&out)?, len)
                }
                (_, Some(OnDevice::F64(_))) => {
                    return Err(GpuError::Unsupported("min/max of floats".into()));
                }
            };
            states.push(state);
        }
        stream.synchronize()?;
        Ok((codes, states))
    }
}
