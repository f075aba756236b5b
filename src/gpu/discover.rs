//! Which devices a worker uses: `RUSK_GPUS` (`all`, `none`, or device numbers) over what the
//! driver reports.

use std::sync::Arc;

use super::cuda::CudaAccelerator;
use super::reference::CpuStub;
use super::{Accelerator, Devices, GpuError};

/// The devices to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    /// Every CUDA device present (none where there is no driver).
    #[default]
    All,
    None,
    /// These device numbers; a number the machine lacks stops the worker at start.
    Only(Vec<usize>),
    /// One CPU stand-in device: the tests' seam for GPU scheduling and operator choice. Not
    /// reachable from `RUSK_GPUS`.
    TestStub,
}

impl std::str::FromStr for Selection {
    type Err = GpuError;

    fn from_str(text: &str) -> Result<Selection, GpuError> {
        match text.trim() {
            "" | "all" => Ok(Selection::All),
            "none" => Ok(Selection::None),
            list => list
                .split(',')
                .map(|n| n.trim().parse::<usize>())
                .collect::<Result<Vec<_>, _>>()
                .map(Selection::Only)
                .map_err(|_| GpuError::Selection(text.to_string())),
        }
    }
}

/// Opens the selected devices, each limited to `memory_limit` bytes per operator (`None`:
/// half of its free memory).
pub fn open(selection: &Selection, memory_limit: Option<u64>) -> Result<Devices, GpuError> {
    let wanted: Vec<usize> = match selection {
        Selection::None => return Ok(Devices::default()),
        Selection::TestStub => {
            let stub: Arc<dyn Accelerator> = Arc::new(CpuStub::new(memory_limit));
            return Ok(Devices::new(vec![stub]));
        }
        Selection::All => (0..device_count()?).collect(),
        Selection::Only(indices) => {
            let present = device_count()?;
            if let Some(&index) = indices.iter().find(|&&i| i >= present) {
                return Err(GpuError::NoSuchDevice { index, present });
            }
            indices.clone()
        }
    };
    let mut devices: Vec<Arc<dyn Accelerator>> = Vec::new();
    for index in wanted {
        devices.push(Arc::new(CudaAccelerator::open(index, memory_limit)?));
    }
    Ok(Devices::new(devices))
}

/// The CUDA driver's version (e.g. 13000 for 13.0), where a driver is present.
pub fn driver_version() -> Option<i32> {
    super::cuda::driver_present()
        .then(super::cuda::driver_version)
        .flatten()
}

/// CUDA devices present; 0 without a driver (cudarc panics if asked without one).
fn device_count() -> Result<usize, GpuError> {
    if !super::cuda::driver_present() {
        return Ok(0);
    }
    super::cuda::device_count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_parse() {
        assert_eq!("all".parse::<Selection>().unwrap(), Selection::All);
        assert_eq!("none".parse::<Selection>().unwrap(), Selection::None);
        assert_eq!(
            "0, 2".parse::<Selection>().unwrap(),
            Selection::Only(vec![0, 2])
        );
        assert!(matches!(
            "gpu0".parse::<Selection>(),
            Err(GpuError::Selection(_))
        ));
    }

    #[test]
    fn no_driver_means_no_devices_and_no_panic() {
        if super::super::cuda::driver_present() {
            eprintln!("a CUDA driver is present here: this test is for machines without one");
            return;
        }
        assert!(open(&Selection::All, None).unwrap().is_empty());
        assert!(matches!(
            open(&Selection::Only(vec![0]), None),
            Err(GpuError::NoSuchDevice {
                index: 0,
                present: 0
            })
        ));
    }
}
