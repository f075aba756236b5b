//! Linear and binary logistic regression with an intercept, the heavy part on a device: the
//! sums over the rows (`Σ w x̃ x̃ᵀ` and `Σ r x̃`, with `x̃ = [1, x]`) come from an
//! accelerator's [`Rows`]; the small system they make is solved here, on the host.
//!
//! Linear: the normal equations `Σ x̃ x̃ᵀ β = Σ y x̃`. Logistic: Newton's method on
//! scikit-learn's (and smartcore's) objective `Σ log(1 + e^{x̃β}) - y x̃β + ½ l2 ‖β‖²`, the
//! intercept not penalised: each step's Hessian is `Σ p(1-p) x̃ x̃ᵀ + l2 I'` and its gradient
//! `Σ (p - y) x̃ + l2 β'`.

use super::GpuError;

/// The sums over the rows one step needs: `gram` the upper triangle of `Σ w x̃ x̃ᵀ` packed by
/// rows (`(0,0) (0,1) … (0,m-1) (1,1) …`), `moment` the vector `Σ r x̃`; `m = dims + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sums {
    pub gram: Vec<f64>,
    pub moment: Vec<f64>,
}

/// What a fit asks of the rows.
pub trait Rows {
    /// `w = 1`, `r = y`.
    fn linear(&mut self) -> Result<Sums, GpuError>;
    /// With `p = σ(x̃ β)`: `w = p (1 - p)`, `r = p - y` (`y` is 0 or 1).
    fn logistic(&mut self, beta: &[f64]) -> Result<Sums, GpuError>;
}

/// Which regression, with its settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regression {
    Linear,
    /// `l2` is scikit-learn's `1 / C`.
    Logistic {
        l2: f64,
        max_iter: usize,
    },
}

/// A fitted regression: `beta[0]` the intercept, then one coefficient per feature; Newton
/// steps taken (1 for a linear fit).
#[derive(Debug, Clone, PartialEq)]
pub struct Coefficients {
    pub beta: Vec<f64>,
    pub iterations: usize,
}

/// Newton's method stops once no coefficient moves by more than this (relative).
const TOLERANCE: f64 = 1e-10;

pub fn fit(
    rows: &mut dyn Rows,
    dims: usize,
    regression: Regression,
) -> Result<Coefficients, GpuError> {
    let m = dims + 1;
    match regression {
        Regression::Linear => {
            let sums = rows.linear()?;
            let beta = solve(&unpack(&sums.gram, m), &sums.moment, m).ok_or_else(singular)?;
            Ok(Coefficients {
                beta,
                iterations: 1,
            })
        }
        Regression::Logistic { l2, max_iter } => {
            let mut beta = vec![0.0; m];
            for iteration in 1..=max_iter.max(1) {
                let sums = rows.logistic(&beta)?;
                let mut hessian = unpack(&sums.gram, m);
                let mut gradient = sums.moment;
                for j in 1..m {
                    hessian[j * m + j] += l2;
                    gradient[j] += l2 * beta[j];
                }
                let step = solve(&hessian, &gradient, m).ok_or_else(singular)?;
                let largest = beta.iter().fold(1.0f64, |a, b| a.max(b.abs()));
                let moved = step.iter().fold(0.0f64, |a, s| a.max(s.abs()));
                beta.iter_mut().zip(&step).for_each(|(b, s)| *b -= s);
                if !moved.is_finite() {
                    return Err(GpuError::Unsupported("Newton's method diverged".into()));
                }
                if moved <= TOLERANCE * largest {
                    return Ok(Coefficients {
                        beta,
                        iterations: iteration,
                    });
                }
            }
            Err(GpuError::Unsupported(format!(
                "Newton's method did not converge in {} steps",
                max_iter.max(1)
            )))
        }
    }
}

fn singular() -> GpuError {
    GpuError::Unsupported("the features are collinear (a singular system)".into())
}

/// Number of packed entries of an `m × m` upper triangle.
pub fn packed_len(m: usize) -> usize {
    m * (m + 1) / 2
}

/// The full symmetric matrix (row-major) from its packed upper triangle.
fn unpack(packed: &[f64], m: usize) -> Vec<f64> {
    let mut full = vec![0.0; m * m];
    let mut e = 0;
    for a in 0..m {
        for b in a..m {
            full[a * m + b] = packed[e];
            full[b * m + a] = packed[e];
            e += 1;
        }
    }
    full
}

/// `x` with `a x = b` for a symmetric positive definite `a` (Cholesky); `None` where `a` is
/// not (numerically) positive definite.
fn solve(a: &[f64], b: &[f64], m: usize) -> Option<Vec<f64>> {
    // a = l lᵀ, l lower triangular.
    let mut l = vec![0.0; m * m];
    let scale = (0..m).fold(0.0f64, |s, i| s.max(a[i * m + i].abs()));
    for i in 0..m {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * m + k] * l[j * m + k]).sum();
            if i == j {
                let pivot = a[i * m + i] - dot;
                if pivot.is_nan() || pivot <= scale * 1e-13 {
                    return None;
                }
                l[i * m + i] = pivot.sqrt();
            } else {
                l[i * m + j] = (a[i * m + j] - dot) / l[j * m + j];
            }
        }
    }
    // l y = b, then lᵀ x = y.
    let mut y = vec![0.0; m];
    for i in 0..m {
        let dot: f64 = (0..i).map(|k| l[i * m + k] * y[k]).sum();
        y[i] = (b[i] - dot) / l[i * m + i];
    }
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        let dot: f64 = (i + 1..m).map(|k| l[k * m + i] * x[k]).sum();
        x[i] = (y[i] - dot) / l[i * m + i];
    }
    Some(x)
}

/// The sums on the CPU (row-major `points`, `dims` a row): the reference a device's kernels
/// must agree with.
pub struct HostRows<'a> {
    pub points: &'a [f64],
    pub dims: usize,
    pub targets: &'a [f64],
}

impl HostRows<'_> {
    fn sums(&self, terms: impl Fn(usize, &[f64]) -> (f64, f64)) -> Sums {
        let m = self.dims + 1;
        let mut gram = vec![0.0; packed_len(m)];
        let mut moment = vec![0.0; m];
        let mut x = vec![1.0; m];
        for (i, row) in self.points.chunks_exact(self.dims.max(1)).enumerate() {
            x[1..].copy_from_slice(row);
            let (w, r) = terms(i, &x);
            let mut e = 0;
            for a in 0..m {
                moment[a] += r * x[a];
                for b in a..m {
                    gram[e] += w * x[a] * x[b];
                    e += 1;
                }
            }
        }
        Sums { gram, moment }
    }
}

impl Rows for HostRows<'_> {
    fn linear(&mut self) -> Result<Sums, GpuError> {
        Ok(self.sums(|i, _| (1.0, self.targets[i])))
    }

    fn logistic(&mut self, beta: &[f64]) -> Result<Sums, GpuError> {
        Ok(self.sums(|i, x| {
            let z: f64 = x.iter().zip(beta).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            (p * (1.0 - p), p - self.targets[i])
        }))
    }
}

/// Features a device fit takes at most: the system is `(dims + 1)²`, solved on the host.
pub const MAX_FEATURES: usize = 4096;

/// Refuses a fit the kernels cannot run: no rows, no features or more than
/// [`MAX_FEATURES`], or rows and targets that disagree.
pub fn check(points: &[f64], dims: usize, targets: &[f64]) -> Result<(), GpuError> {
    let shaped = dims > 0 && points.len() == dims * targets.len();
    if !shaped || targets.is_empty() || dims > MAX_FEATURES {
        return Err(GpuError::Unsupported(format!(
            "a regression of {} values in {dims} dimensions on {} targets",
            points.len(),
            targets.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linear_fit_recovers_exact_coefficients() {
        // y = 3 + 2 a - b, exactly.
        let points: Vec<f64> = (0..50)
            .flat_map(|i| [f64::from(i), f64::from((i * 7) % 11)])
            .collect();
        let targets: Vec<f64> = points
            .chunks_exact(2)
            .map(|p| 3.0 + 2.0 * p[0] - p[1])
            .collect();
        let mut rows = HostRows {
            points: &points,
            dims: 2,
            targets: &targets,
        };
        let fit = fit(&mut rows, 2, Regression::Linear).unwrap();
        for (got, want) in fit.beta.iter().zip([3.0, 2.0, -1.0]) {
            assert!((got - want).abs() < 1e-9, "{:?}", fit.beta);
        }
        // A feature that repeats another: singular, left to the CPU's solver.
        let twice: Vec<f64> = (0..50).flat_map(|i| [f64::from(i), f64::from(i)]).collect();
        let mut rows = HostRows {
            points: &twice,
            dims: 2,
            targets: &targets,
        };
        assert!(super::fit(&mut rows, 2, Regression::Linear).is_err());
    }

    #[test]
    fn a_logistic_fit_zeroes_the_penalised_gradient() {
        let points: Vec<f64> = (0..200).map(|i| f64::from(i % 40) / 10.0 - 2.0).collect();
        let targets: Vec<f64> = (0..200)
            .map(|i| f64::from(u8::from((i % 40 + i % 7) > 22)))
            .collect();
        let mut rows = HostRows {
            points: &points,
            dims: 1,
            targets: &targets,
        };
        let l2 = 0.5;
        let fit = fit(&mut rows, 1, Regression::Logistic { l2, max_iter: 100 }).unwrap();
        assert!(fit.iterations < 20, "{fit:?}");
        // The objective's gradient, computed here from the data, vanishes at the answer.
        let mut gradient = [0.0, l2 * fit.beta[1]];
        for (x, y) in points.iter().zip(&targets) {
            let p = 1.0 / (1.0 + (-(fit.beta[0] + fit.beta[1] * x)).exp());
            gradient[0] += p - y;
            gradient[1] += (p - y) * x;
        }
        assert!(gradient.iter().all(|g| g.abs() < 1e-8), "{gradient:?}");
    }
}
