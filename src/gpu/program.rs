//! Device programs: an expression over a chunk's columns, evaluated row by row by a small
//! stack machine (the `eval_program` kernel on a device, [`Program::eval`] on the CPU). The
//! engine compiles a filter's predicate or an aggregate's argument (`a + b`, `s = 'x' OR
//! v > 0.5`) into one, so that the work runs on the device beside the aggregation it feeds.
//!
//! Semantics are DataFusion's: integers wrap, floats follow IEEE 754 (the kernels are compiled
//! without fused multiply-add, so every step rounds as on the CPU), comparisons of floats
//! order them as DataFusion does (-0.0 equal to 0.0, then IEEE total order, so NaN above
//! infinity), and `AND`/`OR`/`NOT` follow SQL's three-valued logic over nulls.
//!
//! One case is left to the CPU: a NaN that arithmetic made, compared. Its sign and payload
//! depend on the processor (x86 makes a negative NaN, a GPU a positive one), and the total
//! order tells them apart; a program that meets one says so ([`Unsure`]) and its chunk runs
//! on the CPU.

use super::{Comparison, GpuError, ordered_bits};

/// Deepest stack a program may use (the kernel keeps it in registers and local memory).
pub const MAX_STACK: usize = 16;

/// What a value is: the stack holds each as 64 bits (floats by their bit pattern, booleans
/// as 0 and 1) and whether it is valid (not null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    I64,
    F64,
    Bool,
}

/// An arithmetic operation. `Div` is for floats only: integer division by zero fails on the
/// CPU, which a device cannot report row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

/// One step of a program, in postfix order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// Pushes the row's value of input column `n`, null where the column's validity says so.
    Load(usize),
    /// Pushes a literal.
    I64(i64),
    F64(f64),
    Bool(bool),
    /// Pops two numbers of the kind and pushes the result; null if either is.
    Arith(Arith, Kind),
    /// Pops an integer and pushes it as a float (rounded to nearest, as `as f64`).
    ToF64,
    /// Pops two values of the kind and pushes whether they compare so; null if either is.
    Compare(Comparison, Kind),
    And,
    Or,
    Not,
    /// Pops a value and pushes whether it is null (never null itself).
    IsNull,
}

/// A program: its steps, and the kind of the one value it leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub ops: Vec<Op>,
}

/// A program's result in one row: the value's bits and whether it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    pub bits: i64,
    pub valid: bool,
}

/// A row whose answer depends on the processor (see the module's comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsure;

/// One column a program reads: its values, as integers or floats, and its validity (`None`:
/// no nulls).
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    pub values: super::Values<'a>,
    pub valid: Option<&'a [bool]>,
}

impl Column<'_> {
    pub fn kind(&self) -> Kind {
        match self.values {
            super::Values::I64(_) => Kind::I64,
            super::Values::F64(_) => Kind::F64,
        }
    }

    /// Rows of the column.
    pub fn rows(&self) -> usize {
        match self.values {
            super::Values::I64(v) => v.len(),
            super::Values::F64(v) => v.len(),
        }
    }

    fn load(&self, row: usize) -> Value {
        let bits = match self.values {
            super::Values::I64(v) => v[row],
            super::Values::F64(v) => v[row].to_bits() as i64,
        };
        Value {
            bits,
            valid: self.valid.is_none_or(|valid| valid[row]),
        }
    }

    /// Whether some row is null.
    pub fn has_nulls(&self) -> bool {
        self.valid.is_some_and(|valid| valid.contains(&false))
    }
}

fn refused(why: impl Into<String>) -> GpuError {
    GpuError::Unsupported(format!("device program: {}", why.into()))
}

impl Program {
    /// The program that reads one column.
    pub fn column(index: usize) -> Program {
        Program {
            ops: vec![Op::Load(index)],
        }
    }

    /// The column it only reads, if that is all it does.
    pub fn as_column(&self) -> Option<usize> {
        match self.ops.as_slice() {
            [Op::Load(index)] => Some(*index),
            _ => None,
        }
    }

    /// The columns it reads.
    pub fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.ops.iter().filter_map(|op| match op {
            Op::Load(index) => Some(*index),
            _ => None,
        })
    }

    /// The kind of its result over `columns`, or why a device cannot run it: an unknown
    /// column, operands of the wrong kind, a stack deeper than [`MAX_STACK`], or not exactly
    /// one value left.
    pub fn check(&self, columns: &[Column<'_>]) -> Result<Kind, GpuError> {
        let mut stack: Vec<Kind> = Vec::new();
        for op in &self.ops {
            let pushed = match *op {
                Op::Load(index) => columns
                    .get(index)
                    .map(Column::kind)
                    .ok_or_else(|| refused(format!("no column {index}")))?,
                Op::I64(_) => Kind::I64,
                Op::F64(_) => Kind::F64,
                Op::Bool(_) => Kind::Bool,
                Op::Arith(arith, kind) => {
                    let valid = match kind {
                        Kind::I64 => arith != Arith::Div,
                        Kind::F64 => true,
                        Kind::Bool => false,
                    };
                    if !valid {
                        return Err(refused(format!("{arith:?} of {kind:?}")));
                    }
                    pop(&mut stack, kind)?;
                    pop(&mut stack, kind)?;
                    kind
                }
                Op::ToF64 => {
                    pop(&mut stack, Kind::I64)?;
                    Kind::F64
                }
                Op::Compare(_, kind) => {
                    pop(&mut stack, kind)?;
                    pop(&mut stack, kind)?;
                    Kind::Bool
                }
                Op::And | Op::Or => {
                    pop(&mut stack, Kind::Bool)?;
                    pop(&mut stack, Kind::Bool)?;
                    Kind::Bool
                }
                Op::Not => {
                    pop(&mut stack, Kind::Bool)?;
                    Kind::Bool
                }
                Op::IsNull => {
                    stack.pop().ok_or_else(|| refused("IsNull of nothing"))?;
                    Kind::Bool
                }
            };
            stack.push(pushed);
            if stack.len() > MAX_STACK {
                return Err(refused(format!("deeper than {MAX_STACK} values")));
            }
        }
        match stack.as_slice() {
            [kind] => Ok(*kind),
            _ => Err(refused(format!("leaves {} values", stack.len()))),
        }
    }

    /// Checks the program and that every column has `rows` rows.
    pub fn check_rows(&self, columns: &[Column<'_>], rows: usize) -> Result<Kind, GpuError> {
        let kind = self.check(columns)?;
        if let Some(column) = self.columns().find(|&c| columns[c].rows() != rows) {
            return Err(refused(format!("column {column} is not {rows} rows long")));
        }
        Ok(kind)
    }

    /// The program's value in `row` (it must have passed [`Program::check`]).
    pub fn eval(&self, columns: &[Column<'_>], row: usize) -> Result<Value, Unsure> {
        let mut stack: Vec<Value> = Vec::with_capacity(MAX_STACK);
        let mut made_nan = false;
        for op in &self.ops {
            let value = match *op {
                Op::Load(index) => columns[index].load(row),
                Op::I64(v) => known(v),
                Op::F64(v) => known(v.to_bits() as i64),
                Op::Bool(v) => known(i64::from(v)),
                Op::Arith(arith, kind) => {
                    let (a, b) = pop2(&mut stack);
                    let bits = match kind {
                        Kind::F64 => {
                            let value = arith_f64(arith, f(a.bits), f(b.bits));
                            made_nan |= value.is_nan();
                            value.to_bits() as i64
                        }
                        _ => arith_i64(arith, a.bits, b.bits),
                    };
                    Value {
                        bits,
                        valid: a.valid && b.valid,
                    }
                }
                Op::ToF64 => {
                    let a = pop1(&mut stack);
                    Value {
                        bits: (a.bits as f64).to_bits() as i64,
                        valid: a.valid,
                    }
                }
                Op::Compare(comparison, kind) => {
                    let (a, b) = pop2(&mut stack);
                    let (x, y) = match kind {
                        Kind::F64 => {
                            let (x, y) = (f(a.bits), f(b.bits));
                            if made_nan && (x.is_nan() || y.is_nan()) {
                                return Err(Unsure);
                            }
                            (ordered_bits(x), ordered_bits(y))
                        }
                        _ => (a.bits, b.bits),
                    };
                    Value {
                        bits: i64::from(comparison.holds(x, y)),
                        valid: a.valid && b.valid,
                    }
                }
                Op::And => {
                    let (a, b) = pop2(&mut stack);
                    let false_ = |v: Value| v.valid && v.bits == 0;
                    match (false_(a) || false_(b), a.valid && b.valid) {
                        (true, _) => known(0),
                        (false, true) => known(1),
                        (false, false) => NULL,
                    }
                }
                Op::Or => {
                    let (a, b) = pop2(&mut stack);
                    let true_ = |v: Value| v.valid && v.bits != 0;
                    match (true_(a) || true_(b), a.valid && b.valid) {
                        (true, _) => known(1),
                        (false, true) => known(0),
                        (false, false) => NULL,
                    }
                }
                Op::Not => {
                    let a = pop1(&mut stack);
                    Value {
                        bits: i64::from(a.bits == 0),
                        valid: a.valid,
                    }
                }
                Op::IsNull => known(i64::from(!pop1(&mut stack).valid)),
            };
            stack.push(value);
        }
        Ok(pop1(&mut stack))
    }

    /// The kernel's encoding: an opcode and an argument per step. A `Load`'s argument holds
    /// the column in its low 32 bits and, where the column has a validity, its number among
    /// the columns with one plus one in the high 32 bits (`validity[column]`).
    pub fn encode(&self, validity: &[Option<usize>]) -> (Vec<u32>, Vec<i64>) {
        self.ops
            .iter()
            .map(|op| match *op {
                Op::Load(index) => {
                    let slot = validity.get(index).copied().flatten().map_or(0, |s| s + 1);
                    (0, ((slot as i64) << 32) | index as i64)
                }
                Op::I64(v) => (1, v),
                Op::F64(v) => (1, v.to_bits() as i64),
                Op::Bool(v) => (1, i64::from(v)),
                Op::Arith(arith, Kind::F64) => (5 + arith as u32, 0),
                Op::Arith(arith, _) => (2 + arith as u32, 0),
                Op::ToF64 => (9, 0),
                Op::Compare(comparison, Kind::F64) => (11, i64::from(comparison.code())),
                Op::Compare(comparison, _) => (10, i64::from(comparison.code())),
                Op::And => (12, 0),
                Op::Or => (13, 0),
                Op::Not => (14, 0),
                Op::IsNull => (15, 0),
            })
            .unzip()
    }
}

const NULL: Value = Value {
    bits: 0,
    valid: false,
};

fn known(bits: i64) -> Value {
    Value { bits, valid: true }
}

fn f(bits: i64) -> f64 {
    f64::from_bits(bits as u64)
}

fn arith_i64(arith: Arith, a: i64, b: i64) -> i64 {
    match arith {
        Arith::Add => a.wrapping_add(b),
        Arith::Sub => a.wrapping_sub(b),
        // `check` refuses integer division.
        Arith::Mul | Arith::Div => a.wrapping_mul(b),
    }
}

fn arith_f64(arith: Arith, a: f64, b: f64) -> f64 {
    match arith {
        Arith::Add => a + b,
        Arith::Sub => a - b,
        Arith::Mul => a * b,
        Arith::Div => a / b,
    }
}

fn pop(stack: &mut Vec<Kind>, wanted: Kind) -> Result<(), GpuError> {
    match stack.pop() {
        Some(kind) if kind == wanted => Ok(()),
        found => Err(refused(format!("expected {wanted:?}, found {found:?}"))),
    }
}

fn pop1(stack: &mut Vec<Value>) -> Value {
    stack.pop().unwrap_or(NULL)
}

fn pop2(stack: &mut Vec<Value>) -> (Value, Value) {
    let b = pop1(stack);
    (pop1(stack), b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::Values;

    fn run(program: &Program, columns: &[Column<'_>], row: usize) -> Result<Value, Unsure> {
        program.check(columns).unwrap();
        program.eval(columns, row)
    }

    #[test]
    fn arithmetic_wraps_and_rounds_as_the_cpu() {
        let ints = [i64::MAX, 3];
        let floats = [0.1, 0.2];
        let columns = [
            Column {
                values: Values::I64(&ints),
                valid: None,
            },
            Column {
                values: Values::F64(&floats),
                valid: None,
            },
        ];
        let plus_one = Program {
            ops: vec![Op::Load(0), Op::I64(1), Op::Arith(Arith::Add, Kind::I64)],
        };
        assert_eq!(run(&plus_one, &columns, 0).unwrap().bits, i64::MIN);
        let mixed = Program {
            ops: vec![
                Op::Load(1),
                Op::Load(0),
                Op::ToF64,
                Op::Arith(Arith::Mul, Kind::F64),
            ],
        };
        assert_eq!(f(run(&mixed, &columns, 1).unwrap().bits), 0.2 * 3.0);
    }

    #[test]
    fn logic_is_three_valued() {
        let values = [1, 0, 0];
        let valid = [true, true, false];
        let columns = [Column {
            values: Values::I64(&values),
            valid: Some(&valid),
        }];
        // (x = 1) OR (x = 0): null where x is null.
        let program = Program {
            ops: vec![
                Op::Load(0),
                Op::I64(1),
                Op::Compare(Comparison::Eq, Kind::I64),
                Op::Bool(false),
                Op::Or,
            ],
        };
        let got: Vec<Value> = (0..3)
            .map(|r| run(&program, &columns, r).unwrap())
            .collect();
        assert_eq!(got, vec![known(1), known(0), NULL]);
        // null AND false is false; null AND true is null; IS NULL is never null.
        let and_false = Program {
            ops: vec![
                Op::Load(0),
                Op::I64(1),
                Op::Compare(Comparison::Eq, Kind::I64),
                Op::Bool(false),
                Op::And,
            ],
        };
        assert_eq!(run(&and_false, &columns, 2).unwrap(), known(0));
        let is_null = Program {
            ops: vec![Op::Load(0), Op::IsNull, Op::Not],
        };
        assert_eq!(run(&is_null, &columns, 2).unwrap(), known(0));
    }

    #[test]
    fn a_compared_nan_that_arithmetic_made_is_unsure() {
        let floats = [f64::INFINITY, f64::NAN];
        let columns = [Column {
            values: Values::F64(&floats),
            valid: None,
        }];
        let made = Program {
            ops: vec![
                Op::Load(0),
                Op::Load(0),
                Op::Arith(Arith::Sub, Kind::F64),
                Op::F64(0.0),
                Op::Compare(Comparison::Gt, Kind::F64),
            ],
        };
        assert_eq!(run(&made, &columns, 0), Err(Unsure));
        // A NaN read from the column compares as the total order says: above 0.
        let read = Program {
            ops: vec![
                Op::Load(0),
                Op::F64(0.0),
                Op::Compare(Comparison::Gt, Kind::F64),
            ],
        };
        assert_eq!(run(&read, &columns, 1).unwrap(), known(1));
    }

    #[test]
    fn bad_programs_are_refused() {
        let ints = [1];
        let columns = [Column {
            values: Values::I64(&ints),
            valid: None,
        }];
        for ops in [
            vec![Op::Load(1)],
            vec![Op::Load(0), Op::I64(0), Op::Arith(Arith::Div, Kind::I64)],
            vec![Op::Load(0), Op::F64(0.0), Op::Arith(Arith::Add, Kind::F64)],
            vec![Op::Load(0), Op::Load(0)],
            vec![Op::And],
            vec![Op::I64(0); MAX_STACK + 1],
        ] {
            assert!(Program { ops }.check(&columns).is_err());
        }
    }
}
