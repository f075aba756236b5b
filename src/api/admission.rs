//! Whether a job may be stored: everything that can be checked before it runs, against the
//! server's limits, the data, the model store and the destination. A job refused here leaves
//! no trace; one admitted can run.

use crate::api::{ApiError, AppState, on_engine};
use crate::results::check_partition_on;
use crate::spec::{JobSpec, MlSpec, WriteMode};

/// Refuses a spec that cannot run here, naming the field at fault.
pub(super) async fn admit(state: &AppState, tenant: &str, spec: &JobSpec) -> Result<(), ApiError> {
    if let Some(own) = spec.max_result_bytes()
        && own > state.max_result_bytes
    {
        return Err(ApiError::InvalidSpec {
            path: "max_result_bytes".into(),
            message: format!(
                "at most {} bytes on this server (RUSK_MAX_RESULT_BYTES)",
                state.max_result_bytes
            ),
        });
    }
    check_retention(state, tenant, spec).await?;
    if let Some(hook) = &spec.webhook {
        check_webhook_host(state, &hook.url).await?;
    }
    let (checked, owner) = (spec.clone(), tenant.to_string());
    let schema = on_engine(state, |engine| async move {
        let frame = engine.plan(&checked, &owner).await?;
        engine.check_constants(&frame)?;
        Ok(frame.schema().as_arrow().clone())
    })
    .await?;
    if let Some(ml) = &spec.ml {
        check_ml(state, tenant, ml, &schema).await?;
    }
    if !spec.output.partition_on.is_empty() && spec.ml.is_none() {
        check_partition_on(&schema, &spec.output.partition_on).map_err(|message| {
            ApiError::InvalidSpec {
                path: "output.partition_on".into(),
                message,
            }
        })?;
    }
    if let Some(path) = &spec.output.path {
        check_destination(state, tenant, spec, path, schema).await?;
    }
    Ok(())
}

/// A job's own retention stays within the server's, and a tenant over its quota of stored
/// results may submit only jobs that write elsewhere (`output.path`).
async fn check_retention(state: &AppState, tenant: &str, spec: &JobSpec) -> Result<(), ApiError> {
    if let (Some(own), Some(server)) = (spec.result_ttl_s, state.result_ttl)
        && own > server
    {
        return Err(ApiError::InvalidSpec {
            path: "result_ttl_s".into(),
            message: format!("at most {server} seconds on this server (RUSK_RESULT_TTL)"),
        });
    }
    let Some(quota) = state.result_quota else {
        return Ok(());
    };
    if spec.output.path.is_some() {
        return Ok(());
    }
    let stored = state.store.stored_bytes(tenant).await?;
    if stored >= quota {
        return Err(ApiError::QuotaExceeded(format!(
            "tenant {tenant:?} keeps {stored} bytes of results, its quota is {quota} \
             (RUSK_RESULT_QUOTA); delete jobs it no longer needs (DELETE /v1/jobs/{{id}}), or \
             write the result to your own storage with output.path"
        )));
    }
    Ok(())
}

/// The receiver must be on the public internet (or in `RUSK_WEBHOOK_ALLOW`); checked again
/// at every delivery.
async fn check_webhook_host(state: &AppState, url: &str) -> Result<(), ApiError> {
    let invalid = |message: String| ApiError::InvalidSpec {
        path: "webhook.url".into(),
        message,
    };
    let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    let host = parsed.host_str().unwrap_or_default();
    let port = parsed.port_or_known_default().unwrap_or(443);
    state
        .webhook_guard
        .resolve(host, port)
        .await
        .map(|_| ())
        .map_err(|e| invalid(format!("{e}; webhooks go to public addresses only")))
}

/// The destination is the caller's to write (confined like sources) and can take this
/// result: empty for `mode: error`, the same columns for `mode: append`.
async fn check_destination(
    state: &AppState,
    tenant: &str,
    spec: &JobSpec,
    path: &str,
    schema: arrow::datatypes::Schema,
) -> Result<(), ApiError> {
    let trusted = !state.store.has_keys().await?;
    let url = state.engine.destination(path, tenant, trusted)?;
    let destination = state
        .results
        .destination(&url)
        .map_err(|e| ApiError::InvalidSpec {
            path: "output.path".into(),
            message: e.to_string(),
        })?;
    // An ML job writes other columns than its pipeline's (a summary, predictions), known
    // only once it runs.
    if spec.ml.is_some() && spec.output.mode == WriteMode::Append {
        return Ok(());
    }
    destination
        .check(&spec.output, &std::sync::Arc::new(schema))
        .await?;
    Ok(())
}

/// What only the data or the model store can tell: the target and features exist (and are
/// numeric or one-hot encoded), and a `predict` names one of the tenant's models whose
/// inputs the frame has.
async fn check_ml(
    state: &AppState,
    tenant: &str,
    ml: &MlSpec,
    schema: &arrow::datatypes::Schema,
) -> Result<(), ApiError> {
    let model = match &ml.model {
        Some(id) => {
            Some(
                state
                    .store
                    .model(tenant, id)
                    .await?
                    .ok_or_else(|| ApiError::InvalidSpec {
                        path: "ml.model".into(),
                        message: format!("no model {id:?}; see GET /v1/models"),
                    })?,
            )
        }
        None => None,
    };
    Ok(crate::ml::check_schema(ml, schema, model.as_ref())?)
}
