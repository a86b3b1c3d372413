//! The result file's JSON Schema, and the tests that keep it, the Rust types and the committed
//! fixture in agreement.
//!
//! The schema is strict (`additionalProperties: false` on every object poolsweep defines), and
//! a test walks it beside serialised Rust values: every object it defines lists exactly the
//! fields serde writes, all required, and every enum exactly the names of its Rust type. A
//! field or variant added, renamed or removed on one side and not the other fails a test here.

/// The JSON Schema (draft 2020-12) of a result file, as committed in `results/schema.json`.
pub const SCHEMA_JSON: &str = include_str!("../../results/schema.json");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::ValueEnum;
    use serde_json::Value;

    use super::SCHEMA_JSON;
    use crate::modes::ClientMode;
    use crate::results::fixtures;
    use crate::transport::PoolKind;
    use crate::workload::{Op, Pattern};

    const SCHEMA_URL: &str = "https://example.invalid/poolsweep/results/schema.json";

    /// Validates `instance`, returning the validator's message on failure.
    fn validate(instance: &Value) -> Result<(), String> {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).expect("schema.json is JSON");
        assert_eq!(schema["$id"], SCHEMA_URL);
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        compiler
            .add_resource(SCHEMA_URL, schema)
            .expect("add schema");
        let index = compiler
            .compile(SCHEMA_URL, &mut schemas)
            .unwrap_or_else(|e| panic!("{e:#}"));
        schemas
            .validate(instance, index)
            .map_err(|e| format!("{e:#}"))
    }

    fn committed_fixture() -> Value {
        serde_json::from_str(include_str!("../../tests/fixtures/run-small.json"))
            .expect("fixture is JSON")
    }

    #[test]
    fn committed_fixture_is_valid() {
        validate(&committed_fixture()).unwrap();
    }

    #[test]
    fn serialised_types_are_valid() {
        for run in [fixtures::small(), fixtures::realistic()] {
            validate(&serde_json::to_value(&run).unwrap()).unwrap();
        }
        // Every nullable field as null.
        let mut run = fixtures::small();
        run.meta.git_commit = None;
        run.meta.git_dirty = None;
        run.meta.toolchain = None;
        run.meta.cpu_model = None;
        run.meta.rlimit_nofile = None;
        run.points[0].projected_s = None;
        run.recommendations[0].rule_of_thumb.objects_per_s = None;
        run.recommendations[0].rule_of_thumb.vs_best_pct = None;
        validate(&serde_json::to_value(&run).unwrap()).unwrap();
    }

    /// Follows a local `$ref` (`#/$defs/name`).
    fn resolve<'s>(root: &'s Value, node: &'s Value) -> &'s Value {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) => root
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling $ref {r}")),
            None => node,
        }
    }

    /// Checks that every object `node` describes has exactly the keys `instance` has, all
    /// required, down the tree.
    fn same_fields(
        root: &Value,
        node: &Value,
        instance: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let node = resolve(root, node);
        match instance {
            Value::Object(fields) => {
                let Some(props) = node.get("properties").and_then(Value::as_object) else {
                    return; // free-form (the config, the server's counters)
                };
                let described: BTreeSet<&str> = props.keys().map(String::as_str).collect();
                let written: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
                if described != written {
                    errors.push(format!(
                        "{at}: the schema has {:?}, serde writes {:?}",
                        described.difference(&written).collect::<Vec<_>>(),
                        written.difference(&described).collect::<Vec<_>>()
                    ));
                }
                let required: BTreeSet<&str> = node["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if required != described {
                    errors.push(format!("{at}: not every field is required"));
                }
                for (k, v) in fields {
                    if let Some(p) = props.get(k) {
                        same_fields(root, p, v, &format!("{at}.{k}"), errors);
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item) = node.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        same_fields(root, item, v, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            _ => {}
        }
    }

    fn names<T: ValueEnum + serde::Serialize>() -> BTreeSet<String> {
        T::value_variants()
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn schema_describes_exactly_the_types() {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).unwrap();
        // Every optional field set, so that nested objects are walked too.
        let run = fixtures::realistic();
        assert!(run.meta.rlimit_nofile.is_some());
        let mut errors = Vec::new();
        same_fields(
            &schema,
            &schema,
            &serde_json::to_value(&run).unwrap(),
            "run",
            &mut errors,
        );
        assert!(errors.is_empty(), "{}", errors.join("\n"));

        let enum_at = |pointer: &str| -> BTreeSet<String> {
            let node = resolve(&schema, schema.pointer(pointer).unwrap());
            node["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{pointer} is no enum"))
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            enum_at("/$defs/point/properties/client"),
            names::<ClientMode>()
        );
        assert_eq!(
            enum_at("/$defs/recommendation/properties/client"),
            names::<ClientMode>()
        );
        assert_eq!(enum_at("/$defs/point/properties/pool"), names::<PoolKind>());
        assert_eq!(
            enum_at("/$defs/point/properties/pattern"),
            names::<Pattern>()
        );
        assert_eq!(enum_at("/$defs/point/properties/op"), names::<Op>());
        assert_eq!(enum_at("/$defs/sdk"), names::<crate::sut::Sdk>());
    }

    /// The walk above fails on a field the schema lacks, and on one it has too many.
    #[test]
    fn a_field_on_one_side_only_is_found() {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).unwrap();
        let mut doc = serde_json::to_value(fixtures::small()).unwrap();
        doc["points"][0]["colour"] = "poolsweep".into();
        doc["meta"].as_object_mut().unwrap().remove("cores");
        let mut errors = Vec::new();
        same_fields(&schema, &schema, &doc, "run", &mut errors);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("cores") && errors[1].contains("colour"),
            "{errors:?}"
        );
    }

    #[test]
    fn missing_required_field_is_invalid() {
        let mut doc = committed_fixture();
        doc["points"][0]
            .as_object_mut()
            .unwrap()
            .remove("objects_per_s");
        let msg = validate(&doc).unwrap_err();
        assert!(msg.contains("objects_per_s"), "{msg}");

        let mut doc = committed_fixture();
        doc.as_object_mut().unwrap().remove("meta");
        assert!(validate(&doc).unwrap_err().contains("meta"));
    }

    #[test]
    fn wrong_values_are_invalid() {
        fn client(d: &mut Value) {
            d["points"][0]["client"] = "pooled".into();
        }
        fn infinity_as_string(d: &mut Value) {
            d["points"][0]["max_sockets"] = "inf".into();
        }
        fn zero_max_sockets(d: &mut Value) {
            d["points"][0]["max_sockets"] = 0.into();
        }
        fn unknown_field(d: &mut Value) {
            d["points"][0]["latency_ms"]["p95"] = 1.0.into();
        }
        fn bad_date(d: &mut Value) {
            d["meta"]["date"] = "yesterday".into();
        }
        type Breaker = fn(&mut Value);
        let cases: [(&str, Breaker); 5] = [
            ("unknown client", client),
            ("Infinity as a string", infinity_as_string),
            ("zero maxSockets", zero_max_sockets),
            ("unknown field", unknown_field),
            ("bad date", bad_date),
        ];
        for (what, break_it) in cases {
            let mut doc = committed_fixture();
            break_it(&mut doc);
            assert!(validate(&doc).is_err(), "{what} was accepted");
        }
    }
}
