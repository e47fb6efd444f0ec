"""heatbath.plot: every figure builds headless, from real results; bad input is refused."""

import io as _io
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from heatbath import RBM, plot  # noqa: E402
from heatbath.spin.study import run_ising  # noqa: E402


def _png(fig):
    buf = _io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_figures_from_real_results():
    X = (np.random.default_rng(0).random((200, 16)) < 0.3).astype(float)
    m = RBM(16, 6, seed=0)
    h = m.fit(X, epochs=4, seed=0, score_every=2, scores=("pseudo_likelihood",
                                                          "log_likelihood_ais")).history_
    for fig in (plot.weight_grid(m), plot.weight_grid(m.weights, (2, 8), n_filters=3),
                plot.sample_grid(m.sample(10, 5, seed=1)), plot.learning_curves(h),
                plot.ising_snapshot(np.sign(np.random.default_rng(1).normal(size=64)),
                                    shape=(8, 8))):
        assert _png(fig)[:4] == b"\x89PNG"
    assert len(plot.learning_curves(h).axes) == 3
    runs = [run_ising(8, temperature=T, n_sweeps=200, burn_in=50, n_chains=2, seed=1)
            for T in (2.0, 2.5)]
    fig = plot.observables_vs_temperature(runs)
    assert len(fig.axes) == 3 and _png(fig)[:4] == b"\x89PNG"


def test_bad_input():
    with pytest.raises(ValueError, match="image_shape"):
        plot.weight_grid(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="image_shape"):
        plot.sample_grid(np.zeros((2, 16)), image_shape=(3, 5))
    with pytest.raises(ValueError, match="2-D"):
        plot.ising_snapshot(np.zeros(10))
    with pytest.raises(ValueError, match="history"):
        plot.learning_curves({"loss": [1]})
    with pytest.raises(ValueError, match="at least one"):
        plot.observables_vs_temperature([])


def test_plot_without_matplotlib_says_how_to_get_it():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "sys.modules['matplotlib.figure'] = None\n"
            "import heatbath\ntry:\n    import heatbath.plot\nexcept ImportError as e:\n"
            "    assert 'heatbath[plot]' in str(e); print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
