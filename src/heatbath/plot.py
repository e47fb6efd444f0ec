"""Figures for RBMs and spin models (optional extra: ``pip install heatbath[plot]``).

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot (no window, no global state), so it works on a headless machine;
save it with ``fig.savefig("name.png")``.

- :func:`weight_grid`: each hidden unit's weights as an image (filters);
- :func:`sample_grid`: visible samples as images;
- :func:`learning_curves`: the per-epoch history of :meth:`heatbath.RBM.fit`;
- :func:`ising_snapshot`: one 2-D spin configuration;
- :func:`observables_vs_temperature`: sampled energy, specific heat and ``|m|``
  with error bars against the exact finite-torus and infinite-lattice curves;
- :func:`confusion_matrix`: a classifier's counts of true against predicted labels.
"""

import numpy as np

try:
    from matplotlib.figure import Figure
except ImportError as exc:  # pragma: no cover - exercised without matplotlib
    raise ImportError("heatbath.plot needs matplotlib: pip install 'heatbath[plot]'") from exc

__all__ = ["weight_grid", "sample_grid", "learning_curves", "ising_snapshot",
           "observables_vs_temperature", "confusion_matrix"]


def _image_shape(n, image_shape, name):
    if image_shape is None:
        side = int(round(np.sqrt(n)))
        if side * side != n:
            raise ValueError(f"{name} has {n} values per image, not a square: pass image_shape")
        return side, side
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 2 or image_shape[0] * image_shape[1] != n:
        raise ValueError(f"image_shape {image_shape} does not hold the {n} values of {name}")
    return image_shape


def _grid(images, shape, ncols, cmap, title, symmetric, colorbar=False):
    n = len(images)
    # With a colour bar all images share one scale (the bar must mean the same everywhere).
    shared = (np.abs(images).max() or 1.0) if colorbar else None
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(1.1 * ncols, 1.1 * nrows + (0.4 if title else 0)))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    image = None
    for k, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if k < n:
            img = images[k].reshape(shape)
            lim = shared or np.abs(img).max() or 1.0
            kw = {"vmin": -lim, "vmax": lim} if symmetric else {}
            image = ax.imshow(img, cmap=cmap, interpolation="nearest", **kw)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    if colorbar and image is not None:
        fig.subplots_adjust(right=0.86)
        bar = fig.colorbar(image, cax=fig.add_axes((0.89, 0.15, 0.025, 0.7)))
        bar.set_label("weight")
    return fig


def weight_grid(weights, image_shape=None, n_filters=None, ncols=None, title="RBM filters",
                colorbar=False):
    """Each hidden unit's incoming weights as an image, in a grid.

    Parameters
    ----------
    weights : RBM or array of shape (n_visible, n_hidden)
    image_shape : (rows, cols), optional
        Default: square.
    n_filters : int, optional
        Show the first ones only.
    colorbar : bool, default=False
        Draw all filters on one symmetric colour scale, with a colour bar.
        Without it each filter has its own scale.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from heatbath import RBM
    >>> from heatbath.plot import weight_grid
    >>> fig = weight_grid(RBM(16, 6, seed=0))     # 6 filters of 4x4, in 2 rows of 3
    >>> len(fig.axes)
    6
    """
    W = np.asarray(getattr(weights, "weights", weights), dtype=float)
    if W.ndim != 2:
        raise ValueError(f"weights must be 2-D (n_visible, n_hidden), got shape {W.shape}")
    n = W.shape[1] if n_filters is None else min(int(n_filters), W.shape[1])
    shape = _image_shape(W.shape[0], image_shape, "weights")
    return _grid(W.T[:n], shape, ncols, "RdBu_r", title, symmetric=True, colorbar=colorbar)


def sample_grid(samples, image_shape=None, ncols=None, title="samples"):
    """Visible states (rows) as images, in a grid.

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.plot import sample_grid
    >>> len(sample_grid(np.zeros((5, 16))).axes)
    6
    """
    V = np.asarray(samples, dtype=float)
    if V.ndim != 2:
        raise ValueError(f"samples must be 2-D (n_samples, n_visible), got shape {V.shape}")
    shape = _image_shape(V.shape[1], image_shape, "samples")
    return _grid(V, shape, ncols, "gray_r", title, symmetric=False)


def learning_curves(history, keys=None, title="training"):
    """The per-epoch history of :meth:`heatbath.RBM.fit`, one panel per quantity.

    NaN entries (epochs without a score) are skipped.

    Examples
    --------
    >>> from heatbath.plot import learning_curves
    >>> h = {"epoch": [1, 2, 3], "reconstruction_error": [9.0, 8.0, 7.5]}
    >>> len(learning_curves(h).axes)
    1
    """
    if not isinstance(history, dict) or "epoch" not in history:
        raise ValueError("history must be the dict that RBM.fit returns (with 'epoch')")
    epochs = np.asarray(history["epoch"], dtype=float)
    keys = keys or [k for k in ("reconstruction_error", "pseudo_likelihood", "log_likelihood",
                                "log_likelihood_ais") if k in history]
    if not keys:
        raise ValueError("history has nothing to plot")
    fig = Figure(figsize=(4.5 * len(keys), 3.4))
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys):
        y = np.asarray(history[key], dtype=float)
        keep = np.isfinite(y)
        err = history.get(key + "_stderr")
        if err is not None:
            ax.errorbar(epochs[keep], y[keep], yerr=np.asarray(err, dtype=float)[keep],
                        marker="o", ms=3, capsize=2)
        else:
            ax.plot(epochs[keep], y[keep], marker="o", ms=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def ising_snapshot(spins, shape=None, title="Ising configuration"):
    """One 2-D spin configuration (+1 black, -1 white).

    Examples
    --------
    >>> import numpy as np
    >>> from heatbath.plot import ising_snapshot
    >>> len(ising_snapshot(np.ones((8, 8))).axes)
    1
    """
    s = np.asarray(spins, dtype=float)
    if shape is not None:
        s = s.reshape(shape)
    if s.ndim != 2:
        raise ValueError(f"spins must be a 2-D lattice (or pass shape), got shape {s.shape}")
    fig = Figure(figsize=(4, 4))
    ax = fig.subplots()
    ax.imshow(s, cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    return fig


def observables_vs_temperature(results, J=1.0, title=None):
    """Sampled e, C and ``<|m|>`` against T, with the exact curves.

    Parameters
    ----------
    results : list of heatbath.spin.study.IsingResult
        One per temperature, as :func:`heatbath.spin.study.run_ising` returns,
        all on the same L x L lattice.

    The exact curves are Kaufman's finite torus of the same size (e and C)
    and Onsager / Yang for the infinite lattice.
    """
    from heatbath.spin import exact

    if not results:
        raise ValueError("results must hold at least one run")
    T = np.array([r.temperature for r in results], dtype=float)
    L = results[0].size
    grid = np.linspace(T.min() * 0.95, T.max() * 1.05, 200)
    torus = [exact.torus_thermodynamics((L, L), t, J=J) for t in grid]
    panels = [("energy_per_spin", "energy per spin e", "energy_per_spin",
               exact.onsager_energy),
              ("specific_heat", "specific heat per spin C", "specific_heat",
               exact.onsager_specific_heat),
              ("abs_magnetization", "<|m|>", None, exact.yang_magnetization)]
    fig = Figure(figsize=(13, 3.8))
    axes = fig.subplots(1, 3)
    for ax, (key, label, torus_key, infinite) in zip(axes, panels):
        y = [r.observables[key][0] for r in results]
        err = [r.observables[key][1] for r in results]
        ax.errorbar(T, y, yerr=err, fmt="o", ms=4, capsize=3, label="heatbath", zorder=3)
        if torus_key is not None:
            ax.plot(grid, [t[torus_key] for t in torus], "-", lw=1.2, color="C1",
                    label=f"exact, {L}x{L} torus")
        ax.plot(grid, [float(infinite(t, J)) for t in grid], "--", lw=1, color="C2",
                label="exact, infinite lattice")
        ax.axvline(exact.critical_temperature(J), color="grey", lw=0.6, ls=":")
        ax.set_xlabel("temperature T")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"2D Ising model, {L}x{L} torus")
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, labels=None, title="confusion matrix"):
    """Counts of each (true, predicted) label pair as an annotated image.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : sequence or None
        The label order of the rows and columns (default: every label seen,
        sorted).
    title : str

    Examples
    --------
    >>> from heatbath.plot import confusion_matrix
    >>> fig = confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    >>> fig.axes[0].get_xlabel()
    'predicted'
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-d of one length, got {y_true.shape} "
                         f"and {y_pred.shape}")
    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    index = {label: k for k, label in enumerate(labels.tolist())}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        counts[index[t], index[p]] += 1
    n = len(labels)
    fig = Figure(figsize=(1.0 + 0.45 * n, 0.8 + 0.45 * n))
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues", interpolation="nearest")
    for i in range(n):
        for j in range(n):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xticks(range(n), [str(x) for x in labels.tolist()])
    ax.set_yticks(range(n), [str(x) for x in labels.tolist()])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"{title} (accuracy {accuracy:.1%})")
    fig.colorbar(image, ax=ax, label="count")
    fig.tight_layout()
    return fig
