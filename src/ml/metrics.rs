//! Scores, as scikit-learn defines them.

use std::collections::BTreeMap;

pub type Metrics = BTreeMap<String, f64>;

pub fn regression(y: &[f64], predicted: &[f64]) -> Metrics {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let ss_res: f64 = y.iter().zip(predicted).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    let mae = y
        .iter()
        .zip(predicted)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / n;
    BTreeMap::from([
        (
            "r2".into(),
            if ss_tot > 0.0 {
                1.0 - ss_res / ss_tot
            } else {
                0.0
            },
        ),
        ("mae".into(), mae),
        ("rmse".into(), (ss_res / n).sqrt()),
        ("mse".into(), ss_res / n),
    ])
}

/// Classes are indices `0..n_classes`; `probabilities` are each row's per-class
/// probabilities, where the model gives them.
pub fn classification(
    y: &[i64],
    predicted: &[i64],
    n_classes: usize,
    probabilities: Option<&[Vec<f64>]>,
) -> Metrics {
    let n = y.len().max(1) as f64;
    let correct = y.iter().zip(predicted).filter(|(a, b)| a == b).count() as f64;
    let mut metrics = BTreeMap::from([("accuracy".to_string(), correct / n)]);
    // Binary: the scores of class 1 (scikit-learn's pos_label=1); more classes: macro average.
    let classes: Vec<i64> = if n_classes == 2 {
        vec![1]
    } else {
        (0..n_classes as i64).collect()
    };
    let (mut precision, mut recall, mut f1) = (0.0, 0.0, 0.0);
    for class in &classes {
        let tp = count(y, predicted, |a, b| a == *class && b == *class);
        let fp = count(y, predicted, |a, b| a != *class && b == *class);
        let fn_ = count(y, predicted, |a, b| a == *class && b != *class);
        let p = ratio(tp, tp + fp);
        let r = ratio(tp, tp + fn_);
        precision += p;
        recall += r;
        f1 += if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
    }
    let k = classes.len() as f64;
    metrics.insert("precision".into(), precision / k);
    metrics.insert("recall".into(), recall / k);
    metrics.insert("f1".into(), f1 / k);
    if let Some(p) = probabilities {
        metrics.insert("roc_auc".into(), roc_auc_classes(y, p, n_classes));
        metrics.insert("log_loss".into(), log_loss(y, p));
    }
    metrics
}

/// Binary: ROC AUC of class 1's probability. More classes: the mean of each class's AUC
/// against the rest (scikit-learn's `multi_class="ovr"`, macro average).
fn roc_auc_classes(y: &[i64], p: &[Vec<f64>], n_classes: usize) -> f64 {
    let of = |class: usize| -> (Vec<i64>, Vec<f64>) {
        let truth = y.iter().map(|c| i64::from(*c == class as i64)).collect();
        let score = p
            .iter()
            .map(|row| row.get(class).copied().unwrap_or(0.0))
            .collect();
        (truth, score)
    };
    if n_classes == 2 {
        let (truth, score) = of(1);
        return roc_auc(&truth, &score);
    }
    let total: f64 = (0..n_classes)
        .map(|c| {
            let (truth, score) = of(c);
            roc_auc(&truth, &score)
        })
        .sum();
    total / n_classes.max(1) as f64
}

fn count(y: &[i64], predicted: &[i64], keep: impl Fn(i64, i64) -> bool) -> usize {
    y.iter()
        .zip(predicted)
        .filter(|(a, b)| keep(**a, **b))
        .count()
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The probability that a random positive scores above a random negative (ties count half).
pub fn roc_auc(y: &[i64], score: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    // Average ranks over ties, then the Mann-Whitney U statistic.
    let mut ranks = vec![0.0; y.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[order[k]] = rank;
        }
        i = j + 1;
    }
    let positives = y.iter().filter(|c| **c == 1).count() as f64;
    let negatives = y.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return 0.5;
    }
    let rank_sum: f64 = y
        .iter()
        .zip(&ranks)
        .filter(|(c, _)| **c == 1)
        .map(|(_, r)| r)
        .sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Mean negative log of the probability given to the true class (clipped as scikit-learn).
fn log_loss(y: &[i64], p: &[Vec<f64>]) -> f64 {
    let eps = 1e-15;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(c, row)| {
            let p = row.get(*c as usize).copied().unwrap_or(0.0);
            -p.clamp(eps, 1.0 - eps).ln()
        })
        .sum();
    total / y.len().max(1) as f64
}

/// Sum of squared distances to the nearest centre, and the mean silhouette of (at most the
/// first 2000 of) the rows.
pub fn clustering(x: &[Vec<f64>], labels: &[i64]) -> Metrics {
    let k = labels.iter().copied().max().map_or(0, |m| m + 1) as usize;
    BTreeMap::from([
        ("inertia".to_string(), inertia(x, labels)),
        ("silhouette".to_string(), silhouette(x, labels, k)),
    ])
}

/// Sum of squared distances of rows to their cluster's centre.
pub fn inertia(x: &[Vec<f64>], labels: &[i64]) -> f64 {
    let k = labels.iter().copied().max().map_or(0, |m| m + 1) as usize;
    let width = x.first().map_or(0, Vec::len);
    let mut centres = vec![vec![0.0; width]; k];
    let mut sizes = vec![0usize; k];
    for (row, label) in x.iter().zip(labels) {
        let c = *label as usize;
        sizes[c] += 1;
        for (sum, v) in centres[c].iter_mut().zip(row) {
            *sum += v;
        }
    }
    for (centre, size) in centres.iter_mut().zip(&sizes) {
        centre.iter_mut().for_each(|v| *v /= (*size).max(1) as f64);
    }
    x.iter()
        .zip(labels)
        .map(|(row, l)| distance2(row, &centres[*l as usize]))
        .sum()
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

fn silhouette(x: &[Vec<f64>], labels: &[i64], k: usize) -> f64 {
    let n = x.len().min(2000);
    if k < 2 || n < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    for i in 0..n {
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for j in 0..n {
            if i != j {
                let c = labels[j] as usize;
                sums[c] += distance2(&x[i], &x[j]).sqrt();
                counts[c] += 1;
            }
        }
        let own = labels[i] as usize;
        if counts[own] == 0 {
            continue;
        }
        let a = sums[own] / counts[own] as f64;
        let b = (0..k)
            .filter(|c| *c != own && counts[*c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        total += (b - a) / a.max(b);
    }
    total / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_hand_worked_values() {
        let m = regression(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
        assert!((m["r2"] - 0.5).abs() < 1e-12);
        assert!((m["mae"] - 1.0 / 3.0).abs() < 1e-12);
        let p: Vec<Vec<f64>> = [0.1, 0.9, 0.4, 0.3]
            .iter()
            .map(|p| vec![1.0 - p, *p])
            .collect();
        let c = classification(&[0, 1, 1, 0], &[0, 1, 0, 0], 2, Some(&p));
        assert_eq!(c["accuracy"], 0.75);
        assert_eq!(c["precision"], 1.0);
        assert_eq!(c["recall"], 0.5);
        assert!((c["f1"] - 2.0 / 3.0).abs() < 1e-12);
        // Positives score 0.9 and 0.4, negatives 0.1 and 0.3: every pair is ordered right.
        assert_eq!(c["roc_auc"], 1.0);
        assert_eq!(roc_auc(&[1, 0], &[0.5, 0.5]), 0.5);
        // -(ln 0.9 + ln 0.9 + ln 0.4 + ln 0.7) / 4
        let expected = -(0.9f64.ln() * 2.0 + 0.4f64.ln() + 0.7f64.ln()) / 4.0;
        assert!((c["log_loss"] - expected).abs() < 1e-12);
    }

    #[test]
    fn multiclass_scores_average_one_against_the_rest() {
        // Class 2 is always ranked right; classes 0 and 1 each have one pair out of order.
        let y = [0, 0, 1, 1, 2, 2];
        let p = vec![
            vec![0.6, 0.3, 0.1],
            vec![0.4, 0.5, 0.1],
            vec![0.5, 0.4, 0.1],
            vec![0.2, 0.7, 0.1],
            vec![0.1, 0.1, 0.8],
            vec![0.2, 0.1, 0.7],
        ];
        let c = classification(&y, &[0, 1, 0, 1, 2, 2], 3, Some(&p));
        // Class 0: positives 0.6, 0.4 against 0.5, 0.2, 0.1, 0.2: 7 of 8 pairs right.
        // Class 1: positives 0.4, 0.7 against 0.3, 0.5, 0.1, 0.1: 7 of 8. Class 2: 8 of 8.
        assert!((c["roc_auc"] - (7.0 / 8.0 + 7.0 / 8.0 + 1.0) / 3.0).abs() < 1e-12);
        let expected = -[0.6f64, 0.4, 0.4, 0.7, 0.8, 0.7]
            .iter()
            .map(|p| p.ln())
            .sum::<f64>()
            / 6.0;
        assert!((c["log_loss"] - expected).abs() < 1e-12);
        assert!((c["accuracy"] - 4.0 / 6.0).abs() < 1e-12);
    }
}
