//! What the three roles of a Ballista cluster (the worker that submits a job, the scheduler
//! that plans it, the executors that run its tasks) must agree on: Rusk's own functions, the
//! codecs that carry the parameterised ones across, and object stores from the environment.

use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use object_store::ObjectStore;
use url::Url;

use super::{bounded, ewm, means, top};
use crate::objects::StoreConfig;

/// `state` with Rusk's functions in place of DataFusion's (`avg` of decimals, the bounded
/// `repeat` and the like): the scheduler plans with them, as the worker does.
pub fn with_rusk_functions(state: SessionState, amplifier_budget: u64) -> SessionState {
    let ctx = SessionContext::new_with_state(state);
    bounded::bound_amplifiers(&ctx, amplifier_budget);
    means::exact_means(&ctx);
    ctx.state()
}

/// The functions an executor decodes task plans with: DataFusion's, with Rusk's in place.
pub fn function_registry(amplifier_budget: u64) -> BallistaFunctionRegistry {
    let state = SessionStateBuilder::new().with_default_features().build();
    let state = with_rusk_functions(state, amplifier_budget);
    BallistaFunctionRegistry {
        scalar_functions: state.scalar_functions().clone(),
        aggregate_functions: state.aggregate_functions().clone(),
        window_functions: state.window_functions().clone(),
        higher_order_functions: state.higher_order_functions().clone(),
    }
}

/// Rusk's functions that carry parameters by value: an `ewm` step's decay, a top-n
/// threshold's `n` (in its name). The registry knows them by name only.
#[derive(Debug, Default)]
struct RuskFunctions;

impl RuskFunctions {
    fn encode_udwf(&self, function: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        if let Some(decay) = ewm::decay_of(function) {
            serde_json::to_writer(buf, &decay)
                .map_err(|e| DataFusionError::Internal(format!("encoding ewm: {e}")))?;
        }
        Ok(())
    }

    fn decode_udwf(&self, name: &str, buf: &[u8]) -> Option<Result<Arc<WindowUDF>>> {
        if name != ewm::NAME || buf.is_empty() {
            return None;
        }
        Some(
            serde_json::from_slice(buf)
                .map(|decay| Arc::new(ewm::function(decay)))
                .map_err(|e| DataFusionError::Internal(format!("decoding ewm: {e}"))),
        )
    }

    fn decode_udaf(&self, name: &str) -> Option<Arc<AggregateUDF>> {
        top::threshold_named(name).map(Arc::new)
    }
}

fn unknown<T>(what: &str, name: &str) -> Result<T> {
    Err(DataFusionError::Plan(format!(
        "{what} {name} is not known to this Rusk process"
    )))
}

/// Ballista's logical codec, with Rusk's parameterised functions.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    ballista: BallistaLogicalExtensionCodec,
    rusk: RuskFunctions,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: arrow::datatypes::SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.ballista
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udaf(&self, name: &str, _buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.rusk
            .decode_udaf(name)
            .map_or_else(|| unknown("aggregate function", name), Ok)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.rusk
            .decode_udwf(name, buf)
            .unwrap_or_else(|| unknown("window function", name))
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.rusk.encode_udwf(node, buf)
    }
}

/// Ballista's physical codec, with Rusk's parameterised functions.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    ballista: BallistaPhysicalExtensionCodec,
    rusk: RuskFunctions,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.ballista.try_decode(buf, inputs, ctx, converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.ballista.try_encode(node, buf, converter)
    }

    fn try_decode_udaf(&self, name: &str, _buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        self.rusk
            .decode_udaf(name)
            .map_or_else(|| unknown("aggregate function", name), Ok)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        self.rusk
            .decode_udwf(name, buf)
            .unwrap_or_else(|| unknown("window function", name))
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        self.rusk.encode_udwf(node, buf)
    }
}

/// Object stores opened on first use from this process's environment (`AWS_*`, `GOOGLE_*`,
/// `AZURE_*`), as a worker opens them; never `http(s)`, whose sources a worker checks
/// against the SSRF guard and a cluster process could not.
#[derive(Debug)]
pub struct EnvStores {
    config: StoreConfig,
    opened: DefaultObjectStoreRegistry,
}

impl EnvStores {
    pub fn new(config: StoreConfig) -> EnvStores {
        EnvStores {
            config,
            opened: DefaultObjectStoreRegistry::new(),
        }
    }
}

impl ObjectStoreRegistry for EnvStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.opened.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.opened.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.opened.get_store(url) {
            return Ok(store);
        }
        if matches!(url.scheme(), "http" | "https") {
            return Err(DataFusionError::Configuration(format!(
                "{url}: http(s) sources do not run on a Ballista cluster"
            )));
        }
        let (store, _) = self
            .config
            .open(url.as_str())
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        self.opened.register_store(url, store.clone());
        Ok(store)
    }
}
