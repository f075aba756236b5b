//! Gathers the training frame from the pipeline's stream within the memory a model may use.
//!
//! `sample: N` keeps the N rows whose seeded row hash is smallest (a bottom-k sample), holding
//! at most 2N rows at a time, so a frame of any size can be sampled. The frame is then put in
//! hash order, which makes the split, the folds and so the model depend only on the data and
//! the seed, not on the order in which partitions happened to deliver their rows.

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};

use super::{MAX_ROWS, MlError};

/// Seeds the hash that orders an unsampled frame; any fixed value does.
const ORDER_SEED: u64 = 0x52_75_73_6B;

pub struct Collector {
    schema: SchemaRef,
    /// The sample size asked for, if any.
    sample: Option<usize>,
    seed: u64,
    /// Bytes the frame may take in memory.
    budget: usize,
    kept: Vec<RecordBatch>,
    /// Each kept row's hash (seeded when sampling), in the order of `kept`.
    keys: Vec<u64>,
    /// Rows hashing at or above this are not in the sample (once it is full).
    threshold: u64,
    rows_seen: usize,
    bytes: usize,
}

impl Collector {
    pub fn new(
        schema: SchemaRef,
        sample: Option<usize>,
        seed: u64,
        budget: usize,
    ) -> Result<Collector, MlError> {
        if let Some(n) = sample
            && n > MAX_ROWS
        {
            return Err(MlError::Input(format!(
                "ml.sample is {n}; models train in memory on at most {MAX_ROWS} rows"
            )));
        }
        Ok(Collector {
            schema,
            sample,
            seed,
            budget,
            kept: Vec::new(),
            keys: Vec::new(),
            threshold: u64::MAX,
            rows_seen: 0,
            bytes: 0,
        })
    }

    /// Takes the next batch; fails as soon as the frame cannot fit.
    pub fn push(&mut self, batch: RecordBatch) -> Result<(), MlError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows_seen += batch.num_rows();
        let Some(n) = self.sample else {
            if self.rows_seen > MAX_ROWS {
                return Err(MlError::Input(format!(
                    "the frame has more than {MAX_ROWS} rows; models train in memory on at \
                     most that many: set ml.sample to train on a random sample"
                )));
            }
            self.keys.extend(row_hashes(&batch, ORDER_SEED)?);
            return self.keep(batch);
        };
        let keys = row_hashes(&batch, self.seed)?;
        let chosen: Vec<u32> = (0..keys.len() as u32)
            .filter(|&i| keys[i as usize] < self.threshold)
            .collect();
        if chosen.is_empty() {
            return Ok(());
        }
        let batch = take_rows(&batch, &chosen)?;
        self.keys.extend(chosen.iter().map(|&i| keys[i as usize]));
        self.keep(batch)?;
        if self.keys.len() >= 2 * n.max(1024) {
            self.shrink_to(n)?;
        }
        Ok(())
    }

    fn keep(&mut self, batch: RecordBatch) -> Result<(), MlError> {
        self.bytes += batch.get_array_memory_size();
        if self.bytes > self.budget {
            return Err(MlError::Input(format!(
                "the frame passed {} bytes after {} rows; ML jobs hold their data in memory \
                 (at most half the memory limit, {} bytes): select fewer columns, or sample \
                 fewer rows",
                self.bytes, self.rows_seen, self.budget
            )));
        }
        self.kept.push(batch);
        Ok(())
    }

    /// Keeps the `n` rows with the smallest hashes.
    fn shrink_to(&mut self, n: usize) -> Result<(), MlError> {
        let frame = self.concat()?;
        let mut order: Vec<u32> = (0..self.keys.len() as u32).collect();
        if order.len() > n {
            order.select_nth_unstable_by_key(n, |&i| self.keys[i as usize]);
            order.truncate(n);
            self.threshold = order
                .iter()
                .map(|&i| self.keys[i as usize])
                .max()
                .unwrap_or(u64::MAX);
        }
        order.sort_unstable();
        let frame = take_rows(&frame, &order)?;
        self.keys = order.iter().map(|&i| self.keys[i as usize]).collect();
        self.bytes = frame.get_array_memory_size();
        self.kept = vec![frame];
        Ok(())
    }

    fn concat(&self) -> Result<RecordBatch, MlError> {
        concat_batches(&self.schema, &self.kept).map_err(|e| MlError::Input(e.to_string()))
    }

    /// The frame (the sample, when one was asked for), in row-hash order.
    pub fn finish(mut self) -> Result<RecordBatch, MlError> {
        if let Some(n) = self.sample {
            self.shrink_to(n)?;
        }
        let frame = self.concat()?;
        let mut order: Vec<u32> = (0..frame.num_rows() as u32).collect();
        order.sort_by_key(|&i| self.keys[i as usize]);
        take_rows(&frame, &order)
    }
}

pub fn take_rows(frame: &RecordBatch, indices: &[u32]) -> Result<RecordBatch, MlError> {
    let indices = UInt32Array::from(indices.to_vec());
    let columns = frame
        .columns()
        .iter()
        .map(|c| take(c, &indices, None))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| MlError::Input(e.to_string()))?;
    RecordBatch::try_new(frame.schema(), columns).map_err(|e| MlError::Input(e.to_string()))
}

/// A seeded 64-bit hash of each row's values (all columns), stable across runs and machines.
fn row_hashes(batch: &RecordBatch, seed: u64) -> Result<Vec<u64>, MlError> {
    let fields = batch
        .schema()
        .fields()
        .iter()
        .map(|f| SortField::new(f.data_type().clone()))
        .collect();
    let converter = RowConverter::new(fields).map_err(|e| MlError::Input(e.to_string()))?;
    let rows = converter
        .convert_columns(batch.columns())
        .map_err(|e| MlError::Input(e.to_string()))?;
    Ok(rows
        .iter()
        .map(|row| hash_bytes(row.as_ref(), seed))
        .collect())
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    let mut h = mix(seed ^ 0x9E37_79B9_7F4A_7C15);
    for chunk in bytes.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = mix(h ^ u64::from_le_bytes(word));
    }
    mix(h ^ bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(values: impl Iterator<Item = i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(values))]).unwrap()
    }

    fn values(frame: &RecordBatch) -> Vec<i64> {
        let column = frame
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap();
        (0..column.len()).map(|i| column.value(i)).collect()
    }

    fn collect(batches: Vec<RecordBatch>, sample: Option<usize>, seed: u64) -> Vec<i64> {
        let mut collector = Collector::new(batches[0].schema(), sample, seed, usize::MAX).unwrap();
        for b in batches {
            collector.push(b).unwrap();
        }
        values(&collector.finish().unwrap())
    }

    #[test]
    fn a_sample_does_not_depend_on_how_the_rows_arrive() {
        let whole = vec![batch(0..50_000)];
        let split = vec![
            batch((25_000..50_000).rev()),
            batch(0..10_000),
            batch(10_000..25_000),
        ];
        let a = collect(whole, Some(3000), 7);
        assert_eq!(a.len(), 3000);
        assert_eq!(a, collect(split, Some(3000), 7));
        let mut other = collect(vec![batch(0..50_000)], Some(3000), 8);
        let mut same = a.clone();
        same.sort_unstable();
        other.sort_unstable();
        assert_ne!(same, other, "another seed, another sample");
        // Roughly uniform: about 3000 × 25,000 / 50,000 rows below the middle.
        let low = a.iter().filter(|v| **v < 25_000).count();
        assert!((1300..1700).contains(&low), "{low}");
    }

    #[test]
    fn a_whole_frame_comes_back_in_one_order_however_it_arrives() {
        let a = collect(vec![batch(0..5000)], None, 0);
        let b = collect(vec![batch((2000..5000).rev()), batch(0..2000)], None, 0);
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..5000).collect::<Vec<_>>());
    }

    #[test]
    fn frames_beyond_the_memory_budget_are_refused_early() {
        let schema = batch(0..1).schema();
        let mut collector = Collector::new(schema, None, 0, 100_000).unwrap();
        let error = (0..100)
            .map(|i| collector.push(batch(i * 1000..(i + 1) * 1000)))
            .find_map(Result::err)
            .expect("refused");
        assert!(error.to_string().contains("memory"), "{error}");
    }
}
