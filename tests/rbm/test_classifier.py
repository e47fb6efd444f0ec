"""Classification RBM: exact p(y | x) against enumeration, gradients against finite
differences, the joint Gibbs sampler against the exact p(x, y), training, bad input."""

import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from heatbath.rbm import ClassRBM


def _random_model(nv=4, nh=3, nc=3, seed=0, scale=1.0):
    m = ClassRBM(nv, nh, nc, seed=seed)
    rng = np.random.default_rng(seed + 100)
    m.weights = scale * rng.standard_normal((nv, nh))
    m.label_weights = scale * rng.standard_normal((nc, nh))
    m.visible_bias = scale * rng.standard_normal(nv)
    m.hidden_bias = scale * rng.standard_normal(nh)
    m.label_bias = scale * rng.standard_normal(nc)
    return m


def _energy(m, x, y, h):
    return -(m.visible_bias @ x + m.hidden_bias @ h + m.label_bias[y] + x @ m.weights @ h
             + m.label_weights[y] @ h)


def _joint_log_table(m):
    """log p~(x, y) for every binary x and label y, by summing h exactly."""
    xs = np.array(list(itertools.product([0.0, 1.0], repeat=m.n_visible)))
    hs = np.array(list(itertools.product([0.0, 1.0], repeat=m.n_hidden)))
    table = np.empty((len(xs), m.n_classes))
    for i, x in enumerate(xs):
        for y in range(m.n_classes):
            table[i, y] = logsumexp([-_energy(m, x, y, h) for h in hs])
    return xs, table


def test_free_energy_and_conditional_equal_enumeration():
    m = _random_model()
    xs, table = _joint_log_table(m)
    for y in range(m.n_classes):
        np.testing.assert_allclose(m.free_energy(xs, np.full(len(xs), y)), -table[:, y],
                                   rtol=0, atol=1e-12)
    exact = np.exp(table - logsumexp(table, axis=1, keepdims=True))
    np.testing.assert_allclose(m.predict_proba(xs), exact, rtol=0, atol=1e-13)
    np.testing.assert_allclose(np.exp(m.predict_log_proba(xs)), exact, rtol=0, atol=1e-13)
    np.testing.assert_array_equal(m.predict(xs), exact.argmax(axis=1))


def test_conditional_holds_for_real_valued_inputs():
    """p(y | x) is a softmax of -F(x, y) for any real x, not only binary rows."""
    m = _random_model(nv=3, nh=2, nc=4, seed=3)
    hs = np.array(list(itertools.product([0.0, 1.0], repeat=m.n_hidden)))
    x = np.array([0.3, -1.7, 2.5])
    logits = np.array([logsumexp([-_energy(m, x, y, h) for h in hs]) for y in range(4)])
    np.testing.assert_allclose(m.predict_proba(x[None])[0],
                               np.exp(logits - logsumexp(logits)), atol=1e-13)


def test_discriminative_gradient_equals_finite_differences():
    m = _random_model(nv=5, nh=4, nc=3, seed=1, scale=0.7)
    rng = np.random.default_rng(7)
    X = (rng.random((9, 5)) < 0.5).astype(float)
    y = rng.integers(0, 3, 9)
    grads = m.gradient(X, y)
    eps = 1e-6
    for name in ("weights", "label_weights", "visible_bias", "hidden_bias", "label_bias"):
        param = getattr(m, name)
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            old = param[idx]
            param[idx] = old + eps
            up = -m.log_loss(X, y)
            param[idx] = old - eps
            down = -m.log_loss(X, y)
            param[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=0, atol=1e-8, err_msg=name)


def test_gibbs_samples_the_exact_joint():
    """Final states of independent chains against the exact p(x, y): chi-square.

    3 inputs x 3 labels = 24 cells (23 degrees of freedom); the test fails
    with probability 1e-3 when the sampler is exact (fixed seed).
    """
    m = _random_model(nv=3, nh=2, nc=3, seed=2, scale=0.8)
    xs, table = _joint_log_table(m)
    p = np.exp(table - logsumexp(table)).ravel()
    n = 20000
    X, y = m.sample(n, 30, seed=5)
    index = (X @ (2 ** np.arange(m.n_visible)[::-1])).astype(int) * m.n_classes + y
    counts = np.bincount(index, minlength=p.size)
    chi2 = float(((counts - n * p) ** 2 / (n * p)).sum())
    assert chi2 < stats.chi2.ppf(1 - 1e-3, p.size - 1), chi2


def test_generative_gradient_is_unbiased_at_the_model():
    """With data drawn from the model, CD-k's expected gradient is zero.

    Over 20 batches of 2,000 model samples, each component's mean must be
    within 5 standard errors of zero (a t statistic with 19 degrees of
    freedom: false alarm 8e-5 per component, about 1e-3 for all 17).
    """
    m = _random_model(nv=3, nh=2, nc=2, seed=4, scale=0.6)
    X, y = m.sample(40000, 40, seed=11)
    rng = np.random.default_rng(12)
    per_row = []
    for start in range(0, 40000, 2000):
        g = m._generative(X[start:start + 2000], y[start:start + 2000], 3, rng)
        per_row.append(np.concatenate([g[k].ravel() for k in sorted(g)]))
    per_row = np.array(per_row)
    mean = per_row.mean(axis=0)
    se = per_row.std(axis=0, ddof=1) / np.sqrt(len(per_row))
    assert np.all(np.abs(mean) < 5 * se + 1e-12)


@pytest.mark.parametrize("method", ["discriminative", "generative", "hybrid"])
def test_training_lowers_the_log_loss_and_is_reproducible(method):
    rng = np.random.default_rng(0)
    centres = (rng.random((3, 12)) < 0.5).astype(float)
    y = rng.integers(0, 3, 300)
    X = np.abs(centres[y] - (rng.random((300, 12)) < 0.1))
    before = ClassRBM(12, 8, 3, seed=1).log_loss(X, y)
    m = ClassRBM(12, 8, 3, seed=1).fit(X, y, method=method, epochs=15, seed=2)
    again = ClassRBM(12, 8, 3, seed=1).fit(X, y, method=method, epochs=15, seed=2)
    np.testing.assert_array_equal(m.weights, again.weights)
    assert len(m.history_["log_loss"]) == 15
    assert m.log_loss(X, y) < 0.5 * before
    assert (m.predict(X) == y).mean() > 0.9


def test_lbfgs_reaches_a_stationary_point_of_the_penalised_loss():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((80, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    m = ClassRBM(4, 3, 2, seed=0).fit(X, y, solver="lbfgs", epochs=500, weight_decay=1e-2)
    g = m.gradient(X, y)
    g["weights"] -= 1e-2 * m.weights
    g["label_weights"] -= 1e-2 * m.label_weights
    assert max(np.abs(v).max() for v in g.values()) < 1e-4
    assert (m.predict(X) == y).mean() > 0.95


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(method="magic"), ValueError, "method"),
    (dict(solver="newton"), ValueError, "solver"),
    (dict(solver="lbfgs", method="hybrid"), ValueError, "lbfgs"),
    (dict(learning_rate="0.1"), TypeError, "learning_rate"),
    (dict(learning_rate=0.0), ValueError, "learning_rate"),
    (dict(momentum=1.0), ValueError, "momentum"),
    (dict(epochs=-1), ValueError, "epochs"),
    (dict(k=0), ValueError, "k"),
])
def test_fit_rejects_bad_settings(kwargs, exc, match):
    X = np.zeros((4, 3))
    with pytest.raises(exc, match=match):
        ClassRBM(3, 2, 2).fit(X, [0, 1, 0, 1], **kwargs)


def test_bad_data_is_refused_with_the_argument_named():
    m = ClassRBM(3, 2, 2)
    with pytest.raises(ValueError, match="Expected 2D array"):
        m.predict(np.zeros(3))
    with pytest.raises(ValueError, match="3 columns"):
        m.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="finite"):
        m.predict([[0, np.nan, 1]])
    with pytest.raises(TypeError, match="X"):
        m.predict([["a", "b", "c"]])
    with pytest.raises(ValueError, match="labels in 0..1"):
        m.fit(np.zeros((2, 3)), [0, 2])
    with pytest.raises(ValueError, match="one label per row"):
        m.fit(np.zeros((2, 3)), [0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        m.fit(np.full((2, 3), 2.0), [0, 1], method="generative")
    with pytest.raises(ValueError, match="n_classes"):
        ClassRBM(3, 2, 1)


# -- the command line: heatbath train --labels ---------------------------------------------

def _cli(capsys, *argv):
    from heatbath.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_trains_a_classifier_on_built_in_digits(tmp_path, capsys):
    pytest.importorskip("sklearn")
    import json

    out_file = tmp_path / "clf.npz"
    code, out, _ = _cli(capsys, "train", "--data", "digits", "--labels", "--hidden", "16",
                        "--epochs", "10", "--learning-rate", "0.2", "--seed", "0",
                        "--out", str(out_file), "--json")
    assert code == 0
    result = json.loads(out, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    assert result["kind"] == "ClassRBM" and result["classes"] == list(range(10))
    assert 0.5 < result["test_accuracy"] <= 1 and 0.5 < result["train_accuracy"] <= 1
    model = ClassRBM.load(out_file)
    assert (model.n_visible, model.n_hidden, model.n_classes) == (64, 16, 10)


def test_cli_classifier_with_a_labels_file_and_its_errors(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = (rng.random((40, 5)) < 0.5).astype(float)
    y = np.array(["a", "b"] * 20)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "short.npy", y[:10])
    code, out, _ = _cli(capsys, "train", "--data", str(tmp_path / "X.npy"), "--labels",
                        str(tmp_path / "y.npy"), "--epochs", "2", "--out",
                        str(tmp_path / "m.npz"))
    assert code == 0 and "ClassRBM" in out and "test accuracy" not in out
    code, _, err = _cli(capsys, "train", "--data", str(tmp_path / "X.npy"), "--labels",
                        str(tmp_path / "short.npy"), "--out", str(tmp_path / "m.npz"))
    assert code == 2 and "one label per row" in err and "Traceback" not in err
    code, _, err = _cli(capsys, "train", "--data", str(tmp_path / "X.npy"), "--labels",
                        "--out", str(tmp_path / "m.npz"))
    assert code == 2 and "built-in --data set" in err
