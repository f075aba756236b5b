//! ML jobs against scikit-learn on the same generated data (10,000+ rows): held-out scores
//! within a stated tolerance (accuracy ±0.03, R² ±0.02, k-means adjusted Rand index ≥ 0.95),
//! the same best candidate as GridSearchCV, a model trained in one job predicting in
//! another, and bad specs refused with 422.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, python_with, spawn_app};

fn reference(python: &str, args: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/ml_reference.py");
    let output = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn ml_job(file: &str, ml: Value) -> Value {
    json!({
        "sources": {"d": {"format": "csv", "path": file}},
        "steps": [],
        "ml": ml
    })
}

async fn train(app: &TestApp, file: &str, ml: Value) -> Value {
    let job = app.run(&ml_job(file, ml)).await;
    job["result"]["ml"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn estimators_match_scikit_learn() {
    let Some(python) = python_with("sklearn, pandas", "the scikit-learn parity test") else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let root = app.root.to_str().unwrap().to_string();
    let expected = reference(&python, &["generate", &root]);
    let cases = [
        (
            "logistic_regression",
            "classes.csv",
            "accuracy",
            0.03,
            json!({}),
        ),
        (
            "random_forest_classifier",
            "classes.csv",
            "accuracy",
            0.03,
            json!({"n_estimators": 50}),
        ),
        (
            "gradient_boosting_classifier",
            "classes.csv",
            "accuracy",
            0.03,
            json!({}),
        ),
        ("linear_regression", "values.csv", "r2", 0.02, json!({})),
        (
            "random_forest_regressor",
            "values.csv",
            "r2",
            0.02,
            json!({"n_estimators": 50}),
        ),
        (
            "gradient_boosting_regressor",
            "values.csv",
            "r2",
            0.02,
            json!({}),
        ),
    ];
    let mut models = std::collections::BTreeMap::new();
    for (estimator, file, metric, tolerance, params) in cases {
        let ml = train(
            &app,
            file,
            json!({"task": "fit", "estimator": estimator, "target": "y", "test_size": 0.25,
                   "seed": 0, "params": params}),
        )
        .await;
        let ours = ml["metrics"][metric].as_f64().unwrap();
        let theirs = expected["scores"][estimator].as_f64().unwrap();
        eprintln!("{estimator}: {metric} rusk {ours:.4}, scikit-learn {theirs:.4}");
        assert!(
            ours >= theirs - tolerance,
            "{estimator}: {metric} {ours} vs scikit-learn {theirs} (tolerance {tolerance})"
        );
        if let Some(theirs) = expected["roc_auc"][estimator].as_f64() {
            // Every binary classifier gives probabilities, so ROC AUC is comparable too.
            let ours = ml["metrics"]["roc_auc"].as_f64().unwrap();
            eprintln!("{estimator}: roc_auc rusk {ours:.4}, scikit-learn {theirs:.4}");
            assert!(
                ours >= theirs - 0.02,
                "{estimator}: roc_auc {ours} vs {theirs}"
            );
        }
        models.insert(estimator, ml["model_id"].as_str().unwrap().to_string());
    }

    // k-means on separated blobs: the clusters are the blobs.
    let job = app
        .run(&ml_job(
            "blobs.csv",
            json!({"task": "fit", "estimator": "kmeans", "features": ["x0", "x1"],
                   "params": {"n_clusters": 4}, "seed": 0}),
        ))
        .await;
    let (status, _, body) = app
        .get_bytes(job["result"]["links"]["parquet"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    let file = app.root.join("clusters.parquet");
    std::fs::write(&file, &body).unwrap();
    let ari = reference(&python, &["ari", file.to_str().unwrap()])["ari"]
        .as_f64()
        .unwrap();
    eprintln!("kmeans: adjusted Rand index {ari:.4}");
    assert!(ari >= 0.95, "adjusted Rand index {ari}");
    assert!(
        job["result"]["ml"]["metrics"]["silhouette"]
            .as_f64()
            .unwrap()
            > 0.3
    );

    // A model trained by one job predicts in another, with its preprocessing.
    let forest = &models["random_forest_classifier"];
    let predicted = app
        .run(&ml_job(
            "classes.csv",
            json!({"task": "predict", "model": forest}),
        ))
        .await;
    let rows = app.result_json(predicted["id"].as_str().unwrap(), "").await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 12000);
    let right = rows.iter().filter(|r| r["prediction"] == r["y"]).count() as f64;
    let accuracy = right / rows.len() as f64;
    assert!(
        accuracy
            >= expected["scores"]["random_forest_classifier"]
                .as_f64()
                .unwrap()
                - 0.03,
        "predicting with the stored model: accuracy {accuracy}"
    );
    // The forest's probability is its trees' vote for class 1, so it agrees with the vote.
    for row in rows {
        let p = row["probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{row}");
        if p != 0.5 {
            assert_eq!(row["prediction"], json!(i64::from(p > 0.5)), "{row}");
        }
    }
    let listed = app.get_json("/v1/models").await;
    assert_eq!(listed["models"].as_array().unwrap().len(), 7);
    let one = app.get_json(&format!("/v1/models/{forest}")).await;
    assert_eq!(one["estimator"], "random_forest_classifier");
    assert_eq!(one["features"], json!(["x0", "x1", "x2", "x3", "x4", "x5"]));
    assert!(one["metrics"]["accuracy"].is_number());

    // Grid search picks what GridSearchCV picks on a clear-cut grid.
    let search = app
        .run(&ml_job(
            "classes.csv",
            json!({"task": "grid_search", "estimator": "random_forest_classifier",
                   "target": "y", "params": {"n_estimators": 20}, "cv": 3, "seed": 0,
                   "param_grid": {"max_depth": [1, 8], "min_samples_leaf": [1, 50]}}),
        ))
        .await;
    let ml = &search["result"]["ml"];
    for (name, value) in expected["grid_best"].as_object().unwrap() {
        assert_eq!(&ml["best_params"][name], value, "{ml}");
    }
    let table = app.result_json(search["id"].as_str().unwrap(), "").await;
    let table = table.as_array().unwrap();
    assert_eq!(table.len(), 4);
    let best = table.iter().find(|r| r["rank_test_score"] == 1).unwrap();
    assert_eq!(best["param_max_depth"], 8.0);
    assert!(
        (best["mean_test_score"].as_f64().unwrap() - ml["best_score"].as_f64().unwrap()).abs()
            < 1e-9
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ml_specs_are_refused() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.write(
        "d.csv",
        "a,b,country,y\n1,2,fr,0\n3,4,de,1\n5,6,fr,0\n7,8,de,1\n",
    );
    let fit = |extra: Value| {
        let mut ml = json!({"task": "fit", "estimator": "random_forest_classifier", "target": "y"});
        for (k, v) in extra.as_object().unwrap() {
            ml[k] = v.clone();
        }
        ml_job("d.csv", ml)
    };
    for (spec, path) in [
        (fit(json!({"estimator": "svm"})), "ml.estimator"),
        (fit(json!({"params": {"n_trees": 5}})), "ml.params.n_trees"),
        (
            fit(json!({"params": {"max_depth": 0}})),
            "ml.params.max_depth",
        ),
        (fit(json!({"target": "nope"})), "ml.target"),
        (fit(json!({})), "ml.features[2]"),
        (fit(json!({"features": ["a", "zz"]})), "ml.features[1]"),
        (fit(json!({"test_size": 0.9})), "ml.test_size"),
        (
            fit(json!({"param_grid": {"max_depth": [2]}})),
            "ml.param_grid",
        ),
        (
            ml_job(
                "d.csv",
                json!({"task": "predict", "model": "model_0123abcd"}),
            ),
            "ml.model",
        ),
        (ml_job("d.csv", json!({"task": "predict"})), "ml.model"),
        (
            ml_job(
                "d.csv",
                json!({"task": "fit", "estimator": "kmeans", "target": "y"}),
            ),
            "ml.target",
        ),
    ] {
        let response = app.post_job(&spec).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 422, "{spec}: {body}");
        assert_eq!(body["error"]["details"]["path"], path, "{spec}: {body}");
    }
    // One-hot makes the string column usable; a model then needs that column to predict.
    let job = app
        .run(&fit(
            json!({"preprocess": {"one_hot": ["country"]}, "test_size": 0.5,
                          "params": {"n_estimators": 5}}),
        ))
        .await;
    let model = job["result"]["ml"]["model_id"].as_str().unwrap();
    app.write("e.csv", "a,b\n1,2\n");
    let response = app
        .post_job(&ml_job("e.csv", json!({"task": "predict", "model": model})))
        .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("country"),
        "{body}"
    );
    assert_eq!(app.jobs().await.len(), 1, "nothing else was queued");
}
