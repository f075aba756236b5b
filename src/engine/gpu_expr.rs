//! DataFusion's physical expressions as device programs (`gpu::program`): which expressions a
//! device computes exactly as DataFusion does ([`compile_value`], [`compile_condition`]), and
//! their lowering over a chunk's columns ([`Lowering`]).
//!
//! Covered: columns of integers, floats, booleans, dates and timestamps; literals; widening
//! casts; `+ - *` of `Int64` (wrapping, as DataFusion's default) and `+ - * /` of `Float64`;
//! comparisons of numbers, of dates and timestamps, and `=`/`!=` of a string column with a
//! string (by dictionary codes); `AND`, `OR`, `NOT`, `IS [NOT] NULL`. Anything else is left
//! to the CPU. Integer division is not covered: a division by zero fails on the CPU, and a
//! device cannot report it row by row.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{ArrowPrimitiveType, DataType, Float64Type, Int64Type, Schema};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::Operator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{
    BinaryExpr, CastExpr, Column, IsNotNullExpr, IsNullExpr, Literal, NotExpr,
};

use super::decimal_arithmetic::DecimalOp;
use super::string_equals::ViewEquals;
use crate::gpu::program::{Arith, Kind, Op, Program};
use crate::gpu::{self, Comparison, Values};

/// An expression the device computes, over the columns of the GPU node's input.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum DeviceExpr {
    Column(usize, Source),
    Literal(Op),
    /// A string column compared (`=` or `!=`) with a string, by the chunk's dictionary codes.
    Strings {
        column: usize,
        op: Comparison,
        literal: String,
    },
    Arith(Arith, Kind, Box<DeviceExpr>, Box<DeviceExpr>),
    ToF64(Box<DeviceExpr>),
    Compare(Comparison, Kind, Box<DeviceExpr>, Box<DeviceExpr>),
    And(Box<DeviceExpr>, Box<DeviceExpr>),
    Or(Box<DeviceExpr>, Box<DeviceExpr>),
    Not(Box<DeviceExpr>),
    IsNull(Box<DeviceExpr>),
}

/// How a column's values reach the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Source {
    /// Integers, widened to `i64`; dates and timestamps by their numbers.
    Int,
    /// Floats, widened to `f64`.
    Float,
    /// Strings, by dictionary codes.
    String,
    /// Booleans, as 0 and 1 (a program reads them as `column != 0`).
    Bool,
}

/// What a compiled expression is, as far as the compiler must tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    I64,
    F64,
    Bool,
    /// Dates and timestamps: compared, never computed with.
    Ordinal,
    /// A `Float32` column: only widened (arithmetic on it rounds to 32 bits).
    F32,
    /// A string column: only compared with a string, or tested for null.
    Str,
}

/// `expr` as a number the device computes (an aggregate's argument).
pub(super) fn compile_value(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<DeviceExpr> {
    match compile(expr, schema)? {
        (device, Ty::I64 | Ty::F64) => Some(device),
        _ => None,
    }
}

/// `expr` as a condition the device checks (a filter's predicate).
pub(super) fn compile_condition(
    expr: &Arc<dyn PhysicalExpr>,
    schema: &Schema,
) -> Option<DeviceExpr> {
    match compile(expr, schema)? {
        (device, Ty::Bool) => Some(device),
        _ => None,
    }
}

fn compile(expr: &Arc<dyn PhysicalExpr>, schema: &Schema) -> Option<(DeviceExpr, Ty)> {
    if let Some(equals) = expr.downcast_ref::<ViewEquals>() {
        return compile(equals.comparison(), schema);
    }
    if let Some(arithmetic) = expr.downcast_ref::<DecimalOp>() {
        return compile(arithmetic.binary(), schema);
    }
    if let Some(column) = expr.downcast_ref::<Column>() {
        return compile_column(column, schema);
    }
    if let Some(literal) = expr.downcast_ref::<Literal>() {
        return compile_literal(literal.value());
    }
    if let Some(cast) = expr.downcast_ref::<CastExpr>() {
        return compile_cast(cast, schema);
    }
    if let Some(not) = expr.downcast_ref::<NotExpr>() {
        let (arg, ty) = compile(not.arg(), schema)?;
        return (ty == Ty::Bool).then(|| (DeviceExpr::Not(Box::new(arg)), Ty::Bool));
    }
    if let Some(is_null) = expr.downcast_ref::<IsNullExpr>() {
        let (arg, _) = compile(is_null.arg(), schema)?;
        return Some((DeviceExpr::IsNull(Box::new(arg)), Ty::Bool));
    }
    if let Some(is_not_null) = expr.downcast_ref::<IsNotNullExpr>() {
        let (arg, _) = compile(is_not_null.arg(), schema)?;
        let is_null = DeviceExpr::IsNull(Box::new(arg));
        return Some((DeviceExpr::Not(Box::new(is_null)), Ty::Bool));
    }
    let binary = expr.downcast_ref::<BinaryExpr>()?;
    compile_binary(binary, schema)
}

fn compile_column(column: &Column, schema: &Schema) -> Option<(DeviceExpr, Ty)> {
    let data_type = schema.fields().get(column.index())?.data_type();
    let (source, ty) = match data_type {
        t if is_key_type(t) => (Source::Int, Ty::I64),
        DataType::Boolean => (Source::Bool, Ty::Bool),
        DataType::Float64 => (Source::Float, Ty::F64),
        DataType::Float32 => (Source::Float, Ty::F32),
        t if is_ordinal(t) => (Source::Int, Ty::Ordinal),
        t if is_string(t) => (Source::String, Ty::Str),
        _ => return None,
    };
    Some((DeviceExpr::Column(column.index(), source), ty))
}

fn compile_literal(value: &ScalarValue) -> Option<(DeviceExpr, Ty)> {
    if value.is_null() {
        return None;
    }
    let data_type = value.data_type();
    let (op, ty) = match &data_type {
        t if is_key_type(t) => (Op::I64(scalar_i64(value)?), Ty::I64),
        DataType::Float64 => (Op::F64(scalar_f64(value)?), Ty::F64),
        DataType::Boolean => (
            Op::Bool(value == &ScalarValue::Boolean(Some(true))),
            Ty::Bool,
        ),
        t if is_ordinal(t) => (Op::I64(scalar_i64(value)?), Ty::Ordinal),
        _ => return None,
    };
    Some((DeviceExpr::Literal(op), ty))
}

fn compile_cast(cast: &CastExpr, schema: &Schema) -> Option<(DeviceExpr, Ty)> {
    let (inner, ty) = compile(cast.expr(), schema)?;
    let from = cast.expr().data_type(schema).ok()?;
    match (cast.cast_type(), ty) {
        (DataType::Int64, Ty::I64) if is_key_type(&from) => Some((inner, Ty::I64)),
        (DataType::Float64, Ty::I64) if is_key_type(&from) => {
            Some((DeviceExpr::ToF64(Box::new(inner)), Ty::F64))
        }
        (DataType::Float64, Ty::F64 | Ty::F32) => Some((inner, Ty::F64)),
        _ => None,
    }
}

fn compile_binary(binary: &BinaryExpr, schema: &Schema) -> Option<(DeviceExpr, Ty)> {
    let op = *binary.op();
    if let Some(comparison) = comparison(op) {
        if let Some(strings) = compile_strings(binary, comparison, schema) {
            return Some((strings, Ty::Bool));
        }
        let (left, lt) = compile(binary.left(), schema)?;
        let (right, rt) = compile(binary.right(), schema)?;
        let kind = match (lt, rt) {
            (Ty::I64, Ty::I64) | (Ty::Ordinal, Ty::Ordinal) => Kind::I64,
            (Ty::F64, Ty::F64) => Kind::F64,
            _ => return None,
        };
        // Dates and timestamps compare by their numbers only in the same type and unit.
        let same_type =
            binary.left().data_type(schema).ok()? == binary.right().data_type(schema).ok()?;
        let compare = DeviceExpr::Compare(comparison, kind, Box::new(left), Box::new(right));
        return same_type.then_some((compare, Ty::Bool));
    }
    let (left, lt) = compile(binary.left(), schema)?;
    let (right, rt) = compile(binary.right(), schema)?;
    let (left, right) = (Box::new(left), Box::new(right));
    match (op, lt, rt) {
        (Operator::And, Ty::Bool, Ty::Bool) => Some((DeviceExpr::And(left, right), Ty::Bool)),
        (Operator::Or, Ty::Bool, Ty::Bool) => Some((DeviceExpr::Or(left, right), Ty::Bool)),
        _ => {
            let arith = arithmetic(op)?;
            let types = [
                binary.data_type(schema).ok()?,
                binary.left().data_type(schema).ok()?,
                binary.right().data_type(schema).ok()?,
            ];
            let kind = match (types, lt, rt) {
                ([DataType::Int64, DataType::Int64, DataType::Int64], Ty::I64, Ty::I64)
                    if arith != Arith::Div && wraps(binary) =>
                {
                    Kind::I64
                }
                ([DataType::Float64, DataType::Float64, DataType::Float64], Ty::F64, Ty::F64) => {
                    Kind::F64
                }
                _ => return None,
            };
            let ty = if kind == Kind::I64 { Ty::I64 } else { Ty::F64 };
            Some((DeviceExpr::Arith(arith, kind, left, right), ty))
        }
    }
}

/// Whether integer arithmetic wraps on overflow (DataFusion's default) rather than fails.
fn wraps(binary: &BinaryExpr) -> bool {
    let wrapping = BinaryExpr::new(binary.left().clone(), *binary.op(), binary.right().clone());
    *binary == wrapping
}

/// `string_column = 'literal'` (either way round), `=` or `!=`.
fn compile_strings(
    binary: &BinaryExpr,
    comparison: Comparison,
    schema: &Schema,
) -> Option<DeviceExpr> {
    if !matches!(comparison, Comparison::Eq | Comparison::NotEq) {
        return None;
    }
    let sides = [binary.left(), binary.right()];
    let column = sides.iter().find_map(|e| e.downcast_ref::<Column>())?;
    let literal = sides.iter().find_map(|e| e.downcast_ref::<Literal>())?;
    let column_type = schema.fields().get(column.index())?.data_type();
    let value = literal.value();
    if !is_string(column_type) || !is_string(&value.data_type()) || value.is_null() {
        return None;
    }
    Some(DeviceExpr::Strings {
        column: column.index(),
        op: comparison,
        literal: value.to_string(),
    })
}

fn comparison(op: Operator) -> Option<Comparison> {
    Some(match op {
        Operator::Eq => Comparison::Eq,
        Operator::NotEq => Comparison::NotEq,
        Operator::Lt => Comparison::Lt,
        Operator::LtEq => Comparison::LtEq,
        Operator::Gt => Comparison::Gt,
        Operator::GtEq => Comparison::GtEq,
        _ => return None,
    })
}

fn arithmetic(op: Operator) -> Option<Arith> {
    Some(match op {
        Operator::Plus => Arith::Add,
        Operator::Minus => Arith::Sub,
        Operator::Multiply => Arith::Mul,
        Operator::Divide => Arith::Div,
        _ => return None,
    })
}

impl DeviceExpr {
    /// The input columns it reads.
    pub(super) fn columns(&self, into: &mut BTreeSet<usize>) {
        match self {
            DeviceExpr::Column(c, _) | DeviceExpr::Strings { column: c, .. } => {
                into.insert(*c);
            }
            DeviceExpr::Literal(_) => {}
            DeviceExpr::Arith(_, _, a, b)
            | DeviceExpr::Compare(_, _, a, b)
            | DeviceExpr::And(a, b)
            | DeviceExpr::Or(a, b) => {
                a.columns(into);
                b.columns(into);
            }
            DeviceExpr::ToF64(a) | DeviceExpr::Not(a) | DeviceExpr::IsNull(a) => a.columns(into),
        }
    }
}

/// A chunk's columns as the device takes them, each once, and the programs over them.
#[derive(Default)]
pub(super) struct Lowering {
    columns: Vec<ChunkColumn>,
    /// Input column → its place in `columns`.
    placed: HashMap<usize, usize>,
}

struct ChunkColumn {
    values: Owned,
    valid: Option<Vec<bool>>,
    /// For strings: the dictionary the codes index.
    strings: Option<ArrayRef>,
}

enum Owned {
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl Lowering {
    /// `expr`'s program over `batch`'s columns.
    pub(super) fn program(&mut self, expr: &DeviceExpr, batch: &RecordBatch) -> Result<Program> {
        let mut ops = Vec::new();
        self.emit(expr, batch, &mut ops)?;
        Ok(Program { ops })
    }

    /// A program that reads `array` (an argument the host computed) as it is.
    pub(super) fn computed(&mut self, array: &ArrayRef) -> Result<Program> {
        let column = ChunkColumn::of(array, Source::of(array.data_type()))?;
        self.columns.push(column);
        Ok(Program::column(self.columns.len() - 1))
    }

    /// Whether the lowered column `c` has nulls.
    pub(super) fn has_nulls(&self, c: usize) -> bool {
        self.columns[c].valid.is_some()
    }

    /// The columns, as the device's input borrows them.
    pub(super) fn columns(&self) -> Vec<gpu::Column<'_>> {
        self.columns
            .iter()
            .map(|c| gpu::Column {
                values: match &c.values {
                    Owned::I64(v) => Values::I64(v),
                    Owned::F64(v) => Values::F64(v),
                },
                valid: c.valid.as_deref(),
            })
            .collect()
    }

    fn place(&mut self, batch: &RecordBatch, index: usize, source: Source) -> Result<usize> {
        if let Some(&placed) = self.placed.get(&index) {
            return Ok(placed);
        }
        let column = ChunkColumn::of(batch.column(index), source)?;
        self.columns.push(column);
        self.placed.insert(index, self.columns.len() - 1);
        Ok(self.columns.len() - 1)
    }

    fn emit(&mut self, expr: &DeviceExpr, batch: &RecordBatch, ops: &mut Vec<Op>) -> Result<()> {
        match expr {
            DeviceExpr::Column(index, source) => {
                ops.push(Op::Load(self.place(batch, *index, *source)?));
                if *source == Source::Bool {
                    ops.extend([Op::I64(0), Op::Compare(Comparison::NotEq, Kind::I64)]);
                }
            }
            DeviceExpr::Literal(op) => ops.push(*op),
            DeviceExpr::Strings {
                column,
                op,
                literal,
            } => {
                let placed = self.place(batch, *column, Source::String)?;
                // A string the chunk does not have gets a code no row has.
                let code = self.columns[placed]
                    .strings
                    .as_ref()
                    .and_then(|s| s.as_string::<i32>().iter().position(|v| v == Some(literal)))
                    .map_or(-1, |c| c as i64);
                ops.extend([Op::Load(placed), Op::I64(code), Op::Compare(*op, Kind::I64)]);
            }
            DeviceExpr::Arith(arith, kind, a, b) => {
                self.emit(a, batch, ops)?;
                self.emit(b, batch, ops)?;
                ops.push(Op::Arith(*arith, *kind));
            }
            DeviceExpr::Compare(comparison, kind, a, b) => {
                self.emit(a, batch, ops)?;
                self.emit(b, batch, ops)?;
                ops.push(Op::Compare(*comparison, *kind));
            }
            DeviceExpr::And(a, b) | DeviceExpr::Or(a, b) => {
                self.emit(a, batch, ops)?;
                self.emit(b, batch, ops)?;
                ops.push(if matches!(expr, DeviceExpr::And(..)) {
                    Op::And
                } else {
                    Op::Or
                });
            }
            DeviceExpr::ToF64(a) => {
                self.emit(a, batch, ops)?;
                ops.push(Op::ToF64);
            }
            DeviceExpr::Not(a) => {
                self.emit(a, batch, ops)?;
                ops.push(Op::Not);
            }
            DeviceExpr::IsNull(a) => {
                self.emit(a, batch, ops)?;
                ops.push(Op::IsNull);
            }
        }
        Ok(())
    }
}

impl Source {
    fn of(data_type: &DataType) -> Source {
        match data_type {
            DataType::Float32 | DataType::Float64 => Source::Float,
            t if is_string(t) => Source::String,
            _ => Source::Int,
        }
    }
}

impl ChunkColumn {
    fn of(array: &ArrayRef, source: Source) -> Result<ChunkColumn> {
        let valid = match array.logical_nulls() {
            Some(nulls) if nulls.null_count() > 0 => Some(nulls.iter().collect()),
            _ => None,
        };
        let (values, strings) = match source {
            Source::Int | Source::Bool => (Owned::I64(widen_ints(array)?), None),
            Source::Float => (Owned::F64(widen_floats(array)?), None),
            Source::String => {
                let (codes, strings) = dictionary_codes(array)?;
                (Owned::I64(codes), Some(strings))
            }
        };
        Ok(ChunkColumn {
            values,
            valid,
            strings,
        })
    }
}

/// A string column as codes of a dictionary without repeats (a cast builds one, so one
/// string has one code), and that dictionary's strings.
pub(super) fn dictionary_codes(array: &ArrayRef) -> Result<(Vec<i64>, ArrayRef)> {
    let strings = cast(array, &DataType::Utf8)?;
    let as_dictionary = DataType::Dictionary(Box::new(DataType::Int64), Box::new(DataType::Utf8));
    let encoded = cast(&strings, &as_dictionary)?;
    let dictionary = encoded.as_any_dictionary();
    Ok((widen_ints(dictionary.keys())?, dictionary.values().clone()))
}

/// Integers that widen to `i64` without loss.
pub(super) fn is_key_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

/// Dates and timestamps: numbers underneath, ordered as their numbers.
fn is_ordinal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

/// Strings group by dictionary codes: a dictionary column's own, or codes given on the host.
pub(super) fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(key, value) => key.is_integer() && is_string(value),
        _ => false,
    }
}

pub(super) fn is_number(t: &DataType) -> bool {
    is_key_type(t) || matches!(t, DataType::Float32 | DataType::Float64)
}

fn scalar_i64(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Date32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Date64(Some(v))
        | ScalarValue::TimestampSecond(Some(v), _)
        | ScalarValue::TimestampMillisecond(Some(v), _)
        | ScalarValue::TimestampMicrosecond(Some(v), _)
        | ScalarValue::TimestampNanosecond(Some(v), _) => Some(*v),
        other => match other.cast_to(&DataType::Int64).ok()? {
            ScalarValue::Int64(Some(v)) => Some(v),
            _ => None,
        },
    }
}

fn scalar_f64(value: &ScalarValue) -> Option<f64> {
    match value {
        ScalarValue::Float64(Some(v)) => Some(*v),
        _ => None,
    }
}

/// A column's values as `T` (nulls' places hold whatever the buffer has).
fn widen<T: ArrowPrimitiveType>(array: &dyn Array) -> Result<Vec<T::Native>> {
    let wide = cast(array, &T::DATA_TYPE)?;
    let values = wide.as_primitive_opt::<T>().ok_or_else(|| {
        DataFusionError::Internal(format!("a column did not widen to {}", T::DATA_TYPE))
    })?;
    Ok(values.values().to_vec())
}

pub(super) fn widen_ints(array: &dyn Array) -> Result<Vec<i64>> {
    widen::<Int64Type>(array)
}

pub(super) fn widen_floats(array: &dyn Array) -> Result<Vec<f64>> {
    widen::<Float64Type>(array)
}
