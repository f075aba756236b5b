//! Bounds on what one spec may ask for, checked before anything is planned. Each protects the
//! process from an input whose planning cost or recursion depth grows without limit: the
//! planner walks expression trees recursively, so a 2,600-term `1+1+…+1` would exhaust a
//! thread's stack, and a 3,000-source `concat` takes minutes to plan.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use super::validate::SpecError;

/// Sources of one spec.
pub const MAX_SOURCES: usize = 64;
/// Steps of one spec.
pub const MAX_STEPS: usize = 256;
/// Frames one `concat` appends.
pub const MAX_CONCAT: usize = 64;
/// Paths (files, directories, globs) listed for one source.
pub const MAX_PATHS: usize = 1000;
/// Columns named by one step (`assign`, `rename`, `astype`, `select`, …).
pub const MAX_STEP_COLUMNS: usize = 1000;
/// Operators (`+`, `AND`, `=`, …) in one step expression: each is one level of the tree the
/// planner recurses through.
pub const MAX_EXPRESSION_OPERATORS: usize = 256;
/// Operators in the whole `sql` query.
pub const MAX_SQL_OPERATORS: usize = 1024;
/// Nested parentheses in an expression or query.
pub const MAX_NESTING: usize = 32;
/// Characters of one expression; the `sql` query may use the whole body.
pub const MAX_EXPRESSION_CHARS: usize = 64 * 1024;
/// The largest `head` n: the largest integer every JSON client reads exactly (2^53 - 1).
pub const MAX_ROWS: u64 = (1 << 53) - 1;
/// Entries of one `map` step's mapping: each is a branch of one expression.
pub const MAX_MAPPING: usize = 10_000;
/// Rows of one `rolling` window: the engine keeps that many values per column and group.
pub const MAX_WINDOW: u32 = 100_000;

/// A count that must not pass `max`.
pub fn at_most(path: &str, what: &str, count: usize, max: usize) -> Result<(), SpecError> {
    if count > max {
        return Err(SpecError::invalid(
            path,
            format!("at most {max} {what} (got {count})"),
        ));
    }
    Ok(())
}

/// An expression of a step: its size, operators and nesting bounded.
pub fn check_expression(path: &str, text: &str) -> Result<(), SpecError> {
    at_most(path, "characters", text.len(), MAX_EXPRESSION_CHARS)?;
    check_shape(path, text, MAX_EXPRESSION_OPERATORS)
}

/// The `sql` query: operators and nesting bounded (its size is the body's).
pub fn check_query(path: &str, text: &str) -> Result<(), SpecError> {
    check_shape(path, text, MAX_SQL_OPERATORS)
}

/// Counts operators and the deepest parenthesis with SQL's own tokenizer (so quoted text
/// and identifiers do not count). A text that does not tokenize is left to the planner,
/// which names the error.
fn check_shape(path: &str, text: &str, max_operators: usize) -> Result<(), SpecError> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, text).tokenize() else {
        return Ok(());
    };
    let (mut operators, mut depth, mut deepest) = (0usize, 0usize, 0usize);
    for token in &tokens {
        match token {
            Token::LParen | Token::LBracket => {
                // `a[1][1]…` nests as deeply as `a + 1 + …`.
                operators += usize::from(*token == Token::LBracket);
                depth += 1;
                deepest = deepest.max(depth);
            }
            Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
            token if is_operator(token) => operators += 1,
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(SpecError::invalid(
            path,
            format!("parentheses nested at most {MAX_NESTING} deep (got {deepest})"),
        ));
    }
    if operators > max_operators {
        return Err(SpecError::invalid(
            path,
            format!(
                "at most {max_operators} operators in one expression (got {operators}); \
                 split it into several steps"
            ),
        ));
    }
    Ok(())
}

fn is_operator(token: &Token) -> bool {
    match token {
        Token::Word(word) => matches!(
            word.keyword,
            Keyword::AND
                | Keyword::OR
                | Keyword::NOT
                | Keyword::XOR
                | Keyword::IS
                | Keyword::LIKE
                | Keyword::ILIKE
                | Keyword::BETWEEN
                | Keyword::WHEN
                | Keyword::UNION
                | Keyword::JOIN
        ),
        Token::Plus
        | Token::Minus
        | Token::Mul
        | Token::Div
        | Token::DuckIntDiv
        | Token::Mod
        | Token::Eq
        | Token::DoubleEq
        | Token::Neq
        | Token::Lt
        | Token::Gt
        | Token::LtEq
        | Token::GtEq
        | Token::Spaceship
        | Token::StringConcat
        | Token::Caret
        | Token::Ampersand
        | Token::Pipe
        | Token::ShiftLeft
        | Token::ShiftRight
        | Token::DoubleColon => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(terms: usize, op: &str) -> String {
        vec!["1"; terms].join(op)
    }

    #[test]
    fn refuses_long_operator_chains() {
        let long = format!("x > {}", chain(2600, "+"));
        let err = check_expression("steps[0].expr", &long).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("steps[0].expr: at most 256 operators")
        );
        let ands = chain(300, " AND x = ");
        assert!(check_expression("e", &ands).is_err());
        assert!(check_expression("e", &format!("x > {}", chain(200, "+"))).is_ok());
    }

    #[test]
    fn quoted_text_is_not_an_operator() {
        let text = format!("name = '{}'", "+".repeat(5000));
        assert!(check_expression("e", &text).is_ok());
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = format!("{}x{}", "(".repeat(40), ")".repeat(40));
        let err = check_expression("e", &deep).unwrap_err();
        assert!(err.to_string().contains("nested at most 32"), "{err}");
    }

    #[test]
    fn a_long_in_list_is_fine() {
        let list: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
        assert!(check_expression("e", &format!("x IN ({})", list.join(", "))).is_ok());
    }
}
