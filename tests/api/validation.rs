//! Bad input is refused at submission with a JSON error that names the problem, and no job is
//! created.

use serde_json::{Value, json};

use crate::data;
use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(refuses_bad_input_and_creates_nothing);

fn with_steps(steps: Value) -> Value {
    json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}}, "steps": steps})
}

fn with_sql(sql: &str) -> Value {
    json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}}, "sql": sql})
}

fn with_path(path: &str) -> Value {
    json!({"sources": {"logs": {"format": "csv", "path": path}}, "steps": []})
}

async fn refuses_bad_input_and_creates_nothing(app: TestApp) {
    data::write_logs(&app, 1, 20);
    std::fs::write(app.root.parent().unwrap().join("outside.csv"), "a\n1\n").unwrap();
    let outside = app
        .root
        .parent()
        .unwrap()
        .join("outside.csv")
        .display()
        .to_string();

    let many: String = std::iter::once("level,v\n".to_string())
        .chain((0..1001).map(|i| format!("{i},1\n")))
        .collect();
    app.write("many.csv", &many);
    let many = json!({"format": "csv", "path": "many.csv"});
    let csv_with = |options: Value| {
        json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv", "options": options}},
               "steps": []})
    };

    // (spec, status, error code, path, words the message must contain)
    let cases: Vec<(Value, u16, &str, &str, &str)> = vec![
        (
            with_steps(
                json!([{"op": "ewm", "columns": "click_count", "span": 3, "alpha": 0.5,
                               "order_by": "user_id"}]),
            ),
            422,
            "invalid_spec",
            "steps[0].span",
            "exactly one",
        ),
        (
            json!({"sources": {"m": many}, "steps": [
                {"op": "pivot_table", "index": "v", "columns": "level", "values": "v"}]}),
            422,
            "invalid_spec",
            "steps[0].columns",
            "more than 1000 distinct values",
        ),
        (
            json!({"sources": {"logs": {"format": "csv", "path": "logs/*.csv"}, "m": many},
                   "input": "logs",
                   "steps": [{"op": "merge_asof", "right": "m", "on": "user_id",
                              "tolerance": "1h"}]}),
            422,
            "invalid_spec",
            "steps[0].on",
            "unknown column",
        ),
        (
            with_steps(
                json!([{"op": "merge_asof", "right": "logs", "on": "user_id",
                               "tolerance": "1h"}]),
            ),
            422,
            "invalid_spec",
            "steps[0].tolerance",
            "give a number",
        ),
        (
            with_steps(
                json!([{"op": "get_dummies", "columns": ["status", "user_id"],
                               "prefix": {"status": "s"}}]),
            ),
            422,
            "invalid_spec",
            "steps[0].prefix.user_id",
            "no prefix",
        ),
        (
            csv_with(json!({"parse_dates": ["nope"]})),
            422,
            "invalid_spec",
            "sources.logs.options.parse_dates",
            "unknown column",
        ),
        (
            csv_with(json!({"parse_dates": ["status"], "tz": "Mars/Olympus"})),
            422,
            "invalid_spec",
            "sources.logs.options.tz",
            "not a time zone",
        ),
        (
            with_steps(json!([{"op": "rank", "columns": "click_count", "method": "first"}])),
            422,
            "invalid_spec",
            "steps[0].order_by",
            "row order",
        ),
        (
            with_steps(json!([{"op": "shift", "columns": "click_count"}])),
            422,
            "invalid_spec",
            "steps[0]",
            "order_by",
        ),
        (
            with_steps(json!([{"op": "shift", "columns": "click_count", "order_by": "nope"}])),
            422,
            "invalid_spec",
            "steps[0].order_by",
            "nope",
        ),
        (
            with_steps(
                json!([{"op": "rolling", "columns": "click_count", "window": 0,
                               "agg": "sum", "order_by": "user_id"}]),
            ),
            422,
            "invalid_spec",
            "steps[0].window",
            "expected 1",
        ),
        (
            with_steps(
                json!([{"op": "rolling", "columns": "click_count", "window": 3,
                               "min_periods": 4, "agg": "sum", "order_by": "user_id"}]),
            ),
            422,
            "invalid_spec",
            "steps[0].min_periods",
            "window",
        ),
        (
            with_steps(json!([{"op": "map", "column": "click_count", "mapping": {"ten": 10}}])),
            422,
            "invalid_spec",
            "steps[0].mapping.ten",
            "not a value of column",
        ),
        (
            with_steps(
                json!([{"op": "groupby", "by": "user_id", "agg": {"click_count": "sum"},
                               "transform": {"click_count": "mean"}}]),
            ),
            422,
            "invalid_spec",
            "steps[0].agg",
            "either",
        ),
        (
            with_steps(
                json!([{"op": "rolling", "columns": "click_count", "window": "2 days",
                               "agg": "sum", "order_by": "user_id"}]),
            ),
            422,
            "invalid_spec",
            "steps[0].window",
            "expected e.g.",
        ),
        (
            with_steps(
                json!([{"op": "rolling", "columns": "click_count", "window": "2D",
                               "agg": "sum", "order_by": ["user_id", "click_count"]}]),
            ),
            422,
            "invalid_spec",
            "steps[0].order_by",
            "one timestamp column",
        ),
        (
            with_steps(json!([{"op": "explode", "column": "status"}])),
            422,
            "invalid_spec",
            "steps[0].column",
            "needs a list column",
        ),
        (
            with_steps(json!([{"op": "resample", "on": "user_id", "rule": "0min",
                               "agg": {"click_count": "sum"}}])),
            422,
            "invalid_spec",
            "steps[0].rule",
            "from 1 second",
        ),
        (
            with_steps(
                json!([{"op": "resample", "on": "user_id", "rule": "fortnightly",
                               "agg": {"click_count": "sum"}}]),
            ),
            422,
            "invalid_spec",
            "steps[0].rule",
            "expected e.g.",
        ),
        (
            with_steps(json!([{"op": "melt", "id_vars": "user_id", "var_name": "value"}])),
            422,
            "invalid_spec",
            "steps[0].var_name",
            "differ",
        ),
        (
            with_steps(json!([{"op": "pivot"}])),
            422,
            "invalid_spec",
            "steps[0].op",
            "unknown variant `pivot`",
        ),
        (
            with_steps(json!([{"op": "filter", "expr": "status === 'x'"}])),
            422,
            "invalid_spec",
            "steps[0].expr",
            "",
        ),
        (
            with_steps(json!([{"op": "filter", "expr": "nope > 1"}])),
            422,
            "invalid_spec",
            "steps[0].expr",
            "nope",
        ),
        (
            with_steps(json!([{"op": "filter", "expr": "click_count + 1"}])),
            422,
            "invalid_spec",
            "steps[0].expr",
            "",
        ),
        (
            with_steps(json!([{"op": "select", "columns": ["user_id", "colour"]}])),
            422,
            "invalid_spec",
            "steps[0].columns",
            "colour",
        ),
        (
            with_steps(json!([{"op": "filter", "expr": "status = 'active'"},
                           {"op": "groupby", "by": "country", "agg": {"click_count": "sum"}}])),
            422,
            "invalid_spec",
            "steps[1].by",
            "country",
        ),
        (
            with_steps(
                json!([{"op": "groupby", "by": "user_id", "agg": {"click_count": "total"}}]),
            ),
            422,
            "invalid_spec",
            "steps[0]",
            "unknown variant `total`",
        ),
        (
            with_steps(json!([{"op": "assign", "columns": {"x": "status * 2"}}])),
            422,
            "invalid_spec",
            "steps[0].columns.x",
            "Utf8",
        ),
        (
            {
                let mut s = with_steps(json!([]));
                s["colour"] = json!("red");
                s
            },
            422,
            "invalid_spec",
            "",
            "unknown field `colour`",
        ),
        (
            with_sql("CREATE TABLE t AS SELECT 1"),
            422,
            "invalid_spec",
            "sql",
            "",
        ),
        (
            with_sql("COPY logs TO 'stolen.csv'"),
            422,
            "invalid_spec",
            "sql",
            "",
        ),
        (
            with_sql("SET datafusion.execution.batch_size = 1"),
            422,
            "invalid_spec",
            "sql",
            "",
        ),
        (
            with_sql("INSERT INTO logs VALUES (1)"),
            422,
            "invalid_spec",
            "sql",
            "",
        ),
        (
            with_sql("SELECT 1; SELECT 2"),
            422,
            "invalid_spec",
            "sql",
            "",
        ),
        (
            with_sql("EXPLAIN SELECT * FROM logs"),
            422,
            "invalid_spec",
            "sql",
            "SELECT",
        ),
        (
            with_sql("SELECT * FROM '/etc/passwd'"),
            422,
            "invalid_spec",
            "sql",
            "",
        ),
        (
            with_path("../outside.csv"),
            422,
            "invalid_spec",
            "sources.logs.path",
            "`..`",
        ),
        (
            with_path(&outside),
            422,
            "invalid_spec",
            "sources.logs.path",
            "outside the data root",
        ),
        (
            with_path("logs/missing-*.csv"),
            422,
            "invalid_spec",
            "sources.logs.path",
            "no files match",
        ),
        (
            with_path("s3://bucket/x.csv"),
            422,
            "invalid_spec",
            "sources.logs.path",
            "s3://",
        ),
    ];
    for (spec, status, code, path, words) in cases {
        let response = app.post_job(&spec).await;
        assert_eq!(response.status().as_u16(), status, "for {spec}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "for {spec}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(words),
            "for {spec}: {message:?} lacks {words:?}"
        );
        if !path.is_empty() {
            assert_eq!(body["error"]["details"]["path"], path, "for {spec}: {body}");
        }
    }

    let not_json = app
        .client
        .post(app.url("/v1/jobs"))
        .header("content-type", "application/json")
        .body("{\"sources\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");

    let too_big = app
        .client
        .post(app.url("/v1/jobs"))
        .header("content-type", "application/json")
        .body(vec![b' '; (1 << 20) + 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);

    assert!(app.jobs().await.is_empty(), "nothing was queued");
}
