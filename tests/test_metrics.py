"""Metrics against independent references.

Every metric is checked three ways: against a plain-numpy reference written
here from the definition (so coverage does not depend on scikit-learn),
against scikit-learn where it is installed, and against the values in Keras's
own docstrings. Then: streaming over uneven batches equals one shot, sample
weights, edge cases (absent classes give 0, never NaN), bad input, configs
and the registry.
"""
import math

import numpy as np
import pytest

import seqnn as sn
from seqnn import metrics as M

N, C = 120, 4


@pytest.fixture
def data(rng):
    """Multi-class scores without ties, labels (class 3 rare), and positive weights."""
    scores = rng.dirichlet(np.ones(C), size=N)
    labels = rng.choice(C, size=N, p=[0.4, 0.3, 0.25, 0.05])
    weights = rng.uniform(0.1, 2.0, size=N)
    return scores, labels, weights


@pytest.fixture
def binary(rng):
    y = rng.integers(0, 2, size=N)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    return y, s, rng.uniform(0.1, 2.0, size=N)


def one_hot(labels, c=C):
    return np.eye(c)[labels]


def batches(n, sizes=(7, 50)):
    """Uneven batch boundaries: slices of sizes 7, 50 and the rest."""
    cuts = np.cumsum((0, *sizes, n - sum(sizes)))
    return [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:])]


def wmean(values, w=None):
    return float(np.average(values, weights=w))


# ----------------------------------------------------------- references ---

def ref_class_counts(truth_ids, pred_ids, c, w=None):
    """Per-class TP, FP, FN, support by explicit loops over samples."""
    w = np.ones(len(truth_ids)) if w is None else w
    tp, fp, fn, sup = (np.zeros(c) for _ in range(4))
    for t, p, wi in zip(truth_ids, pred_ids, w):
        sup[t] += wi
        if t == p:
            tp[t] += wi
        else:
            fp[p] += wi
            fn[t] += wi
    return tp, fp, fn, sup


def ref_average(per_class_fn, counts, average):
    tp, fp, fn, sup = counts
    div = lambda a, b: a / b if b else 0.0  # noqa: E731
    if average == "micro":
        return per_class_fn(tp.sum(), fp.sum(), fn.sum(), div)
    per = np.array([per_class_fn(tp[i], fp[i], fn[i], div) for i in range(len(tp))])
    if average is None:
        return per
    if average == "macro":
        return per.mean()
    return div((per * sup).sum(), sup.sum())


REF_SCORES = {
    "precision": lambda tp, fp, fn, div: div(tp, tp + fp),
    "recall": lambda tp, fp, fn, div: div(tp, tp + fn),
    "f1": lambda tp, fp, fn, div: div(2 * div(tp, tp + fp) * div(tp, tp + fn),
                                      div(tp, tp + fp) + div(tp, tp + fn)),
}


def ref_roc_auc(y, s, w=None):
    """Exact weighted AUC by comparing every positive-negative pair (ties count one half)."""
    w = np.ones(len(y)) if w is None else w
    pos, neg = y == 1, y == 0
    sp, sn_, wp, wn = s[pos][:, None], s[neg][None, :], w[pos][:, None], w[neg][None, :]
    wins = (sp > sn_) + 0.5 * (sp == sn_)
    return float((wins * wp * wn).sum() / (wp.sum() * wn.sum()))


def same_bucket_bound(y, s, w, thresholds):
    """Half the weighted fraction of positive-negative pairs in one threshold bucket: the bucket AUC's error bound."""
    bucket = (s[:, None] > np.asarray(thresholds)[None, :]).sum(axis=1)
    pos, neg = y == 1, y == 0
    same = bucket[pos][:, None] == bucket[neg][None, :]
    pair_w = w[pos][:, None] * w[neg][None, :]
    return 0.5 * float((same * pair_w).sum() / pair_w.sum())


def feed(metric, y, p, w=None, parts=None):
    for part in parts or [slice(None)]:
        metric.update_state(y[part], p[part], None if w is None else w[part])
    return metric.result()


# ------------------------------------------------------------- accuracy ---

def test_accuracy_family_matches_definitions(data):
    scores, labels, w = data
    argmax = scores.argmax(1)
    rank = (scores > scores[np.arange(N), labels][:, None]).sum(1)  # classes scoring above the label
    cases = [
        (M.SparseCategoricalAccuracy(), labels, argmax == labels),
        (M.SparseCategoricalAccuracy(), labels[:, None], argmax == labels),
        (M.CategoricalAccuracy(), one_hot(labels), argmax == labels),
        (M.SparseTopKCategoricalAccuracy(k=2), labels, rank < 2),
        (M.TopKCategoricalAccuracy(k=3), one_hot(labels), rank < 3),
        (M.Accuracy(), argmax, argmax == labels),
    ]
    for metric, y, match in cases:
        pred = argmax if isinstance(metric, M.Accuracy) else scores
        target = labels if isinstance(metric, M.Accuracy) else y
        assert feed(metric, target, pred, w) == pytest.approx(wmean(match, w)), metric


def test_binary_accuracy_matches_definition(binary):
    y, s, w = binary
    for threshold in (0.5, 0.3):
        expected = wmean((s > threshold) == y, w)
        assert feed(M.BinaryAccuracy(threshold=threshold), y, s[:, None], w) == pytest.approx(expected)
        assert feed(M.BinaryAccuracy(threshold=threshold), y[:, None], s, w) == pytest.approx(expected)
    # Multi-label rows: a sample's match is the mean over its outputs.
    y2 = np.stack([y, 1 - y], 1)
    s2 = np.stack([s, s], 1)
    assert feed(M.BinaryAccuracy(), y2, s2) == pytest.approx(np.mean(((s2 > 0.5) == y2).mean(1)))


def test_accuracy_keras_docstring_values():
    m = M.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(0.5)
    m = M.SparseTopKCategoricalAccuracy(k=1)
    m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], sample_weight=[0.7, 0.3])
    assert m.result() == pytest.approx(0.3)
    m = M.TopKCategoricalAccuracy(k=1)
    m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    m = M.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True)
    m.update_state([2, 1], [[1, 2, 0], [1, 0, 2]])
    assert m.result() == pytest.approx(0.5)


def test_accuracy_keras_semantics_of_edge_cases():
    # Soft targets never match a 0/1 decision (Keras compares for equality).
    assert feed(M.BinaryAccuracy(), np.array([0.9, 0.0]), np.array([[0.8], [0.2]])) == 0.5
    # Top-k: classes tied with the label at the boundary count as in the top k (TF's in_top_k).
    assert feed(M.SparseTopKCategoricalAccuracy(k=1), np.array([1]), np.array([[0.4, 0.4, 0.2]])) == 1.0
    # Argmax ties go to the first class.
    assert feed(M.SparseCategoricalAccuracy(), np.array([1]), np.array([[0.5, 0.5]])) == 0.0
    # Sequences: a sample's accuracy is the mean over its time steps.
    y = np.array([[0, 1], [1, 1]])
    p = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.9, 0.1], [0.9, 0.1]]])
    assert feed(M.SparseCategoricalAccuracy(), y, p, np.array([1.0, 3.0])) == pytest.approx(0.25)
    assert feed(M.SparseTopKCategoricalAccuracy(k=1), y, p) == pytest.approx(0.5)


def test_accuracy_against_sklearn(data):
    skm = pytest.importorskip("sklearn.metrics")
    scores, labels, w = data
    assert feed(M.SparseCategoricalAccuracy(), labels, scores, w) == pytest.approx(
        skm.accuracy_score(labels, scores.argmax(1), sample_weight=w))
    assert feed(M.SparseTopKCategoricalAccuracy(k=2), labels, scores, w) == pytest.approx(
        skm.top_k_accuracy_score(labels, scores, k=2, labels=range(C), sample_weight=w))


def test_accuracy_name_resolves_from_the_loss():
    sparse = sn.losses.get("sparse_categorical_crossentropy")
    assert isinstance(M.resolve("accuracy", sparse, (None, 3)), M.SparseCategoricalAccuracy)
    assert isinstance(M.resolve("acc", sn.losses.get("binary_crossentropy"), (None, 1)), M.BinaryAccuracy)
    assert isinstance(M.resolve("accuracy", sn.losses.get("categorical_crossentropy"), (None, 3)),
                      M.CategoricalAccuracy)
    assert M.resolve("acc", sparse, (None, 3)).name == "acc"


# ----------------------------------------------------- precision/recall ---

@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
def test_averaged_precision_recall_f1_match_reference(data, average):
    scores, labels, w = data
    counts = ref_class_counts(labels, scores.argmax(1), C, w)
    for metric, kind in ((M.Precision(average=average), "precision"), (M.Recall(average=average), "recall"),
                         (M.F1Score(average=average), "f1")):
        expected = ref_average(REF_SCORES[kind], counts, average)
        for y in (labels, labels[:, None], one_hot(labels)):
            metric.reset_state()
            assert feed(metric, y, scores, w) == pytest.approx(expected), (kind, y.shape)
    if average == "micro":  # single-label multi-class: micro P = micro R = accuracy
        assert expected == pytest.approx(wmean(scores.argmax(1) == labels, w))


def test_f1_per_class_vector_matches_reference(data):
    scores, labels, w = data
    f1 = M.F1Score()
    result = feed(f1, one_hot(labels), scores, w)
    expected = ref_average(REF_SCORES["f1"], ref_class_counts(labels, scores.argmax(1), C, w), None)
    assert isinstance(result, np.ndarray) and result.shape == (C,)
    np.testing.assert_allclose(result, expected)
    assert not M.is_scalar(f1)


def test_fbeta_matches_its_definition(data):
    scores, labels, w = data
    tp, fp, fn, _ = ref_class_counts(labels, scores.argmax(1), C, w)
    for beta in (0.5, 2.0):
        p, r = tp / (tp + fp), tp / (tp + fn)
        expected = np.nan_to_num((1 + beta**2) * p * r / (beta**2 * p + r))
        got = feed(M.FBetaScore(beta=beta), labels, scores, w)
        np.testing.assert_allclose(got, expected)
        assert feed(M.FBetaScore(beta=beta, average="macro"), labels, scores, w) == pytest.approx(expected.mean())


def test_multilabel_threshold_fscore_matches_reference(rng):
    y = rng.integers(0, 2, size=(N, 3))
    s = rng.random((N, 3))
    d = s > 0.6
    tp, fp, fn = ((d & (y == 1)).sum(0), (d & (y == 0)).sum(0), (~d & (y == 1)).sum(0))
    np.testing.assert_allclose(feed(M.F1Score(threshold=0.6), y, s), 2 * tp / (2 * tp + fp + fn))
    assert feed(M.Precision(thresholds=0.6, average="micro"), y, s) == pytest.approx(tp.sum() / (tp + fp).sum())


def test_keras_mode_precision_recall_match_reference(binary, data):
    y, s, w = binary
    for t in (0.5, 0.25):
        d = s > t
        assert feed(M.Precision(thresholds=t), y, s[:, None], w) == pytest.approx(
            w[d & (y == 1)].sum() / w[d].sum())
        assert feed(M.Recall(thresholds=t), y[:, None], s[:, None], w) == pytest.approx(
            w[d & (y == 1)].sum() / w[y == 1].sum())
    # Several thresholds: one value per threshold, in the order given.
    ts = [0.7, 0.2, 0.5]
    expected = [w[(s > t) & (y == 1)].sum() / w[s > t].sum() for t in ts]
    np.testing.assert_allclose(feed(M.Precision(thresholds=ts), y, s, w), expected)
    # A softmax output with integer labels pools all C decisions, as Keras does with one-hot targets.
    scores, labels, _ = data
    d, t = scores > 0.5, one_hot(labels) == 1
    assert feed(M.Precision(), labels, scores) == pytest.approx((d & t).sum() / d.sum())
    assert feed(M.Recall(), one_hot(labels), scores) == pytest.approx((d & t).sum() / t.sum())


def test_precision_recall_top_k_and_class_id(data):
    scores, labels, _ = data
    t = one_hot(labels) == 1
    top2 = np.argsort(-scores, axis=1)[:, :2]
    d = np.zeros_like(t)
    np.put_along_axis(d, top2, True, axis=1)
    assert feed(M.Precision(top_k=2), labels, scores) == pytest.approx((d & t).sum() / d.sum())
    assert feed(M.Recall(top_k=2), labels, scores) == pytest.approx((d & t).sum() / t.sum())
    dc = scores[:, 1] > 0.5
    assert feed(M.Precision(class_id=1), labels, scores) == pytest.approx((dc & t[:, 1]).sum() / dc.sum())
    assert feed(M.Recall(class_id=1), labels, scores) == pytest.approx((dc & t[:, 1]).sum() / t[:, 1].sum())


def test_precision_recall_keras_docstring_values():
    for cls in (M.Precision, M.Recall):
        m = cls()
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        assert m.result() == pytest.approx(2 / 3)
        m.reset_state()
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
        assert m.result() == pytest.approx(1.0)
    m = M.Precision(top_k=2)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == 0.0
    m = M.Precision(top_k=4)
    m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
    assert m.result() == pytest.approx(0.5)
    for kind in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
        m = M.get(kind)
        m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        assert m.result() == {"true_positives": 2, "false_positives": 1, "true_negatives": 0,
                              "false_negatives": 1}[kind]


def test_fscore_keras_docstring_values():
    y = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    p = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    np.testing.assert_allclose(feed(M.F1Score(threshold=0.5), y, p), [0.5, 0.8, 2 / 3], rtol=1e-6)
    np.testing.assert_allclose(feed(M.FBetaScore(beta=2.0, threshold=0.5), y, p), [0.3846154, 0.9090909, 0.8333333],
                               rtol=1e-6)


def test_fscore_decision_rule_for_ties_zeros_and_one_column():
    # Ties predict every tied class; an all-zero row predicts none (Keras's F1Score rule).
    p = np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 0.0]])
    m = M.F1Score()
    m.update_state([0, 2], p)
    np.testing.assert_allclose(m.result(), [1.0, 0.0, 0.0])  # class 1 gets a false positive
    # A one-column output is binary: above 0.5 is the positive class.
    y, s = np.array([1, 0, 1, 1]), np.array([[0.9], [0.7], [0.2], [0.6]])
    assert feed(M.F1Score(average="macro"), y, s) == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert feed(M.Precision(average="macro"), y, s) == pytest.approx(feed(M.Precision(), y, s))


def test_absent_classes_score_zero_not_nan():
    labels = np.array([0, 1, 0, 1])
    scores = one_hot(np.array([0, 1, 1, 1]), 3)  # class 2 never true nor predicted
    for metric in (M.F1Score(), M.F1Score(average="macro"), M.Precision(average="macro"),
                   M.Recall(average="weighted"), M.Precision(class_id=2), M.Recall(class_id=2)):
        result = np.asarray(feed(metric, labels, scores))
        assert np.all(np.isfinite(result)), metric
    np.testing.assert_allclose(feed(M.F1Score(), labels, scores), [2 / 3, 0.8, 0.0])
    # Nothing seen yet reads as 0, not NaN.
    for metric in (M.Precision(), M.Recall(average="macro"), M.F1Score(average="micro"), M.AUC(),
                   M.MeanSquaredError(), M.RootMeanSquaredError(), M.SparseCategoricalAccuracy()):
        assert metric.result() == 0.0


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_fscores_precision_recall_against_sklearn(data, average):
    skm = pytest.importorskip("sklearn.metrics")
    scores, labels, w = data
    pred = scores.argmax(1)
    kw = dict(labels=list(range(C)), sample_weight=w, zero_division=0, average=average)
    np.testing.assert_allclose(feed(M.F1Score(average=average), labels, scores, w), skm.f1_score(labels, pred, **kw))
    np.testing.assert_allclose(feed(M.FBetaScore(beta=0.5, average=average), one_hot(labels), scores, w),
                               skm.fbeta_score(labels, pred, beta=0.5, **kw))
    if average is not None:
        assert feed(M.Precision(average=average), labels, scores, w) == pytest.approx(
            skm.precision_score(labels, pred, **kw))
        assert feed(M.Recall(average=average), labels, scores, w) == pytest.approx(
            skm.recall_score(labels, pred, **kw))


def test_binary_precision_recall_against_sklearn(binary):
    skm = pytest.importorskip("sklearn.metrics")
    y, s, w = binary
    d = (s > 0.5).astype(int)
    assert feed(M.Precision(), y, s[:, None], w) == pytest.approx(skm.precision_score(y, d, sample_weight=w))
    assert feed(M.Recall(), y, s[:, None], w) == pytest.approx(skm.recall_score(y, d, sample_weight=w))
    assert feed(M.F1Score(average="micro"), y, s, w) == pytest.approx(skm.f1_score(y, d, sample_weight=w))


# ------------------------------------------------------------------ AUC ---

def test_auc_keras_docstring_value():
    m = M.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)


def test_auc_exact_when_no_bucket_mixes_classes(rng):
    # Scores on the threshold grid j/199, j ≥ 1: every distinct score has its own bucket, so
    # the trapezoid sum is the exact AUC, with tied scores counted as half a win. (0 shares
    # the first bucket with 1/199, which lies in (−ε, 1/199].)
    y = rng.integers(0, 2, size=300)
    s = rng.integers(1, 200, size=300) / 199.0
    w = rng.uniform(0.5, 2.0, size=300)
    assert feed(M.AUC(), y, s, w) == pytest.approx(ref_roc_auc(y, s, w), abs=1e-12)


def test_auc_within_bucket_tolerance(binary):
    y, s, w = binary
    auc = M.AUC()
    got = feed(auc, y, s[:, None], w)
    bound = same_bucket_bound(y, s, w, auc.thresholds)
    assert abs(got - ref_roc_auc(y, s, w)) <= bound + 1e-12
    assert bound < 0.01
    coarse = M.AUC(num_thresholds=11)
    assert abs(feed(coarse, y, s, w) - ref_roc_auc(y, s, w)) <= same_bucket_bound(y, s, w, coarse.thresholds)


def test_auc_against_sklearn(binary):
    skm = pytest.importorskip("sklearn.metrics")
    y, s, w = binary
    auc = M.AUC()
    assert abs(feed(auc, y, s, w) - skm.roc_auc_score(y, s, sample_weight=w)) <= same_bucket_bound(
        y, s, w, auc.thresholds) + 1e-12


def test_auc_summation_methods_bracket_the_interpolation(rng):
    y = rng.integers(0, 2, size=200)
    s = rng.integers(0, 20, size=200) / 19.0
    values = {m: feed(M.AUC(num_thresholds=20, summation_method=m), y, s)
              for m in ("minoring", "interpolation", "majoring")}
    assert values["minoring"] <= values["interpolation"] <= values["majoring"]
    assert values["minoring"] < values["majoring"]
    separated = (np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]))
    for method in ("minoring", "interpolation", "majoring"):
        assert feed(M.AUC(summation_method=method), *separated) == pytest.approx(1.0)
    assert feed(M.AUC(curve="PR"), *separated) == pytest.approx(1.0)
    assert feed(M.AUC(curve="PR", summation_method="majoring"), *separated) == pytest.approx(1.0)
    # Keras's PR points end at precision 0 where nothing is predicted, so minoring loses the last step.
    assert feed(M.AUC(curve="PR", summation_method="minoring"), *separated) == pytest.approx(0.5)


def test_pr_auc_interpolation_matches_numerical_integral(rng):
    y = rng.integers(0, 2, size=200)
    s = rng.integers(0, 10, size=200) / 9.0 * 0.7 + 0.3 * y * rng.random(200)
    auc = M.AUC(num_thresholds=10, curve="PR")
    got = feed(auc, y, s)
    # Integrate precision d(recall) with TP and P = TP + FP linear between thresholds.
    t = np.asarray(auc.thresholds)
    decided = s[:, None] > t[None, :]
    tp = (decided & (y[:, None] == 1)).sum(0).astype(float)
    p = decided.sum(0).astype(float)
    lam = (np.arange(4000) + 0.5) / 4000
    total = 0.0
    for j in range(len(t) - 1):
        tp_l, p_l = tp[j + 1] + lam * (tp[j] - tp[j + 1]), p[j + 1] + lam * (p[j] - p[j + 1])
        if tp[j] > tp[j + 1]:
            total += np.mean(tp_l / p_l) * (tp[j] - tp[j + 1]) / y.sum()
    assert got == pytest.approx(total, abs=1e-6)


def test_auc_multi_label_is_mean_of_label_aucs(rng):
    y = rng.integers(0, 2, size=(N, 3))
    s = rng.integers(1, 200, size=(N, 3)) / 199.0
    per_label = [ref_roc_auc(y[:, j], s[:, j]) for j in range(3)]
    assert feed(M.AUC(multi_label=True), y, s) == pytest.approx(np.mean(per_label))
    assert feed(M.AUC(multi_label=True, num_labels=3, label_weights=[1, 0, 3]), y, s) == pytest.approx(
        (per_label[0] + 3 * per_label[2]) / 4)
    # multi_label=False pools every element into one curve.
    assert feed(M.AUC(), y, s) == pytest.approx(ref_roc_auc(y.ravel(), s.ravel()))


def test_auc_from_logits_and_clipping(binary):
    y, s, _ = binary
    logits = np.log(np.clip(s, 1e-6, 1 - 1e-6) / (1 - np.clip(s, 1e-6, 1 - 1e-6)))
    assert feed(M.AUC(from_logits=True), y, logits) == pytest.approx(feed(M.AUC(), y, np.clip(s, 1e-6, 1 - 1e-6)))
    # Out-of-range scores are clipped into [0, 1].
    assert feed(M.AUC(), np.array([0, 1]), np.array([-3.0, 7.0])) == pytest.approx(1.0)


# ----------------------------------------------------------- regression ---

def test_regression_metrics_match_definitions(rng):
    y = rng.normal(size=(N, 3))
    p = y + rng.normal(scale=0.5, size=(N, 3))
    w = rng.uniform(0.1, 2.0, size=N)
    mse = wmean(((p - y) ** 2).mean(1), w)
    assert feed(M.MeanSquaredError(), y, p, w) == pytest.approx(mse)
    assert feed(M.RootMeanSquaredError(), y, p, w) == pytest.approx(math.sqrt(mse))
    assert feed(M.MeanAbsoluteError(), y, p, w) == pytest.approx(wmean(np.abs(p - y).mean(1), w))
    assert feed(M.MeanAbsolutePercentageError(), y, p) == pytest.approx(
        np.mean(100 * np.abs((p - y) / y)))
    yp, pp = np.abs(y), np.abs(p)
    assert feed(M.MeanSquaredLogarithmicError(), yp, pp) == pytest.approx(
        np.mean((np.log1p(pp) - np.log1p(yp)) ** 2))
    # (n,) targets against an (n, 1) output are one target per sample.
    assert feed(M.MeanSquaredError(), y[:, 0], p[:, :1]) == pytest.approx(np.mean((p[:, 0] - y[:, 0]) ** 2))


def test_regression_keras_docstring_values():
    for metric, plain, weighted in ((M.MeanSquaredError(), 0.25, 0.5), (M.MeanAbsoluteError(), 0.25, 0.5),
                                    (M.RootMeanSquaredError(), 0.5, math.sqrt(0.5))):
        metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        assert metric.result() == pytest.approx(plain)
        metric.reset_state()
        metric.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
        assert metric.result() == pytest.approx(weighted)
        assert metric.direction == "down"


def test_regression_against_sklearn(rng):
    skm = pytest.importorskip("sklearn.metrics")
    y, p, w = rng.normal(size=(N, 2)), rng.normal(size=(N, 2)), rng.uniform(0.1, 2, N)
    assert feed(M.MeanSquaredError(), y, p, w) == pytest.approx(skm.mean_squared_error(y, p, sample_weight=w))
    assert feed(M.MeanAbsoluteError(), y, p, w) == pytest.approx(skm.mean_absolute_error(y, p, sample_weight=w))
    assert feed(M.RootMeanSquaredError(), y, p, w) == pytest.approx(
        math.sqrt(skm.mean_squared_error(y, p, sample_weight=w)))


# ------------------------------------------------------------ confusion ---

def test_confusion_matrix_matches_reference(data):
    scores, labels, w = data
    pred = scores.argmax(1)
    expected = np.zeros((C, C), dtype=np.int64)
    for t, p in zip(labels, pred):
        expected[t, p] += 1
    cm = M.ConfusionMatrix(C)
    result = feed(cm, labels, scores, parts=batches(N))
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(M.confusion_matrix(one_hot(labels), scores), expected)
    np.testing.assert_array_equal(M.confusion_matrix(labels, pred, num_classes=C), expected)
    weighted = M.confusion_matrix(labels, scores, sample_weight=w)
    assert weighted.dtype == np.float64 and weighted.sum() == pytest.approx(w.sum())
    assert not M.is_scalar(cm)


def test_confusion_matrix_binary_layouts():
    y = np.array([0, 1, 1, 0, 1])
    probs = np.array([0.2, 0.9, 0.4, 0.6, 0.7])
    expected = [[1, 1], [1, 2]]
    np.testing.assert_array_equal(M.confusion_matrix(y, probs), expected)
    np.testing.assert_array_equal(M.confusion_matrix(y[:, None], probs[:, None]), expected)
    np.testing.assert_array_equal(M.confusion_matrix(y, (probs > 0.5).astype(int)), expected)
    np.testing.assert_array_equal(M.confusion_matrix([0, 0], [0, 0]), [[2, 0], [0, 0]])


def test_classification_report_matches_reference(data):
    scores, labels, _ = data
    report = M.classification_report(labels, scores)
    counts = ref_class_counts(labels, scores.argmax(1), C)
    for kind, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
        per_class = ref_average(REF_SCORES[kind], counts, None)
        for c in range(C):
            assert report[str(c)][key] == pytest.approx(per_class[c])
        assert report["macro avg"][key] == pytest.approx(per_class.mean())
        assert report["weighted avg"][key] == pytest.approx(ref_average(REF_SCORES[kind], counts, "weighted"))
    assert report["accuracy"] == pytest.approx(np.mean(scores.argmax(1) == labels))
    assert [report[str(c)]["support"] for c in range(C)] == np.bincount(labels, minlength=C).tolist()
    text = M.format_report(report)
    assert "macro avg" in text and "accuracy" in text and len(text.splitlines()) == C + 4
    named = M.report_from_confusion(M.confusion_matrix(labels, scores), target_names=list("abcd"))
    assert named["a"] == report["0"]


def test_confusion_and_report_against_sklearn(data):
    skm = pytest.importorskip("sklearn.metrics")
    scores, labels, w = data
    pred = scores.argmax(1)
    np.testing.assert_allclose(M.confusion_matrix(labels, scores, sample_weight=w),
                               skm.confusion_matrix(labels, pred, labels=range(C), sample_weight=w))
    ours = M.classification_report(labels, scores)
    theirs = skm.classification_report(labels, pred, labels=range(C), output_dict=True, zero_division=0)
    for key in ("0", "3", "macro avg", "weighted avg"):
        for field in ("precision", "recall", "f1-score", "support"):
            assert ours[key][field] == pytest.approx(theirs[key][field]), (key, field)
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"])


def test_macro_average_skips_classes_in_neither_labels_nor_predictions():
    """3 of 3 correct over 10 possible classes: scikit-learn's macro average is 1.0 (labels present in
    y_true or y_pred), not 0.3."""
    report = M.classification_report([1, 2, 2], [1, 2, 2], num_classes=10)
    for field in ("precision", "recall", "f1-score"):
        assert report["macro avg"][field] == 1.0
    report = M.classification_report([0, 1], [0, 2], num_classes=5)  # 2 is only predicted: it counts
    assert report["macro avg"]["recall"] == pytest.approx((1 + 0 + 0) / 3)
    skm = pytest.importorskip("sklearn.metrics")
    theirs = skm.classification_report([0, 1], [0, 2], output_dict=True, zero_division=0)
    for field in ("precision", "recall", "f1-score"):
        assert report["macro avg"][field] == pytest.approx(theirs["macro avg"][field])


# ------------------------------------------------ streaming and weights ---

def _classification_cases(scores, labels):
    return [
        (lambda: M.SparseCategoricalAccuracy(), labels, scores),
        (lambda: M.CategoricalAccuracy(), one_hot(labels), scores),
        (lambda: M.SparseTopKCategoricalAccuracy(k=2), labels, scores),
        (lambda: M.Precision(), labels, scores),
        (lambda: M.Recall(thresholds=[0.3, 0.6], top_k=2), labels, scores),
        (lambda: M.Precision(average="macro"), labels, scores),
        (lambda: M.Recall(average="weighted"), one_hot(labels), scores),
        (lambda: M.F1Score(), labels, scores),
        (lambda: M.FBetaScore(beta=2.0, average="micro"), labels, scores),
        (lambda: M.AUC(), one_hot(labels), scores),
        (lambda: M.AUC(curve="PR", multi_label=True), one_hot(labels), scores),
        (lambda: M.ConfusionMatrix(C), labels, scores),
        (lambda: M.MeanSquaredError(), one_hot(labels), scores),
        (lambda: M.RootMeanSquaredError(), one_hot(labels), scores),
        (lambda: M.MeanAbsoluteError(), one_hot(labels), scores),
    ]


def test_streaming_over_batches_equals_one_shot(data):
    scores, labels, w = data
    for make, y, p in _classification_cases(scores, labels):
        for weights in (None, w):
            once = feed(make(), y, p, weights)
            streamed = feed(make(), y, p, weights, parts=batches(N))
            np.testing.assert_allclose(streamed, once, rtol=1e-12, atol=1e-12, err_msg=repr(make()))


def test_reset_state_starts_a_new_epoch(data):
    scores, labels, w = data
    for make, y, p in _classification_cases(scores, labels):
        metric = make()
        feed(metric, y[::-1], p, w)  # scrambled first epoch
        metric.reset_state()
        np.testing.assert_allclose(feed(metric, y, p, w), feed(make(), y, p, w), err_msg=repr(metric))


def test_integer_sample_weights_equal_repeated_samples(data):
    scores, labels, _ = data
    reps = np.arange(N) % 3  # 0, 1 or 2 copies of each sample
    rep_idx = np.repeat(np.arange(N), reps)
    for make, y, p in _classification_cases(scores, labels):
        np.testing.assert_allclose(feed(make(), y, p, reps.astype(float)), feed(make(), y[rep_idx], p[rep_idx]),
                                   rtol=1e-12, atol=1e-12, err_msg=repr(make()))


def test_sample_weight_layouts(data):
    scores, labels, w = data
    base = feed(M.F1Score(average="macro"), labels, scores, w)
    assert feed(M.F1Score(average="macro"), labels, scores, w[:, None]) == pytest.approx(base)
    scalar_weight = M.SparseCategoricalAccuracy()
    scalar_weight.update_state(labels, scores, sample_weight=2.0)
    assert scalar_weight.result() == pytest.approx(feed(M.SparseCategoricalAccuracy(), labels, scores))


# ------------------------------------------------------------ bad input ---

ALL_METRICS = [
    M.Accuracy, M.BinaryAccuracy, M.CategoricalAccuracy, M.SparseCategoricalAccuracy, M.TopKCategoricalAccuracy,
    M.SparseTopKCategoricalAccuracy, M.Precision, M.Recall, M.TruePositives, M.F1Score, M.FBetaScore, M.AUC,
    M.MeanSquaredError, M.MeanAbsoluteError, M.RootMeanSquaredError, M.MeanAbsolutePercentageError,
    lambda: M.ConfusionMatrix(3),
]


@pytest.mark.parametrize("make", ALL_METRICS)
def test_mismatched_lengths_and_weights_are_refused(make):
    metric = make()
    y, p = np.array([0, 1, 2, 1]), np.eye(3)[[0, 1, 2]]
    with pytest.raises(ValueError, match=r"y_true has 4 samples but y_pred has 3"):
        metric.update_state(y, p)
    with pytest.raises(ValueError, match=r"sample_weight must be .*shape \(3,\).*got shape \(2,\)"):
        metric.update_state(y[:3], p, sample_weight=[1.0, 2.0])
    with pytest.raises(TypeError, match="y_true must be numeric"):
        metric.update_state(np.array(["a", "b", "c"]), p)


@pytest.mark.parametrize("make, y, p, match", [
    (M.SparseCategoricalAccuracy, np.eye(3), np.eye(3), r"integer labels of shape \(3,\)"),
    (M.SparseCategoricalAccuracy, [0, 3, 1], np.eye(3), r"labels must lie in \[0, 2\].*got 3"),
    (M.SparseCategoricalAccuracy, [0, -1, 1], np.eye(3), r"got -1"),
    (M.SparseCategoricalAccuracy, [0, 1.5, 1], np.eye(3), r"whole-number class labels"),
    (M.CategoricalAccuracy, [0, 1, 2], np.eye(3), r"one-hot rows shaped like y_pred \(3, 3\)"),
    (M.SparseTopKCategoricalAccuracy, [0, 7, 1], np.eye(3), r"labels must lie in"),
    (M.BinaryAccuracy, np.ones((3, 2)), np.ones((3, 3)), r"does not match y_pred of shape \(3, 3\)"),
    (M.MeanSquaredError, np.ones((3, 2)), np.ones((3, 3)), r"does not match y_pred of shape \(3, 3\)"),
    (M.Precision, np.ones((3, 2)), np.eye(3), r"y_true must have shape \(3, 3\) like y_pred"),
    (M.F1Score, [0, 5, 1], np.eye(3), r"labels must lie in \[0, 2\]"),
    (M.F1Score, np.ones((3, 2, 2)), np.ones((3, 2, 2)), r"y_pred must have shape \(n, classes\)"),
    (lambda: M.Precision(class_id=5), [0, 1, 2], np.eye(3), r"class_id=5 needs y_pred"),
    (lambda: M.AUC(multi_label=True), np.ones((3, 2, 2)), np.ones((3, 2, 2)), r"multi_label=True needs"),
    (lambda: M.AUC(label_weights=[1, 2]), np.eye(3), np.eye(3), r"label_weights has 2 entries"),
    (lambda: M.ConfusionMatrix(3), [0, 1, 2], np.ones((3, 4)), r"y_pred has 4 columns but num_classes is 3"),
    (lambda: M.ConfusionMatrix(3), [0, 1, 2], [0.2, 0.5, 0.7], r"needs num_classes=2"),
    (lambda: M.ConfusionMatrix(3), np.ones((3, 2)), np.eye(3), r"y_true must be integer labels"),
])
def test_bad_shapes_and_labels_are_named(make, y, p, match):
    with pytest.raises(ValueError, match=match):
        make().update_state(np.asarray(y), np.asarray(p))


def test_output_width_cannot_change_between_batches():
    m = M.F1Score(average="macro")
    m.update_state([0, 1], np.eye(3)[:2])
    with pytest.raises(ValueError, match="y_pred has 4 columns but earlier batches had 3"):
        m.update_state([0, 1], np.eye(4)[:2])


@pytest.mark.parametrize("make, match", [
    (lambda: M.F1Score(average="samples"), "average must be one of"),
    (lambda: M.Precision(average="binary"), "average must be one of"),
    (lambda: M.FBetaScore(beta=0), "beta must be a number greater than 0"),
    (lambda: M.F1Score(threshold=1.5), r"threshold must be None or a number in \(0, 1\]"),
    (lambda: M.F1Score(threshold=0.0), r"threshold must be None or a number in \(0, 1\]"),
    (lambda: M.Precision(thresholds=[0.5, 1.2]), r"thresholds must lie in \[0, 1\], got 1.2"),
    (lambda: M.Precision(top_k=0), "top_k must be a positive integer"),
    (lambda: M.Recall(class_id=-1), "class_id must be a non-negative integer"),
    (lambda: M.Precision(average="macro", top_k=2), "cannot be combined with top_k"),
    (lambda: M.Recall(average="macro", thresholds=[0.2, 0.5]), "takes one threshold"),
    (lambda: M.AUC(num_thresholds=1), "num_thresholds must be an integer from 2 to 1,000,000"),
    (lambda: M.AUC(curve="DET"), "curve must be 'ROC' or 'PR'"),
    (lambda: M.AUC(summation_method="riemann"), "summation_method must be one of"),
    (lambda: M.AUC(num_labels=3), "num_labels is needed only when multi_label=True"),
    (lambda: M.SparseTopKCategoricalAccuracy(k=0), "k must be a positive integer"),
    (lambda: M.ConfusionMatrix(1), "num_classes must be an integer >= 2"),
])
def test_bad_arguments_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ------------------------------------------------- config and registry ---

CONFIGURED = [
    M.Accuracy(), M.BinaryAccuracy(threshold=0.3), M.CategoricalAccuracy(name="cat"), M.SparseCategoricalAccuracy(),
    M.TopKCategoricalAccuracy(k=2), M.SparseTopKCategoricalAccuracy(k=3, from_sorted_ids=False),
    M.Precision(thresholds=[0.2, 0.7], top_k=2, class_id=1), M.Recall(average="weighted", name="wr"),
    M.TruePositives(thresholds=0.4), M.FalseNegatives(), M.F1Score(average="macro", threshold=0.4),
    M.FBetaScore(average="micro", beta=0.5), M.AUC(num_thresholds=50, curve="PR", summation_method="majoring"),
    M.AUC(thresholds=[0.1, 0.5, 0.9], multi_label=True, num_labels=4, label_weights=[1, 2, 3, 4]),
    M.AUC(from_logits=True), M.MeanSquaredError(), M.MeanAbsoluteError(), M.RootMeanSquaredError(),
    M.MeanAbsolutePercentageError(), M.MeanSquaredLogarithmicError(), M.ConfusionMatrix(4),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip(metric, data):
    import json

    config = json.loads(json.dumps(metric.get_config()))  # configs are plain JSON
    clone = type(metric).from_config(config)
    assert clone.get_config() == metric.get_config()
    again = M.get(M.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()
    scores, labels, _ = data
    y = labels if isinstance(metric, (M.SparseCategoricalAccuracy, M.SparseTopKCategoricalAccuracy,
                                      M.ConfusionMatrix)) else one_hot(labels)
    p = scores.argmax(1) if isinstance(metric, M.Accuracy) else scores
    y = labels if isinstance(metric, M.Accuracy) else y
    np.testing.assert_allclose(feed(clone, y, p), feed(metric, y, p))


@pytest.mark.parametrize("name, cls", [
    ("f1_score", M.F1Score), ("F1Score", M.F1Score), ("fbeta_score", M.FBetaScore), ("FBetaScore", M.FBetaScore),
    ("precision", M.Precision), ("Recall", M.Recall), ("auc", M.AUC), ("AUC", M.AUC),
    ("mse", M.MeanSquaredError), ("MSE", M.MeanSquaredError), ("mean_squared_error", M.MeanSquaredError),
    ("mae", M.MeanAbsoluteError), ("mean_absolute_error", M.MeanAbsoluteError),
    ("root_mean_squared_error", M.RootMeanSquaredError), ("RootMeanSquaredError", M.RootMeanSquaredError),
    ("mape", M.MeanAbsolutePercentageError), ("msle", M.MeanSquaredLogarithmicError),
    ("binary_accuracy", M.BinaryAccuracy), ("sparse_top_k_categorical_accuracy", M.SparseTopKCategoricalAccuracy),
    ("true_positives", M.TruePositives), ("accuracy", M.Accuracy),
])
def test_registry_names(name, cls):
    metric = M.get(name)
    assert type(metric) is cls


def test_default_names_are_keras_names():
    expected = {M.F1Score: "f1_score", M.FBetaScore: "fbeta_score", M.AUC: "auc", M.Precision: "precision",
                M.Recall: "recall", M.MeanSquaredError: "mean_squared_error",
                M.RootMeanSquaredError: "root_mean_squared_error", M.MeanAbsoluteError: "mean_absolute_error",
                M.TruePositives: "true_positives"}
    for cls, name in expected.items():
        assert cls().name == name
    assert M.ConfusionMatrix(2).name == "confusion_matrix"


def test_compile_accepts_only_scalar_metrics():
    loss = sn.losses.get("sparse_categorical_crossentropy")
    assert M.is_scalar(M.F1Score(average="macro")) and M.is_scalar(M.Precision()) and M.is_scalar(object())
    assert not M.is_scalar(M.Precision(thresholds=[0.3, 0.6]))
    for bad in (M.F1Score(), "f1_score", M.ConfusionMatrix(3), M.Recall(thresholds=[0.3, 0.6])):
        with pytest.raises(ValueError, match="returns an array, not one number"):
            M.resolve(bad, loss, (None, 3))
    metric = M.resolve("mse", loss, (None, 3))
    assert isinstance(metric, M.MeanSquaredError) and metric.name == "mse"


def test_model_logs_new_metrics_as_floats(rng):
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    model = (sn.Sequential()
             .add(sn.layers.Input((5,)))
             .add(sn.layers.Dense(3, activation="softmax"))
             .compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy", M.F1Score(average="macro"), M.Precision(average="weighted"),
                               M.AUC(), "recall"]))
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    for key in ("f1_score", "precision", "auc", "recall"):
        assert all(isinstance(v, float) and math.isfinite(v) for v in history.history[key]), key
    logs = model.evaluate(x, y, return_dict=True, verbose=0)
    probs = model.predict(x, verbose=0)
    assert logs["f1_score"] == pytest.approx(feed(M.F1Score(average="macro"), y, probs), abs=1e-6)
    bad = sn.Sequential().add(sn.layers.Input((5,))).add(sn.layers.Dense(3, activation="softmax"))
    with pytest.raises(ValueError, match="returns an array"):  # refused at compile, before any training
        bad.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[M.F1Score()])


def _state_bytes(metric):
    arrays = [v for v in vars(metric).values() if isinstance(v, np.ndarray)]
    arrays += [v for inner in vars(metric).values() if hasattr(inner, "__dict__")
               for v in vars(inner).values() if isinstance(v, np.ndarray)]
    return sum(a.nbytes for a in arrays)


def test_state_size_does_not_grow_with_samples(rng):
    scores = rng.dirichlet(np.ones(C), size=2000)
    labels = rng.integers(0, C, size=2000)
    for make, y, p in _classification_cases(scores, labels):
        small, large = make(), make()
        feed(small, y[:10], p[:10])
        feed(large, y, p, parts=batches(2000, (500, 700)))
        assert _state_bytes(large) == _state_bytes(small), repr(small)


def test_mean_wrapper_and_call():
    def abs_diff(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)).reshape(len(y_true), -1)

    m = M.MeanMetricWrapper(abs_diff, name="l1")
    assert m.name == "l1"
    assert m([[0.0, 2.0]], [[1.0, 1.0]]) == pytest.approx(1.0)        # __call__ updates and returns
    assert m([[0.0, 0.0]], [[0.0, 0.0]], sample_weight=[3.0]) == pytest.approx(0.25)
    mean = M.Mean()
    mean.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 1.0])
    mean.update_state(5.0)
    assert mean.result() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="sample_weight must be a scalar or one weight per value"):
        mean.update_state([1.0, 2.0], sample_weight=[1.0, 2.0, 3.0])
