"""The bench machinery (heatbath._bench) and the bench's own NumPy references.

No timings are asserted: the references are checked for correctness (they must do the
same work as the kernels they are compared with) and the runner for its output.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from heatbath import _bench
from heatbath._benchcases import _numpy as refs


def _energy(S):
    return -(S * np.roll(S, 1, -1) + S * np.roll(S, 1, -2)).sum(axis=(-1, -2))


def test_ising_reference_samples_the_exact_energy():
    # 4x4 periodic Ising at T = 2.5: mean energy of 1000 independent chains after 60
    # sweeps (each chain's average over sweeps 20..59) against exact enumeration. The
    # chain means are independent, so the z-score of their average is ~N(0, 1) up to the
    # bias of the 20-sweep burn-in (far below the error here); |z| < 4.4 has a
    # false-alarm rate of 1e-5.
    L, T, n = 4, 2.5, 1000
    rng = np.random.default_rng(12)
    S = np.where(rng.random((n, L, L)) < 0.5, 1, -1).astype(np.int8)
    ref = refs.IsingCheckerboard(S, T, np.random.default_rng(3))
    E = []
    for sweep in range(60):
        ref.sweep()
        if sweep >= 20:
            E.append(_energy(ref.full().astype(float)))
    per_chain = np.mean(E, axis=0)
    bits = (np.arange(2**16)[:, None] >> np.arange(16)) & 1
    all_E = _energy((2 * bits - 1).reshape(-1, L, L).astype(float))
    w = np.exp(-(all_E - all_E.min()) / T)
    exact = (w * all_E).sum() / w.sum()
    z = (per_chain.mean() - exact) / (per_chain.std(ddof=1) / np.sqrt(n))
    assert abs(z) < 4.4, (per_chain.mean(), exact, z)


def test_ising_reference_full_round_trips_and_flips():
    S = np.where(np.random.default_rng(0).random((3, 8, 6)) < 0.5, 1, -1).astype(np.int8)
    ref = refs.IsingCheckerboard(S, 2.0, np.random.default_rng(0))
    assert np.array_equal(ref.full(), S)
    ref.sweep()
    assert not np.array_equal(ref.full(), S)
    assert set(np.unique(ref.full())) <= {-1, 1}


def _naive_cd(W, b, c, v0, k, lr, rng, chain=None):
    """The textbook CD-k / PCD-k update, drawing the same uniforms as refs.CDk."""
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    dt = W.dtype
    h0 = sig(v0 @ W + c)
    h = (rng.random(h0.shape, dtype=dt) < h0).astype(dt) if chain is None else chain
    for i in range(k):
        v = (rng.random(v0.shape, dtype=dt) < sig(h @ W.T + b)).astype(dt)
        hk = sig(v @ W + c)
        if i < k - 1 or chain is not None:
            h = (rng.random(hk.shape, dtype=dt) < hk).astype(dt)
    s = lr / len(v0)
    return W + s * (v0.T @ h0 - v.T @ hk), b + s * (v0 - v).sum(0), c + s * (h0 - hk).sum(0)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cd_reference_is_the_textbook_update(k, dtype):
    rng = np.random.default_rng(1)
    nv, nh, B = 12, 7, 5
    W = (0.3 * rng.standard_normal((nv, nh))).astype(dtype)
    b, c = rng.standard_normal(nv).astype(dtype), rng.standard_normal(nh).astype(dtype)
    v0 = (rng.random((B, nv)) < 0.4).astype(dtype)
    ref = refs.CDk(W.copy(), b.copy(), c.copy(), B, k=k, lr=0.1, seed=4)
    ref.step(v0)
    W2, b2, c2 = _naive_cd(W, b, c, v0, k, 0.1, np.random.default_rng(4))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ref.W, W2, rtol=tol, atol=tol)
    np.testing.assert_allclose(ref.b, b2, rtol=tol, atol=tol)
    np.testing.assert_allclose(ref.c, c2, rtol=tol, atol=tol)


def test_pcd_reference_keeps_its_chain():
    rng = np.random.default_rng(2)
    W = 0.3 * rng.standard_normal((6, 4))
    ref = refs.CDk(W.copy(), np.zeros(6), np.zeros(4), 3, k=2, persistent=True, seed=5)
    chain = ref.chain.copy()
    v0 = (rng.random((3, 6)) < 0.5).astype(float)
    gen = np.random.default_rng(5)
    gen.random((3, 4))   # the draw that made the initial chain
    W2, _, _ = _naive_cd(W, np.zeros(6), np.zeros(4), v0, 2, 0.1, gen, chain=chain)
    ref.step(v0)
    np.testing.assert_allclose(ref.W, W2, rtol=1e-12, atol=1e-12)
    assert not np.array_equal(ref.chain, chain) or True  # it may stay by chance


def test_markov_reference_reaches_the_stationary_law():
    # 3 states, 20000 chains, 30 steps from state 0: the empirical law against pi by
    # chi-square with 2 degrees of freedom; 30 steps leave a bias below 1e-9 here.
    # Threshold 23.0: false-alarm rate 1e-5.
    P = np.array([[0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]])
    w, V = np.linalg.eig(P.T)
    pi = np.real(V[:, np.argmax(np.real(w))])
    pi /= pi.sum()
    n = 20000
    x = refs.markov_simulate(np.cumsum(P, axis=1), np.zeros(n, np.int64), 30,
                             np.random.default_rng(0))
    counts = np.bincount(x, minlength=3)
    chi2 = ((counts - n * pi) ** 2 / (n * pi)).sum()
    assert chi2 < 23.0, (counts, n * pi)


def test_block_gibbs_reference_draws_binary_states_in_place():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((5, 3))
    V = np.zeros((4, 5))
    out = refs.block_gibbs(W, np.full(5, 20.0), np.zeros(3), V, rng)
    assert out is V and np.all(V == 1)   # visible biases of 20: on with p ~ 1 - 2e-9


def test_cases_build_nothing_until_asked(monkeypatch):
    built = []

    def builder(quick, n_threads):
        built.append(quick)
        return dict(work=1, heatbath=lambda: None)

    monkeypatch.setitem(_bench._REGISTRY, "test-lazy", _bench.Case(
        "testmod", "test-lazy", "thing", builder, ()))
    assert [c.name for c in _bench.cases("testmod")] == ["test-lazy"]
    assert built == []
    results = _bench.run_cases(quick=True, names={"test-lazy"})
    assert built == [True] and results[0]["speedup"] is None


def test_undeclared_side_is_an_error(monkeypatch):
    c = _bench.Case("testmod", "test-bad", "thing",
                    lambda q, t: dict(work=1, heatbath=lambda: None, numpy=lambda: None), ())
    with pytest.raises(ValueError, match="not declared"):
        _bench.build(c, quick=True)


def test_ratios():
    r = _bench.ratios({"heatbath": 1.0, "twin": 50.0, "numpy": 3.0, "torch": 2.0,
                       "shared_numpy": 4.0})
    assert r["twin_ratio"] == 50.0 and r["best_reference"] == "torch"
    assert r["speedup"] == 2.0 and r["shared_ratio"] == 4.0 and r["reference_vs_shared"] == 2.0


def test_a_bound_side_is_no_reference_and_the_table_gives_its_fraction():
    seconds = {"heatbath": 2.0, "numpy": 2.6, "torch": 2.2, "bound_gemm": 1.5,
               "shared_numpy": 3.0}
    r = _bench.ratios(seconds)
    assert r["best_reference"] == "torch" and r["speedup"] == pytest.approx(1.1)
    assert r["bound_fraction"] == 0.75
    labels = {"numpy": "NumPy CD-k", "torch": "PyTorch CPU", "bound_gemm": "GEMM-only bound"}
    cell = _bench._against({**r, "reference_name": "PyTorch CPU", "seconds": seconds,
                            "labels": labels})
    assert cell == "PyTorch CPU (also NumPy CD-k 1.3x); GEMM-only bound: 0.75 of it reached"


def test_rate_units():
    assert _bench.rate(2.21e8, "flip") == "221 Mflip/s"
    assert _bench.rate(16300, "sample") == "16.3 ksample/s"
    assert _bench.rate(0.25, "fit") == "4 s/fit"


def test_runs_without_shared_baselines(monkeypatch):
    monkeypatch.setenv("HEATBATH_BASELINES", "none")
    assert _bench.shared_baselines() is None
    (res,) = _bench.run_cases(quick=True, n_threads=1, names={"ising-metropolis-1024sq-1t"})
    assert res["shared_ratio"] is None and "shared_sublattice" not in res["seconds"]
    assert res["twin_ratio"] > 0 and res["speedup"] > 0


def test_shared_baselines_are_timed_when_present(tmp_path, monkeypatch):
    # A stand-in for ../shared/baselines: the bench imports it from the folder given.
    (tmp_path / "README.md").write_text("baselines\n")
    (tmp_path / "ising_numpy.py").write_text(
        "class Sublattice:\n"
        "    def __init__(self, S, T, rng): self.n = 0\n"
        "    def sweep(self): self.n += 1\n")
    monkeypatch.setenv("HEATBATH_BASELINES", str(tmp_path))
    monkeypatch.delitem(sys.modules, "_heatbath_shared_ising_numpy", raising=False)
    (res,) = _bench.run_cases(quick=True, n_threads=1, names={"ising-metropolis-1024sq-1t"})
    assert res["shared_ratio"] > 0 and res["labels"]["shared_sublattice"] == "shared Sublattice"
    monkeypatch.delitem(sys.modules, "_heatbath_shared_ising_numpy", raising=False)


def _script():
    return os.path.join(os.path.dirname(sys.executable), "heatbath")


def _run(*args):
    out = subprocess.run([_script(), "bench", *args], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_bench_json_has_metadata_and_compares(tmp_path):
    saved = tmp_path / "saved.json"
    doc = json.loads(_run("--quick", "--json", "-k", "rng", "--n-threads", "1",
                          "--save", str(saved)))
    meta = doc["metadata"]
    for key in ("heatbath", "numpy", "scipy", "n_threads", "blas", "cpu", "date", "quick"):
        assert key in meta
    assert meta["quick"] is True and meta["n_threads"] == 1
    assert all({"name", "version", "architecture"} <= set(b) for b in meta["blas"])
    assert {r["name"] for r in doc["results"]} == {
        "rng-raw-uint64-1t", "rng-uniform-float64-1t", "rng-raw-uint64-64streams"}
    assert json.loads(saved.read_text())["results"] == doc["results"]
    text = _run("--quick", "-k", "rng", "--n-threads", "1", "--compare", str(saved))
    assert "change" in text and "rng-raw-uint64-1t" in text and "SMOKE TEST" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_bench_rejects_an_unknown_selection():
    out = subprocess.run([_script(), "bench", "--quick", "-k", "no-such-case"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no bench case" in out.stderr


def test_readme_table_is_rewritten_between_its_markers(tmp_path):
    results = _bench.run_cases(quick=True, n_threads=1, names={"rng-raw-uint64-1t"})
    table = _bench.format_markdown(results, _bench.metadata(quick=True, n_threads=1))
    assert "| case | heatbath | speedup |" in table and "SMOKE TEST" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{_bench.README_BEGIN}\nold table\n{_bench.README_END}\nrest\n")
    _bench.update_readme(readme, table)
    text = readme.read_text()
    assert "old table" not in text and text.startswith("intro\n") and text.endswith("rest\n")
    assert "uint64 draws in a kernel" in text
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="markers"):
        _bench.update_readme(readme, table)


def test_time_sides_interleaves_the_rounds_and_keeps_the_best():
    from heatbath._bench import time_sides

    calls = []
    clock = {"a": iter([0.0] * 10), "b": iter([0.0] * 10)}

    def side(name):
        def fn():
            calls.append(name)
            next(clock[name])
        return fn

    best = time_sides({"a": side("a"), "b": side("b")}, min_time=0.0, repeat=3)
    # a warm-up call of each, then rounds a, b, a, b, a, b (one call each: min_time 0)
    assert calls == ["a", "b"] + ["a", "b"] * 3
    assert set(best) == {"a", "b"} and all(0 <= v < 1 for v in best.values())
    # a side past its budget stops after its first round; the others go on
    calls.clear()

    def slow_fn():
        calls.append("slow")
        time.sleep(0.02)

    time_sides({"slow": slow_fn, "fast": lambda: calls.append("fast")},
               min_time=0.0, repeat=4, budget=0.01)
    assert calls.count("slow") == 2 and calls.count("fast") == 5
