"""scikit-learn as the independent reference for Rusk's ML jobs.

generate DIR: writes seeded datasets (10,000+ rows each) as CSV into DIR and prints, as JSON,
  scikit-learn's held-out scores for each estimator (same test_size, its own split), the
  classifiers' ROC AUC, the same for a three-class dataset (ROC AUC one against the rest,
  macro average), and the best candidate of a GridSearchCV.
ari RESULT.parquet: prints the adjusted Rand index of `cluster` against the true `label`.
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, adjusted_rand_score, r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split

TEST_SIZE = 0.25


def columns(x):
    return {f"x{i}": x[:, i] for i in range(x.shape[1])}


def generate(out):
    x, y = make_classification(n_samples=12000, n_features=6, n_informative=4,
                               n_redundant=0, class_sep=1.0, random_state=0)
    pd.DataFrame({**columns(x), "y": y}).to_csv(f"{out}/classes.csv", index=False)
    x, y = make_classification(n_samples=12000, n_features=6, n_informative=4, n_redundant=0,
                               n_classes=3, n_clusters_per_class=1, class_sep=1.0,
                               random_state=1)
    labels = np.array(["low", "mid", "high"])[y]
    pd.DataFrame({**columns(x), "y": labels}).to_csv(f"{out}/three.csv", index=False)
    x, y = make_regression(n_samples=12000, n_features=5, noise=10.0, random_state=0)
    # A non-linearity that trees can learn and a straight line cannot fully.
    y = y + 20 * np.sin(x[:, 0])
    pd.DataFrame({**columns(x), "y": y}).to_csv(f"{out}/values.csv", index=False)
    x, label = make_blobs(n_samples=10000, centers=4, cluster_std=1.0, center_box=(-20, 20),
                          random_state=0)
    pd.DataFrame({**columns(x), "label": label}).to_csv(f"{out}/blobs.csv", index=False)

    scores, auc = {}, {}
    classes = pd.read_csv(f"{out}/classes.csv")
    xc, yc = classes.drop(columns="y"), classes["y"]
    xtr, xte, ytr, yte = train_test_split(xc, yc, test_size=TEST_SIZE, random_state=0,
                                          stratify=yc)
    for name, model in [
        ("logistic_regression", LogisticRegression()),
        ("random_forest_classifier", RandomForestClassifier(n_estimators=50, random_state=0)),
        ("gradient_boosting_classifier", GradientBoostingClassifier(random_state=0)),
    ]:
        scores[name] = accuracy_score(yte, model.fit(xtr, ytr).predict(xte))
        auc[name] = roc_auc_score(yte, model.predict_proba(xte)[:, 1])
    scores3, auc3 = {}, {}
    three = pd.read_csv(f"{out}/three.csv")
    xtr, xte, ytr, yte = train_test_split(three.drop(columns="y"), three["y"],
                                          test_size=TEST_SIZE, random_state=0,
                                          stratify=three["y"])
    for name, model in [
        ("logistic_regression", LogisticRegression()),
        ("random_forest_classifier", RandomForestClassifier(n_estimators=50, random_state=0)),
        ("gradient_boosting_classifier", GradientBoostingClassifier(random_state=0)),
    ]:
        model.fit(xtr, ytr)
        scores3[name] = accuracy_score(yte, model.predict(xte))
        auc3[name] = roc_auc_score(yte, model.predict_proba(xte), multi_class="ovr")
    values = pd.read_csv(f"{out}/values.csv")
    xv, yv = values.drop(columns="y"), values["y"]
    xtr, xte, ytr, yte = train_test_split(xv, yv, test_size=TEST_SIZE, random_state=0)
    for name, model in [
        ("linear_regression", LinearRegression()),
        ("random_forest_regressor", RandomForestRegressor(n_estimators=50, random_state=0)),
        ("gradient_boosting_regressor", GradientBoostingRegressor(random_state=0)),
    ]:
        scores[name] = r2_score(yte, model.fit(xtr, ytr).predict(xte))
    xtr, _, ytr, _ = train_test_split(xc, yc, test_size=TEST_SIZE, random_state=0, stratify=yc)
    search = GridSearchCV(RandomForestClassifier(n_estimators=20, random_state=0),
                          {"max_depth": [1, 8], "min_samples_leaf": [1, 50]}, cv=3)
    search.fit(xtr, ytr)
    print(json.dumps({"scores": scores, "roc_auc": auc, "three_classes": scores3,
                      "three_classes_roc_auc": auc3, "grid_best": search.best_params_}))


def ari(path):
    frame = pd.read_parquet(path)
    print(json.dumps({"ari": adjusted_rand_score(frame["label"], frame["cluster"])}))


if __name__ == "__main__":
    {"generate": generate, "ari": ari}[sys.argv[1]](sys.argv[2])
