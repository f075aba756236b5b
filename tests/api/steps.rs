//! The cleaning and exploring steps, each against pandas' answer on the same small frame
//! (worked out by hand below), including nulls and NaN.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(cleaning_and_exploring_steps);

const FRAME: &str = "id,name,price,qty,city
1,apple,1.5,10,berlin
2,pear,,5,paris
3,apple,1.5,10,berlin
4,,2.0,,rome
5,kiwi,NaN,3,
";

fn spec(steps: Value) -> Value {
    json!({
        "sources": {
            "t": {"format": "csv", "path": "t.csv", "options": {"dtype": {"price": "float64"}}},
            "more": {"format": "csv", "path": "more.csv"},
            "prices": {"format": "csv", "path": "prices.csv"}
        },
        "input": "t",
        "steps": steps
    })
}

async fn rows(app: &TestApp, steps: Value) -> Vec<Value> {
    let job = app.run(&spec(steps)).await;
    let rows = app.result_json(job["id"].as_str().unwrap(), "").await;
    rows.as_array().unwrap().clone()
}

fn ids(rows: &[Value]) -> Vec<i64> {
    let mut ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    ids.sort();
    ids
}

fn by_id(rows: &[Value], id: i64) -> Value {
    rows.iter().find(|r| r["id"] == id).unwrap().clone()
}

fn write_frames(app: &TestApp) {
    app.write("t.csv", FRAME);
    app.write("more.csv", "id,name,extra\n6,fig,x\n7,lime,y\n");
    app.write(
        "prices.csv",
        "pid,name,price\n1,apple,9\n3,apple,9\n9,plum,1\n",
    );
}

async fn cleaning_and_exploring_steps(app: TestApp) {
    write_frames(&app);

    // astype: types change, values convert.
    let job = app
        .run(&spec(
            json!([{"op": "astype", "columns": {"qty": "float64", "id": "string"}}]),
        ))
        .await;
    let types: Vec<(String, String)> = job["result"]["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        types.contains(&("qty".into(), "Float64".into())),
        "{types:?}"
    );
    assert!(types.contains(&("id".into(), "Utf8".into())), "{types:?}");

    // fillna with one value fills the numeric columns only (null and NaN alike).
    let filled = rows(&app, json!([{"op": "fillna", "value": 0}])).await;
    assert_eq!(by_id(&filled, 2)["price"], json!(0.0));
    assert_eq!(by_id(&filled, 5)["price"], json!(0.0));
    assert_eq!(by_id(&filled, 4)["qty"], json!(0));
    assert!(
        by_id(&filled, 4).get("name").is_none(),
        "strings untouched by a number"
    );
    let filled = rows(
        &app,
        json!([{"op": "fillna", "columns": {"name": "unknown", "price": -1}}]),
    )
    .await;
    assert_eq!(by_id(&filled, 4)["name"], "unknown");
    assert_eq!(by_id(&filled, 2)["price"], json!(-1.0));
    assert!(
        by_id(&filled, 4).get("qty").is_none(),
        "qty not named, so left null"
    );

    // dropna: any column missing (row 5 has NaN and an empty city); a subset; how=all.
    assert_eq!(ids(&rows(&app, json!([{"op": "dropna"}])).await), [1, 3]);
    assert_eq!(
        ids(&rows(&app, json!([{"op": "dropna", "subset": ["price"]}])).await),
        [1, 3, 4]
    );
    let all = json!([{"op": "dropna", "subset": ["name", "qty"], "how": "all"}]);
    assert_eq!(ids(&rows(&app, all).await), [1, 2, 3, 5]);

    // drop_duplicates: rows 1 and 3 agree on everything but id.
    let subset = json!([{"op": "drop_duplicates", "subset": ["name", "price", "qty", "city"]}]);
    assert_eq!(rows(&app, subset).await.len(), 4);
    assert_eq!(
        rows(&app, json!([{"op": "drop_duplicates"}])).await.len(),
        5
    );

    // concat matches columns by name; missing ones are null.
    let joined = rows(&app, json!([{"op": "concat", "others": ["more"]}])).await;
    assert_eq!(ids(&joined), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(by_id(&joined, 6)["extra"], "x");
    assert!(by_id(&joined, 1).get("extra").is_none());
    assert!(by_id(&joined, 6).get("price").is_none());

    // value_counts: most frequent first, nulls left out.
    let counts = rows(&app, json!([{"op": "value_counts", "column": "name"}])).await;
    assert_eq!(counts.len(), 3);
    assert_eq!(counts[0], json!({"name": "apple", "count": 2}));

    // describe: pandas' statistics, NaN and null skipped, std with ddof=1, linear quantiles.
    let table = rows(&app, json!([{"op": "describe"}])).await;
    let labels: Vec<&str> = table
        .iter()
        .map(|r| r["statistic"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["count", "mean", "std", "min", "25%", "50%", "75%", "max"]
    );
    let expected = [
        ("id", [5.0, 3.0, 2.5f64.sqrt(), 1.0, 2.0, 3.0, 4.0, 5.0]),
        (
            "qty",
            [4.0, 7.0, (38.0f64 / 3.0).sqrt(), 3.0, 4.5, 7.5, 10.0, 10.0],
        ),
        (
            "price",
            [
                3.0,
                5.0 / 3.0,
                (1.0f64 / 12.0).sqrt(),
                1.5,
                1.5,
                1.5,
                1.75,
                2.0,
            ],
        ),
    ];
    for (column, values) in expected {
        for (row, want) in table.iter().zip(values) {
            let got = row[column].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "{column} {}: {got} vs {want}",
                row["statistic"]
            );
        }
    }
}

mod shaping {
    use super::shaping_steps_and_merges;
    crate::on_both_stores!(shaping_steps_and_merges);
}

/// `select`, `drop`, `rename` and every kind of `merge`, against pandas' answers worked out by
/// hand: pandas keeps one `on` column (filled from either side in an outer merge), both
/// `left_on`/`right_on` columns, and suffixes other shared names.
async fn shaping_steps_and_merges(app: TestApp) {
    write_frames(&app);

    let shaped = rows(
        &app,
        json!([{"op": "drop", "columns": ["city"]},
               {"op": "rename", "columns": {"qty": "quantity"}},
               {"op": "select", "columns": ["quantity", "id"]}]),
    )
    .await;
    assert_eq!(shaped[0], json!({"quantity": 10, "id": 1}));

    let merge = |how: &str| {
        json!([{"op": "merge", "right": "prices", "left_on": "id", "right_on": "pid", "how": how},
               {"op": "select", "columns": ["id", "pid", "name_x", "name_y", "price_x", "price_y"]}])
    };
    let inner = rows(&app, merge("inner")).await;
    assert_eq!(ids(&inner), [1, 3]);
    assert_eq!(by_id(&inner, 1)["name_y"], "apple");
    assert_eq!(by_id(&inner, 1)["price_y"], 9);
    let left = rows(&app, merge("left")).await;
    assert_eq!(ids(&left), [1, 2, 3, 4, 5]);
    assert!(by_id(&left, 2).get("pid").is_none());
    let right = rows(&app, merge("right")).await;
    assert_eq!(right.len(), 3);
    assert!(right.iter().any(|r| r["pid"] == 9 && r.get("id").is_none()));
    let outer = rows(&app, merge("outer")).await;
    assert_eq!(outer.len(), 6);

    // `on` keeps one key column; in an outer merge it comes from whichever side has it.
    let spec = json!({
        "sources": {"t": {"format": "csv", "path": "t.csv"},
                    "more": {"format": "csv", "path": "more.csv"}},
        "input": "t",
        "steps": [{"op": "merge", "right": "more", "on": "id", "how": "outer",
                   "suffixes": ["_left", "_right"]}]
    });
    let job = app.run(&spec).await;
    let outer = app.result_json(job["id"].as_str().unwrap(), "").await;
    let outer = outer.as_array().unwrap();
    assert_eq!(ids(outer), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(by_id(outer, 6)["name_right"], "fig");
    assert_eq!(by_id(outer, 1)["name_left"], "apple");
    let names: Vec<&str> = job["result"]["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "name_left",
            "price",
            "qty",
            "city",
            "name_right",
            "extra"
        ]
    );
}
