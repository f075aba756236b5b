//! Physical expressions that stand in for another one (a faster way to compute the same, or
//! the same with a condition on when it applies) compare and hash as the expression they hold,
//! so that DataFusion's rules find them equal to what they replace.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::physical_expr::PhysicalExpr;

/// `PartialEq`, `Eq` and `Hash` for `$ty` by its field `$field`, the expression it stands in
/// for; with `shown`, also `Display` as that expression.
macro_rules! stands_in_for {
    ($ty:ty, $field:ident, shown) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.$field)
            }
        }

        $crate::engine::stand_in::stands_in_for!($ty, $field);
    };
    ($ty:ty, $field:ident) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.$field.eq(&other.$field)
            }
        }

        impl Eq for $ty {}

        impl std::hash::Hash for $ty {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                std::hash::Hash::hash(&self.$field, state);
            }
        }
    };
}

pub(super) use stands_in_for;

/// `held` with new children, and again the stand-in `wrap` makes of it, if it makes one: the
/// `with_new_children` of a stand-in.
pub(super) fn with_new_children<T: PhysicalExpr + 'static>(
    held: &Arc<dyn PhysicalExpr>,
    children: Vec<Arc<dyn PhysicalExpr>>,
    wrap: impl Fn(&Arc<dyn PhysicalExpr>) -> Option<T>,
) -> Result<Arc<dyn PhysicalExpr>> {
    let rebuilt = Arc::clone(held).with_new_children(children)?;
    Ok(match wrap(&rebuilt) {
        Some(stand_in) => Arc::new(stand_in),
        None => rebuilt,
    })
}

/// A session with DataFusion's own rules and, where given, one physical optimizer rule after
/// them: a stand-in's rule against DataFusion alone, in tests.
#[cfg(test)]
pub(super) fn session_with(
    rule: Option<Arc<dyn datafusion::physical_optimizer::PhysicalOptimizerRule + Send + Sync>>,
) -> datafusion::prelude::SessionContext {
    let state = datafusion::execution::SessionStateBuilder::new().with_default_features();
    let state = match rule {
        Some(rule) => state.with_physical_optimizer_rule(rule),
        None => state,
    };
    datafusion::prelude::SessionContext::new_with_state(state.build())
}
