//! The result file's JSON Schema, and the tests that keep it, the Rust types and the committed
//! fixture in agreement.
//!
//! The schema is strict (`additionalProperties: false` on every object poolsweep defines) so a
//! field renamed in Rust but not in the schema, or the other way round, fails a test here.

/// The JSON Schema (draft 2020-12) of a result file, as committed in `results/schema.json`.
pub const SCHEMA_JSON: &str = include_str!("../../results/schema.json");

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::SCHEMA_JSON;
    use crate::results::fixtures;

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
