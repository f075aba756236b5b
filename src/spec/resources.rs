//! `resources`: what a job needs of the worker that runs it.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::ToSchema;

/// What the job needs of the worker that claims it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// `true`: only a worker with a GPU claims the job (it waits in the queue, at most
    /// `timeout_s`, while none is live); `"prefer"`: any worker, using its GPU where it has
    /// one; `false` (the default): the CPU. Operators the GPU does not cover run on the CPU,
    /// with the same results.
    #[serde(default)]
    #[schema(schema_with = gpu_use_schema)]
    pub gpu: GpuUse,
}

impl Resources {
    pub fn is_default(&self) -> bool {
        *self == Resources::default()
    }
}

/// Whether a job uses a GPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GpuUse {
    #[default]
    Never,
    Require,
    Prefer,
}

impl GpuUse {
    /// Whether a worker with a device runs the job's covered operators on it.
    pub fn wants_device(self) -> bool {
        self != GpuUse::Never
    }
}

fn gpu_use_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    let one_of = OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["prefer"])),
        )
        .description(Some(
            "`true`: a GPU worker only; `\"prefer\"`: a GPU where the worker has one; \
             `false`: the CPU.",
        ))
        .build();
    Schema::OneOf(one_of)
}

impl Serialize for GpuUse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            GpuUse::Never => serializer.serialize_bool(false),
            GpuUse::Require => serializer.serialize_bool(true),
            GpuUse::Prefer => serializer.serialize_str("prefer"),
        }
    }
}

impl<'de> Deserialize<'de> for GpuUse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(GpuUseVisitor)
    }
}

struct GpuUseVisitor;

impl Visitor<'_> for GpuUseVisitor {
    type Value = GpuUse;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true, false or \"prefer\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<GpuUse, E> {
        Ok(if v { GpuUse::Require } else { GpuUse::Never })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<GpuUse, E> {
        match v {
            "prefer" => Ok(GpuUse::Prefer),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_use_reads_and_writes_as_documented() {
        for (text, expected) in [
            ("true", GpuUse::Require),
            ("false", GpuUse::Never),
            ("\"prefer\"", GpuUse::Prefer),
        ] {
            let parsed: GpuUse = serde_json::from_str(text).unwrap();
            assert_eq!(parsed, expected);
            assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
        }
        let error = serde_json::from_str::<GpuUse>("\"always\"").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("expected true, false or \"prefer\"")
        );
    }
}
