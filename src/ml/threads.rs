//! Independent pieces of one fit (a forest's trees, a booster per class) on several threads.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::MlError;

/// `work(0..n)` on up to `threads` threads (the caller's among them), in index order. The
/// answer depends on `n` alone, never on how many threads ran it.
pub fn in_parallel<T: Send>(
    n: usize,
    threads: usize,
    work: impl Fn(usize) -> Result<T, MlError> + Sync,
) -> Result<Vec<T>, MlError> {
    let next = AtomicUsize::new(0);
    let take = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, work(i)));
        }
    };
    let mut done = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.clamp(1, n.max(1)))
            .map(|_| scope.spawn(take))
            .collect();
        let mut done = take();
        for helper in helpers {
            match helper.join() {
                Ok(theirs) => done.extend(theirs),
                Err(_) => return Err(MlError::Fit("a training thread panicked".into())),
            }
        }
        Ok(done)
    })?;
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_in_index_order_whatever_the_threads() {
        let squares = |threads| in_parallel(50, threads, |i| Ok(i * i)).unwrap();
        let expected: Vec<usize> = (0..50).map(|i| i * i).collect();
        for threads in [0, 1, 2, 7, 64] {
            assert_eq!(squares(threads), expected, "{threads} threads");
        }
        assert!(in_parallel(0, 4, Ok).unwrap().is_empty());
    }

    #[test]
    fn an_error_in_any_piece_is_the_answer() {
        let result = in_parallel(20, 3, |i| {
            if i == 13 {
                Err(MlError::Fit("thirteen".into()))
            } else {
                Ok(i)
            }
        });
        assert!(matches!(result, Err(MlError::Fit(m)) if m == "thirteen"));
    }
}
