//! The kernels' CUDA C source and its compilation to PTX by NVRTC (no GPU needed to compile).

use cudarc::nvrtc::{CompileOptions, Ptx};

use super::GpuError;

/// Every kernel, one module.
pub const SOURCE: &str = include_str!("kernels.cu");

/// `SOURCE` compiled for `EMBEDDED_ARCH` by NVRTC 12.9, shipped in the binary so that a GPU
/// machine needs only the driver: the driver compiles PTX for its own device. Kept current by
/// the test `embedded_ptx_is_current` (`RUSK_WRITE_PTX=1` rewrites it).
pub const EMBEDDED_PTX: &str = include_str!("kernels.ptx");
pub const EMBEDDED_ARCH: &str = "compute_60";

/// The kernels' names, as the host launches them.
pub const NAMES: &[&str] = &[
    "fill_u64",
    "fill_f64",
    "pack_keys",
    "dense_slots",
    "hash_slots",
    "hash_rows",
    "eval_program",
    "drop_unless",
    "count_rows",
    "sum_i64",
    "sum_f64",
    "min_i64",
    "max_i64",
    "min_f64",
    "max_f64",
    "count_rows_shared",
    "sum_f64_shared",
    "sum_i64_shared",
    "occupied",
    "gather_u64",
    "gather_f64",
    "kmeans_assign",
    "kmeans_accumulate",
    "logistic_terms",
    "regression_sums",
];

/// Whether NVRTC can be loaded (cudarc panics on a call without it).
pub fn compiler_present() -> bool {
    // SAFETY: only tries to open the library by its names; calls nothing in it.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// NVRTC's `--gpu-architecture` for a compute capability. Double-precision `atomicAdd`
/// needs 6.0.
pub fn architecture(major: i32, minor: i32) -> Result<&'static str, GpuError> {
    Ok(match (major, minor) {
        (6, 0) => "compute_60",
        (6, _) => "compute_61",
        (7, 0) => "compute_70",
        (7, 2) => "compute_72",
        (7, _) => "compute_75",
        (8, 0) => "compute_80",
        (8, 6) => "compute_86",
        (8, 7) => "compute_87",
        (8, _) => "compute_89",
        (9, _) => "compute_90",
        (10, _) => "compute_100",
        (12, _) => "compute_120",
        _ => {
            return Err(GpuError::Unsupported(format!(
                "compute capability {major}.{minor} (6.0 or newer is needed)"
            )));
        }
    })
}

/// The kernels for a device of compute capability `(major, minor)`: compiled for it where
/// NVRTC is present, else the embedded PTX.
pub fn for_device(major: i32, minor: i32) -> Result<Ptx, GpuError> {
    let arch = architecture(major, minor)?;
    if compiler_present() {
        match compile(arch) {
            Ok(ptx) => return Ok(ptx),
            Err(error) => tracing::warn!(%error, "NVRTC failed; using the PTX in the binary"),
        }
    }
    Ok(Ptx::from_src(EMBEDDED_PTX))
}

/// The kernels as PTX for `arch` (e.g. `compute_90`).
pub fn compile(arch: &'static str) -> Result<Ptx, GpuError> {
    if !compiler_present() {
        return Err(GpuError::NoCompiler);
    }
    // No fused multiply-adds: k-means distances then round as the CPU's do, so both assign
    // the same labels.
    let options = CompileOptions {
        arch: Some(arch),
        fmad: Some(false),
        name: Some("rusk_kernels.cu".into()),
        ..CompileOptions::default()
    };
    cudarc::nvrtc::compile_ptx_with_opts(SOURCE, options)
        .map_err(|error| GpuError::Compile(format!("{error:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_NVRTC: &str = "NVRTC (libnvrtc.so.12) is not on LD_LIBRARY_PATH: pip install \
        nvidia-cuda-nvrtc-cu12==12.9.86 and add its site-packages/nvidia/cuda_nvrtc/lib";

    /// Every kernel compiles to PTX for the architectures Rusk targets, and the PTX has each
    /// kernel the host launches. Needs NVRTC: `.ci/run` installs the `nvidia-cuda-nvrtc-cu12`
    /// wheel and puts its library on `LD_LIBRARY_PATH`.
    #[test]
    #[ignore = "needs NVRTC (libnvrtc.so.12 from the nvidia-cuda-nvrtc-cu12 wheel) on LD_LIBRARY_PATH"]
    fn kernels_compile_to_ptx() {
        assert!(compiler_present(), "{NO_NVRTC}");
        for arch in ["compute_60", "compute_80", "compute_90"] {
            let ptx = compile(arch)
                .unwrap_or_else(|e| panic!("{arch}: {e}"))
                .to_src();
            assert!(
                ptx.contains(&format!(".target sm_{}", &arch[8..])),
                "{arch}"
            );
            for name in NAMES {
                assert!(
                    ptx.contains(&format!(".entry {name}(")),
                    "{arch}: no kernel {name} in the PTX"
                );
            }
        }
    }

    /// The PTX in the binary is what NVRTC makes of the source today (comment lines aside:
    /// they name the compiler's build).
    #[test]
    #[ignore = "needs NVRTC (libnvrtc.so.12 from the nvidia-cuda-nvrtc-cu12 wheel) on LD_LIBRARY_PATH"]
    fn embedded_ptx_is_current() {
        assert!(compiler_present(), "{NO_NVRTC}");
        let fresh = compile(EMBEDDED_ARCH).unwrap().to_src();
        if std::env::var_os("RUSK_WRITE_PTX").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/gpu/kernels.ptx");
            std::fs::write(path, &fresh).unwrap();
            return;
        }
        let code = |ptx: &str| -> Vec<String> {
            ptx.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(str::to_string)
                .collect()
        };
        assert!(
            code(&fresh) == code(EMBEDDED_PTX),
            "src/gpu/kernels.ptx is stale: run RUSK_WRITE_PTX=1 cargo test embedded_ptx_is_current"
        );
    }

    #[test]
    #[ignore = "needs NVRTC (libnvrtc.so.12 from the nvidia-cuda-nvrtc-cu12 wheel) on LD_LIBRARY_PATH"]
    fn a_broken_kernel_is_an_error_with_the_log() {
        assert!(compiler_present(), "{NO_NVRTC}");
        let options = CompileOptions {
            arch: Some("compute_80"),
            ..CompileOptions::default()
        };
        let error = cudarc::nvrtc::compile_ptx_with_opts("__global__ void f() { x = 1; }", options)
            .unwrap_err();
        let log = format!("{error:?}");
        assert!(log.contains("is undefined"), "{log}");
    }

    #[test]
    fn architectures() {
        assert_eq!(architecture(9, 0).unwrap(), "compute_90");
        assert_eq!(architecture(8, 0).unwrap(), "compute_80");
        assert!(architecture(5, 2).is_err());
    }
}
