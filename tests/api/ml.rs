//! ML jobs against scikit-learn on the same generated data (10,000+ rows): held-out scores
//! within a stated tolerance (accuracy ±0.03, R² ±0.02, k-means adjusted Rand index ≥ 0.95),
//! the same best candidate as GridSearchCV, a model trained in one job predicting in
//! another, and bad specs refused with 422. Also on both stores: the model table (pages,
//! models from before it existed), and training that depends only on the data and the seed.

use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, json_of, python_with, settings_for, spawn_app};
use crate::on_both_backends;

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
#[ignore = "needs RUSK_PYTHON with scikit-learn and pandas: run with --include-ignored"]
async fn estimators_match_scikit_learn() {
    let python = python_with("sklearn, pandas", "the scikit-learn parity test");
    let app = spawn_app(Backend::Sqlite).await;
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

    // Three classes (string labels): one-against-the-rest boosting, forest and softmax
    // logistic votes, each within the tolerance of scikit-learn's accuracy and ROC AUC (ovr).
    for (estimator, params) in [
        ("logistic_regression", json!({})),
        ("random_forest_classifier", json!({"n_estimators": 50})),
        ("gradient_boosting_classifier", json!({})),
    ] {
        let job = app
            .run(&ml_job(
                "three.csv",
                json!({"task": "fit", "estimator": estimator, "target": "y",
                       "test_size": 0.25, "seed": 0, "params": params}),
            ))
            .await;
        let ml = &job["result"]["ml"];
        let ours = ml["metrics"]["accuracy"].as_f64().unwrap();
        let theirs = expected["three_classes"][estimator].as_f64().unwrap();
        eprintln!("{estimator}, 3 classes: accuracy rusk {ours:.4}, scikit-learn {theirs:.4}");
        assert!(ours >= theirs - 0.03, "{estimator}: {ours} vs {theirs}");
        let ours = ml["metrics"]["roc_auc"].as_f64().unwrap();
        let theirs = expected["three_classes_roc_auc"][estimator]
            .as_f64()
            .unwrap();
        eprintln!("{estimator}, 3 classes: roc_auc rusk {ours:.4}, scikit-learn {theirs:.4}");
        assert!(
            ours >= theirs - 0.02,
            "{estimator}: roc_auc {ours} vs {theirs}"
        );
        assert!(ml["metrics"]["log_loss"].as_f64().unwrap() > 0.0);
        // The test rows: labels as the target's strings, and the predicted class's
        // probability, which is the largest of three, so at least 1/3.
        let rows = app.result_json(job["id"].as_str().unwrap(), "").await;
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3000);
        for row in rows {
            assert!(["low", "mid", "high"].contains(&row["prediction"].as_str().unwrap()));
            let p = row["probability"].as_f64().unwrap();
            assert!((1.0 / 3.0 - 1e-9..=1.0 + 1e-9).contains(&p), "{row}");
        }
        let model = app
            .get_json(&format!("/v1/models/{}", ml["model_id"].as_str().unwrap()))
            .await;
        assert_eq!(model["classes"], json!(["high", "low", "mid"]));
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
    assert_eq!(listed["models"].as_array().unwrap().len(), 10);
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

    // Every candidate × fold is a span of the job's task stream, after the plan's own.
    let id = search["id"].as_str().unwrap();
    let tasks = app.get_json(&format!("/v1/jobs/{id}/tasks")).await;
    let tasks = tasks["tasks"].as_array().unwrap();
    let fits: Vec<&Value> = tasks.iter().filter(|t| t["operator"] == "fit").collect();
    assert_eq!(fits.len(), 4 * 3, "{tasks:#?}");
    let plan_nodes = tasks
        .iter()
        .filter(|t| t["operator"] != "fit")
        .map(|t| t["node"].as_u64().unwrap())
        .max()
        .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for fit in &fits {
        assert_eq!(fit["node"].as_u64().unwrap(), plan_nodes + 1, "{fit}");
        let detail = fit["detail"].as_str().unwrap();
        assert!(detail.contains("max_depth"), "{detail}");
        let at = |field: &str| {
            fit[field]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
        };
        assert!(at("started_at") <= at("ended_at"), "{fit}");
        seen.insert((detail.to_string(), fit["partition"].as_u64().unwrap()));
    }
    assert_eq!(seen.len(), 12, "each candidate on each fold once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ml_specs_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
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
        (fit(json!({"sample": 0})), "ml.sample"),
        (fit(json!({"sample": 2_000_001})), "ml.sample"),
        (
            ml_job(
                "d.csv",
                json!({"task": "predict", "model": "model_0123abcd", "sample": 10}),
            ),
            "ml.sample",
        ),
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

    // A feature matrix beyond the memory ML may use (half of this app's 512 MB) fails the job
    // before it is built: 4000 rows × ~2000 one-hot categories × 8 bytes × its copies.
    let rows: String = (0..4000)
        .map(|i| format!("c{},{}\n", i % 2000, i % 2))
        .collect();
    app.write("wide.csv", &format!("c,y\n{rows}"));
    let id = app
        .submit(&ml_job(
            "wide.csv",
            json!({"task": "fit", "estimator": "logistic_regression", "target": "y",
                   "preprocess": {"one_hot": ["c"]}}),
        ))
        .await;
    let job = app.wait(&id).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "data_error", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    // The categories are those of the training rows: most of the 2000.
    assert!(
        message.contains("features (after one-hot encoding)") && message.contains("sample"),
        "{message}"
    );
}

on_both_backends!(
    models_are_listed_in_pages,
    training_depends_on_the_data_and_seed_only,
    models_from_before_the_table_are_listed,
);

/// Four CSV files of a noisy linear relation, 1000 rows each.
fn write_line_files(app: &TestApp) {
    for part in 0..4 {
        let mut csv = String::from("x,z,y\n");
        for i in 0..1000 {
            let n = part * 1000 + i;
            let x = f64::from(n) / 100.0;
            let z = f64::from((n * 7919) % 1000) / 10.0;
            let noise = f64::from((n * 104_729) % 997) / 997.0 - 0.5;
            csv.push_str(&format!("{x},{z},{}\n", 3.0 * x - 0.5 * z + noise));
        }
        app.write(&format!("line/part-{part}.csv"), &csv);
    }
}

fn line_job(ml: Value) -> Value {
    json!({
        "sources": {"d": {"format": "csv", "path": "line/*.csv"}},
        "steps": [],
        "ml": ml
    })
}

/// The model ids of a page of `GET /v1/models`.
fn ids(page: &Value) -> Vec<&str> {
    let models = page["models"].as_array().unwrap();
    models.iter().map(|m| m["id"].as_str().unwrap()).collect()
}

async fn models_are_listed_in_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    write_line_files(&app);
    let mut trained = Vec::new();
    for _ in 0..3 {
        let job = app
            .run(&line_job(
                json!({"task": "fit", "estimator": "linear_regression",
                                  "target": "y"}),
            ))
            .await;
        trained.push(
            job["result"]["ml"]["model_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let first = app.get_json("/v1/models?limit=2").await;
    assert_eq!(
        ids(&first),
        [trained[2].as_str(), trained[1].as_str()],
        "newest first"
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get_json(&format!("/v1/models?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(ids(&second), [trained[0].as_str()]);
    assert!(second["next_cursor"].is_null());
    let model = &second["models"][0];
    assert_eq!(model["estimator"], "linear_regression");
    assert_eq!(model["features"], json!(["x", "z"]));
    assert!(model["metrics"]["r2"].as_f64().unwrap() > 0.99, "{model}");
    for bad in ["limit=0", "limit=1001", "cursor=nope"] {
        let response = app
            .client
            .get(app.url(&format!("/v1/models?{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
    let response = app
        .client
        .get(app.url("/v1/models/model_00000000000000000000000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// The same data and seed give the same split, sample and model, however many files (and so
/// partitions) the rows come from and in whatever order the partitions deliver them.
async fn training_depends_on_the_data_and_seed_only(backend: Backend) {
    let app = spawn_app(backend).await;
    write_line_files(&app);
    let mut whole = String::from("x,z,y\n");
    for part in 0..4 {
        let text = std::fs::read_to_string(app.root.join(format!("line/part-{part}.csv"))).unwrap();
        whole.extend(text.lines().skip(1).map(|l| format!("{l}\n")));
    }
    app.write("line-whole.csv", &whole);
    let fit = |path: &str, sample: Option<u64>, seed: u64| {
        let mut ml = json!({"task": "fit", "estimator": "random_forest_regressor",
                            "target": "y", "seed": seed, "test_size": 0.25,
                            "params": {"n_estimators": 10}});
        if let Some(n) = sample {
            ml["sample"] = json!(n);
        }
        json!({"sources": {"d": {"format": "csv", "path": path}}, "steps": [], "ml": ml})
    };
    let mut seen = Vec::new();
    for (path, sample, seed) in [
        ("line/*.csv", Some(1000), 3),
        ("line-whole.csv", Some(1000), 3),
        ("line/*.csv", Some(1000), 4),
        ("line/*.csv", None, 3),
        ("line-whole.csv", None, 3),
    ] {
        let job = app.run(&fit(path, sample, seed)).await;
        let rows = app.result_json(job["id"].as_str().unwrap(), "").await;
        seen.push((job["result"]["ml"]["metrics"].clone(), rows));
    }
    let test_rows = |i: usize| seen[i].1.as_array().unwrap().len();
    assert_eq!(test_rows(0), 250, "a quarter of the 1000 sampled rows");
    assert_eq!(test_rows(3), 1000, "a quarter of all 4000 rows");
    assert_eq!(seen[0], seen[1], "a sample: one file or four");
    assert_ne!(seen[0].1, seen[2].1, "another seed, another sample");
    assert_eq!(seen[3], seen[4], "the whole frame: one file or four");
}

/// Models trained before the model table existed (only their files in the result store) are
/// recorded in it when Rusk starts.
async fn models_from_before_the_table_are_listed(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (settings, _database) = settings_for(backend, dir.path()).await;
    let id = "model_0192f0c1a2b37c4d8e9f00112233aabb";
    let info = json!({
        "id": id, "tenant": "default", "estimator": "linear_regression", "params": {},
        "features": ["x"], "target": "y", "metrics": {"r2": 0.5},
        "job_id": "0192f0c1-a2b3-7c4d-8e9f-00112233aabb",
        "created_at": "2026-11-20T10:00:00Z"
    });
    let folder = settings.data_dir.join("objects/models").join(id);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("info.json"), info.to_string()).unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = rusk::app::start(&settings, rusk::app::Role::Api, shutdown.clone())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr.unwrap());
    let client = reqwest::Client::new();
    let listed = json_of(client.get(format!("{base}/v1/models"))).await;
    assert_eq!(listed["models"][0]["id"], id, "{listed}");
    assert_eq!(listed["models"][0]["metrics"]["r2"], 0.5);
    let one = client
        .get(format!("{base}/v1/models/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    shutdown.cancel();
    running.wait().await.unwrap();
}
