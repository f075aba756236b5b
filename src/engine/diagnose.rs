//! Naming the file behind a bad value. The CSV reader reports the value, column number and
//! line, but not the file; on that failure path only, each file is read on its own to find it.

use datafusion::arrow::datatypes::Schema;
use futures::StreamExt;

use super::sources::{self, shown, source_files};
use super::{Engine, EngineError, Scope};
use crate::spec::{Format, JobSpec, Paths, Source};

impl Engine {
    /// Adds the source, file and column name to a CSV parse error; other errors pass through.
    /// Paths in the message are relative to the tenant's data root.
    pub async fn locate_error(
        &self,
        spec: &JobSpec,
        tenant: &str,
        error: EngineError,
    ) -> EngineError {
        let Ok(scope) = self.scope(tenant) else {
            return error;
        };
        self.locate(spec, &scope, error)
            .await
            .relative_to(&scope.root)
    }

    async fn locate(&self, spec: &JobSpec, scope: &Scope, error: EngineError) -> EngineError {
        let EngineError::Data(message) = &error else {
            return error;
        };
        if !message.contains("Parser error") {
            return error;
        }
        for (name, source) in &spec.sources {
            if source.format != Format::Csv {
                continue;
            }
            let Ok(files) = source_files(self, scope, name, source).await else {
                continue;
            };
            for file in files {
                let single = Source {
                    path: Paths::One(file.clone()),
                    ..source.clone()
                };
                if let Some(found) = self.read_fails(scope, &single).await {
                    let (schema, cause) = found;
                    return EngineError::Data(format!(
                        "source {name:?}, file {}{}: {cause}",
                        shown(&scope.root, &file),
                        column_name(&cause, &schema)
                    ));
                }
            }
        }
        error
    }

    /// Reads every row and column of a source; the error, if reading fails.
    async fn read_fails(&self, scope: &Scope, source: &Source) -> Option<(Schema, String)> {
        let ctx = self.session_with_partitions(1);
        sources::register(&ctx, self, scope, ("probe", "source"), source)
            .await
            .ok()?;
        let frame = ctx.table("probe").await.ok()?;
        let schema = frame.schema().as_arrow().clone();
        let mut batches = match frame.execute_stream().await {
            Ok(batches) => batches,
            Err(e) => return Some((schema, e.strip_backtrace())),
        };
        while let Some(batch) = batches.next().await {
            if let Err(e) = batch {
                return Some((schema, e.strip_backtrace()));
            }
        }
        None
    }
}

/// `, column "price"` for a message that says `for column 2`.
fn column_name(message: &str, schema: &Schema) -> String {
    let index = message
        .split("for column ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<usize>().ok());
    match index.and_then(|i| schema.fields().get(i)) {
        Some(field) => format!(", column {:?}", field.name()),
        None => String::new(),
    }
}
