//! A spec's pipeline as a DataFusion plan: either guarded SQL or the steps in order, each
//! checked as it is added so that an error names its step.

use std::collections::HashSet;

use datafusion::common::TableReference;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionContext};

use super::EngineError;
use super::{sources, steps};
use crate::spec::JobSpec;

pub(super) async fn build(ctx: &SessionContext, spec: &JobSpec) -> Result<DataFrame, EngineError> {
    if let Some(sql) = &spec.sql {
        return sql_frame(ctx, sql).await;
    }
    let input = spec
        .input_name()
        .ok_or_else(|| EngineError::invalid("input", "name the source the steps start from"))?;
    let mut frame = sources::table(ctx, input).await?;
    for (i, step) in spec.steps.iter().flatten().enumerate() {
        let at = format!("steps[{i}]");
        frame = steps::apply(ctx, frame, step)
            .await
            .map_err(|e| EngineError::invalid(e.path(&at), e.message))?;
        // Analysis (type coercion, column resolution) runs here so a type error names its step.
        frame
            .clone()
            .into_optimized_plan()
            .map_err(|e| EngineError::invalid(&at, e.strip_backtrace()))?;
    }
    Ok(frame)
}

/// The tables `sql` reads, by name (case-sensitive, as sources are registered);
/// `None` where it does not parse or names a table with a schema or catalog, so that every
/// source is registered and planning reports the error.
pub(super) fn tables_named(ctx: &SessionContext, sql: &str) -> Option<HashSet<String>> {
    let state = ctx.state_ref();
    let state = state.read();
    let dialect = state.config().options().sql_parser.dialect;
    let statement = state.sql_to_statement(sql, &dialect).ok()?;
    let tables = state.resolve_table_references(&statement).ok()?;
    tables
        .into_iter()
        .map(|table| match table {
            TableReference::Bare { table } => Some(table.to_string()),
            _ => None,
        })
        .collect()
}

/// A single read-only query: DDL, DML (`COPY`, `INSERT`), `SET` and other statements are
/// refused, and so are `EXPLAIN` and `DESCRIBE`, which do not produce data.
async fn sql_frame(ctx: &SessionContext, sql: &str) -> Result<DataFrame, EngineError> {
    let options = SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    let frame = ctx
        .sql_with_options(sql, options)
        .await
        .map_err(|e| EngineError::invalid("sql", e.strip_backtrace()))?;
    match frame.logical_plan() {
        LogicalPlan::Explain(_) | LogicalPlan::Analyze(_) | LogicalPlan::DescribeTable(_) => Err(
            EngineError::invalid("sql", "only a SELECT query is allowed"),
        ),
        _ => {
            frame
                .clone()
                .into_optimized_plan()
                .map_err(|e| EngineError::invalid("sql", e.strip_backtrace()))?;
            Ok(frame)
        }
    }
}
