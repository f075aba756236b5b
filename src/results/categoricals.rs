//! Categorical (dictionary-typed) columns, as pandas `category` columns and Parquet
//! dictionaries arrive: DataFusion hands them on with a dictionary per batch, often with
//! repeated values (concatenation appends dictionaries). Before encoding, each column is given
//! one dictionary that only grows, without duplicates, and `int32` keys: an Arrow IPC file then
//! needs delta dictionaries only (never a replacement), and pandas gets unique categories.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, Int32Array, RecordBatch};
use arrow::compute::{concat, take};
use arrow::datatypes::{DataType, Int32Type, SchemaRef, UInt32Type};
use arrow::error::ArrowError;
use arrow::row::{OwnedRow, RowConverter, SortField};

/// The type a categorical column is written as: its values' type, with `int32` keys.
pub(super) fn unified_type(data_type: &DataType) -> Option<DataType> {
    match data_type {
        DataType::Dictionary(_, values) => Some(DataType::Dictionary(
            Box::new(DataType::Int32),
            values.clone(),
        )),
        _ => None,
    }
}

/// `schema` with every categorical column's keys as `int32`.
fn unified_schema(schema: &SchemaRef) -> SchemaRef {
    super::retyped(schema, unified_type).map_or_else(|| schema.clone(), Arc::new)
}

/// The running dictionaries of one output (a file or a download).
pub struct Dictionaries {
    schema: SchemaRef,
    /// One per column; `None` for columns that are not categorical.
    columns: Vec<Option<Dictionary>>,
}

impl Dictionaries {
    /// Dictionaries for batches of `schema` (as the plan gives them).
    pub fn new(schema: &SchemaRef) -> Result<Dictionaries, ArrowError> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Dictionary(_, values) => Dictionary::new(values).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<_, _>>()?;
        Ok(Dictionaries {
            schema: unified_schema(schema),
            columns,
        })
    }

    /// The schema of the batches `unify` returns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// `batch` (one `unify` gave) with each categorical column's dictionary as it is now:
    /// keys stay valid, as dictionaries only grow, so every batch of a file can share one.
    pub fn complete(&self, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
        let columns = batch
            .columns()
            .iter()
            .zip(&self.columns)
            .map(|(column, dictionary)| match dictionary {
                Some(d) => {
                    let keys = column.as_dictionary::<Int32Type>().keys().clone();
                    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
                        keys,
                        d.values.clone(),
                    )?) as ArrayRef)
                }
                None => Ok(column.clone()),
            })
            .collect::<Result<Vec<_>, ArrowError>>()?;
        RecordBatch::try_new(self.schema.clone(), columns)
    }

    /// Bytes a unified batch holds beside the shared dictionaries.
    pub fn held_bytes(batch: &RecordBatch) -> usize {
        batch
            .columns()
            .iter()
            .map(|c| match c.as_any_dictionary_opt() {
                Some(d) => d.keys().get_array_memory_size(),
                None => c.get_array_memory_size(),
            })
            .sum()
    }

    pub fn is_noop(&self) -> bool {
        self.columns.iter().all(Option::is_none)
    }

    /// `batch` with its categorical columns keyed into the running dictionaries.
    pub fn unify(&mut self, batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
        if self.is_noop() {
            return Ok(batch.clone());
        }
        let columns = batch
            .columns()
            .iter()
            .zip(&mut self.columns)
            .map(|(column, dictionary)| match dictionary {
                Some(d) => d.rekey(column),
                None => Ok(column.clone()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

/// One column's values so far, each once, in the order first seen.
struct Dictionary {
    converter: RowConverter,
    index: HashMap<OwnedRow, i32>,
    values: ArrayRef,
}

impl Dictionary {
    fn new(values: &DataType) -> Result<Dictionary, ArrowError> {
        Ok(Dictionary {
            converter: RowConverter::new(vec![SortField::new(values.clone())])?,
            index: HashMap::new(),
            values: arrow::array::new_empty_array(values),
        })
    }

    /// The column with keys into this dictionary (which gains the values it had not seen).
    fn rekey(&mut self, column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
        let dictionary = column.as_any_dictionary_opt().ok_or_else(|| {
            ArrowError::SchemaError("a categorical column holds other values".into())
        })?;
        let global = self.add_values(dictionary.values())?;
        let keys: Int32Array = if dictionary.values().is_empty() {
            Int32Array::new_null(column.len())
        } else {
            let local = dictionary.normalized_keys();
            (0..column.len())
                .map(|row| (!dictionary.keys().is_null(row)).then(|| global[local[row]]))
                .collect()
        };
        Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(
            keys,
            self.values.clone(),
        )?))
    }

    /// The global key of each of `values`, adding those not seen before.
    fn add_values(&mut self, values: &ArrayRef) -> Result<Vec<i32>, ArrowError> {
        let rows = self
            .converter
            .convert_columns(std::slice::from_ref(values))?;
        let mut global = Vec::with_capacity(values.len());
        let mut added: Vec<u32> = Vec::new();
        for (local, row) in rows.iter().enumerate() {
            let next = i32::try_from(self.index.len()).map_err(|_| {
                ArrowError::ComputeError("a categorical column has over 2^31 categories".into())
            })?;
            let key = *self.index.entry(row.owned()).or_insert_with(|| {
                added.push(local as u32);
                next
            });
            global.push(key);
        }
        if !added.is_empty() {
            let new = take(
                values.as_ref(),
                &arrow::array::PrimitiveArray::<UInt32Type>::from(added),
                None,
            )?;
            self.values = concat(&[self.values.as_ref(), new.as_ref()])?;
        }
        Ok(global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int8Array, StringArray};

    fn categorical(keys: Vec<Option<i8>>, values: &[&str]) -> RecordBatch {
        let array = DictionaryArray::<arrow::datatypes::Int8Type>::try_new(
            Int8Array::from(keys),
            Arc::new(StringArray::from(values.to_vec())),
        )
        .unwrap();
        RecordBatch::try_from_iter([("c", Arc::new(array) as ArrayRef)]).unwrap()
    }

    fn decoded(batch: &RecordBatch) -> (Vec<Option<String>>, Vec<String>) {
        let dictionary = batch.column(0).as_dictionary::<Int32Type>();
        let values = dictionary.values().as_string::<i32>();
        let rows = dictionary
            .keys()
            .iter()
            .map(|k| k.map(|k| values.value(k as usize).to_string()))
            .collect();
        let categories = values.iter().map(|v| v.unwrap_or("").to_string()).collect();
        (rows, categories)
    }

    #[test]
    fn one_growing_dictionary_without_repeats() {
        let first = categorical(vec![Some(0), Some(1), Some(2), None], &["de", "fr", "de"]);
        let second = categorical(vec![Some(1), Some(0)], &["us", "fr"]);
        let mut dictionaries = Dictionaries::new(&first.schema()).unwrap();
        let a = dictionaries.unify(&first).unwrap();
        let b = dictionaries.unify(&second).unwrap();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            decoded(&a),
            (
                vec![s("de"), s("fr"), s("de"), None],
                vec!["de".into(), "fr".into()]
            )
        );
        // The second batch's dictionary extends the first's: a delta, never a replacement.
        assert_eq!(
            decoded(&b),
            (
                vec![s("fr"), s("us")],
                vec!["de".into(), "fr".into(), "us".into()]
            )
        );
        assert_eq!(
            a.schema().field(0).data_type(),
            &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        );
    }

    #[test]
    fn an_empty_dictionary_gives_nulls() {
        let batch = categorical(vec![None, None], &[]);
        let mut dictionaries = Dictionaries::new(&batch.schema()).unwrap();
        let unified = dictionaries.unify(&batch).unwrap();
        assert_eq!(unified.column(0).null_count(), 2);
    }
}
