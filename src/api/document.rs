//! The OpenAPI document as generated clients need it: what the route annotations give, plus
//! the answers every `/v1` operation shares, a named schema for each kind of step, and a
//! schema for every non-JSON body.

use utoipa::openapi::schema::{
    Discriminator, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// The document served at `/openapi.json` and committed as `openapi/openapi.json`.
pub(super) fn finish(api: OpenApi) -> OpenApi {
    let api = with_common_errors(api);
    let api = with_body_schemas(api);
    with_named_variants(api, "Step", "op")
}

/// Answers every `/v1` operation may give, whatever the handler: a bad parameter (400), no or
/// a wrong key (401), a link that does not fit (403), the store down (503); for bodies, 413.
fn with_common_errors(mut api: OpenApi) -> OpenApi {
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build()
    };
    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with("/v1/") {
            continue;
        }
        let operations = [&mut item.get, &mut item.post, &mut item.delete];
        for (i, operation) in operations.into_iter().enumerate() {
            let Some(operation) = operation else { continue };
            let mut common = vec![
                ("400", "A bad parameter"),
                ("401", "No API key, or an unknown or revoked one"),
                (
                    "403",
                    "A signed link that is altered, expired or for another resource",
                ),
                ("503", "Job store unavailable"),
            ];
            if i == 1 {
                common.push(("413", "Body larger than 1 MiB"));
                common.push(("415", "A body that is not declared as JSON"));
            }
            for (status, description) in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| error(description).into());
            }
        }
    }
    api
}

/// Result files, reports and event streams are bytes or text: said so, generated clients
/// hand them over as such instead of trying to parse them as JSON (or dropping them).
fn with_body_schemas(mut api: OpenApi) -> OpenApi {
    for item in api.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.post, &mut item.delete];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                let RefOr::T(response) = response else {
                    continue;
                };
                for (media_type, content) in response.content.iter_mut() {
                    let RefOr::T(content) = content else { continue };
                    if content.schema.is_none() && media_type != "application/json" {
                        content.schema = Some(body_schema(media_type).into());
                    }
                }
            }
        }
    }
    api
}

fn body_schema(media_type: &str) -> Schema {
    let text = media_type.starts_with("text/") || media_type == "application/x-ndjson";
    let schema = ObjectBuilder::new().schema_type(Type::String);
    let schema = if text {
        schema
    } else {
        schema.format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
    };
    schema.build().into()
}

/// An internally tagged enum (`{"op": "filter", …}`) comes out of the derive as a `oneOf` of
/// anonymous objects, which generators name by position and merge wrongly. Each variant
/// becomes a schema of its own (`StepFilter`, …) and the `oneOf` a discriminated union of
/// references to them.
fn with_named_variants(mut api: OpenApi, name: &str, tag: &str) -> OpenApi {
    let Some(components) = api.components.as_mut() else {
        return api;
    };
    let Some(RefOr::T(Schema::OneOf(union))) = components.schemas.get_mut(name) else {
        return api;
    };
    let mut named = Vec::new();
    for item in union.items.iter_mut() {
        let Some(value) = tag_value(item, tag) else {
            continue;
        };
        let variant = format!("{name}{}", camel_case(&value));
        let schema = std::mem::replace(item, Ref::from_schema_name(&variant).into());
        named.push((value, variant, schema));
    }
    union.discriminator = Some(Discriminator::with_mapping(
        tag,
        named
            .iter()
            .map(|(value, variant, _)| (value.clone(), format!("#/components/schemas/{variant}"))),
    ));
    for (_, variant, schema) in named {
        components.schemas.insert(variant, schema);
    }
    api
}

/// The one value a variant's tag property may take.
fn tag_value(item: &RefOr<Schema>, tag: &str) -> Option<String> {
    let RefOr::T(Schema::Object(object)) = item else {
        return None;
    };
    let RefOr::T(Schema::Object(property)) = object.properties.get(tag)? else {
        return None;
    };
    match property.enum_values.as_deref()? {
        [serde_json::Value::String(value)] => Some(value.clone()),
        _ => None,
    }
}

fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_is_a_named_schema_behind_the_discriminator() {
        let api = super::super::openapi();
        let schemas = &api.components.as_ref().unwrap().schemas;
        let Some(RefOr::T(Schema::OneOf(step))) = schemas.get("Step") else {
            panic!("Step is a oneOf");
        };
        let mapping = &step.discriminator.as_ref().unwrap().mapping;
        assert_eq!(mapping.len(), step.items.len());
        assert_eq!(
            mapping["drop_duplicates"],
            "#/components/schemas/StepDropDuplicates"
        );
        for target in mapping.values() {
            let name = target.trim_start_matches("#/components/schemas/");
            assert!(
                matches!(schemas.get(name), Some(RefOr::T(Schema::Object(_)))),
                "{name}"
            );
        }
    }

    #[test]
    fn snake_case_tags_become_camel_case_names() {
        assert_eq!(camel_case("value_counts"), "ValueCounts");
        assert_eq!(camel_case("filter"), "Filter");
    }
}
