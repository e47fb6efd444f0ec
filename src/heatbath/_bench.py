"""Benchmark registry and runner: ``heatbath bench`` and the pytest-benchmark files in ``bench/``.

A case times heatbath on one task against

- its **twin** (:mod:`heatbath.reference`, bit-exact, slow): the *engineering* ratio;
- the **references**: the fastest plain NumPy we could write (``heatbath._benchcases._numpy``)
  and peer libraries where installed (scikit-learn, PyTorch, NetKet, BlackJAX): the best of
  them gives the *claim* ratio ("speedup");
- the **shared baselines** (``../shared/baselines`` beside the repository, or
  ``$HEATBATH_BASELINES``) when present: printed so that our references are seen to be at
  least as fast. Everything runs without them.

Adding a case (a few lines, in ``heatbath/_benchcases/<module>.py``)::

    from heatbath._bench import Side, case

    @case("spin", "ising-wolff-32", unit="flip", sides=("twin", "numpy"))
    def _wolff(quick, n_threads):
        ...                                   # build inputs here, not at import
        return dict(work=n_flips,             # units of work per call of heatbath()
                    title="Wolff 32^2, 1 chain",
                    heatbath=lambda: sampler.run(1),
                    twin=Side(twin_fn, "reference.spin.wolff_sweeps", factor=20),
                    numpy=Side(numpy_fn, "NumPy Wolff (bench)"))

``sides`` names every side besides ``heatbath`` that the case may time, so pytest can
collect them without building anything; a side the builder leaves out (a peer that is not
installed, shared baselines that are absent) is skipped. ``twin`` is the twin, names
starting with ``shared`` are shared baselines, anything else is a reference. ``factor``
says that a call does 1/factor of the case's work (slow twins run fewer sweeps). Add
``bench/test_<module>.py`` with ``make_tests("<module>")`` (see ``bench/conftest.py``).
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Side", "Case", "case", "cases", "build", "run_cases", "time_sides", "metadata",
           "shared_baselines", "compare", "format_results", "format_compare", "add_arguments",
           "run_command", "QUICK_NOTE"]

QUICK_NOTE = ("SMOKE TEST (--quick): tiny sizes, each side timed once; "
              "the figures and ratios mean nothing")


@dataclass
class Side:
    """One timed callable; a call does ``1 / factor`` of the case's work."""
    fn: Callable[[], object]
    label: str
    factor: float = 1.0


@dataclass
class Case:
    module: str
    name: str           # stable id (used by --compare and pytest ids)
    unit: str           # one unit of work, singular: "flip", "sample", "draw", "update"
    builder: Callable
    sides: tuple = ()
    demo: bool = False  # among the few cases `heatbath demo` times


@dataclass
class Built:
    case: Case
    title: str
    work: float
    sides: dict = field(default_factory=dict)   # name -> Side, "heatbath" included


_REGISTRY: dict = {}
_LOADED = False


def case(module, name, unit, sides=(), demo=False):
    """Register a case builder ``f(quick, n_threads) -> dict`` (see the module docstring)."""
    def register(builder):
        if name in _REGISTRY:
            raise ValueError(f"bench case {name!r} is registered twice")
        _REGISTRY[name] = Case(module, name, unit, builder, tuple(sides), demo)
        return builder
    return register


def cases(module=None, demo=False):
    """Registered cases (nothing is built), optionally of one module or only the demo's."""
    global _LOADED
    if not _LOADED:
        import heatbath._benchcases  # noqa: F401  (registers the cases)
        _LOADED = True
    return [c for c in _REGISTRY.values()
            if (module is None or c.module == module) and (c.demo or not demo)]


def build(c, quick=False, n_threads=None):
    """Build one case's inputs and callables (the expensive part)."""
    from heatbath._openmp import effective_n_threads

    d = dict(c.builder(quick, effective_n_threads(n_threads)))
    title = d.pop("title", c.name)
    work = d.pop("work")
    sides = {}
    for key, value in d.items():
        if value is None:
            continue
        if key != "heatbath" and key not in c.sides:
            raise ValueError(f"bench case {c.name!r}: side {key!r} is not declared in sides")
        sides[key] = value if isinstance(value, Side) else Side(value, key)
    return Built(c, title, work, sides)


def role(side_name):
    """'heatbath', 'twin', 'shared', 'bound' or 'reference'.

    A ``bound_*`` side times part of heatbath's own work alone (the products of a
    GEMM-bound case): not a reference; the table gives the fraction of it reached.
    """
    if side_name in ("heatbath", "twin"):
        return side_name
    if side_name.startswith("bound"):
        return "bound"
    return "shared" if side_name.startswith("shared") else "reference"


# -- shared baselines ------------------------------------------------------------------

def shared_baselines():
    """The folder of the shared reference code, or None.

    ``$HEATBATH_BASELINES`` wins (empty or "none": never look); otherwise
    ``shared/baselines`` in the repository's parent or one of its ancestors (worktrees).
    """
    env = os.environ.get("HEATBATH_BASELINES")
    if env is not None:
        path = Path(env)
        return path if env.lower() not in ("", "none", "0") and path.is_dir() else None
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for parent in [start, *start.parents][1:6]:
            candidate = parent / "shared" / "baselines"
            if (candidate / "README.md").is_file():
                return candidate
    return None


def load_shared(name):
    """Import ``<shared baselines>/<name>.py`` as a module, or None when absent."""
    folder = shared_baselines()
    if folder is None or not (folder / f"{name}.py").is_file():
        return None
    key = f"_heatbath_shared_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # read-only folder
        try:
            spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = dont_write
        sys.modules[key] = module
    return sys.modules[key]


def _add_peer_sites():
    """Append the folders of ``$HEATBATH_PEERS`` (``os.pathsep``-separated: the
    site-packages of a separate venv with peers such as torch) to ``sys.path``: after
    heatbath's own, so this environment's numpy stays the one imported."""
    for folder in os.environ.get("HEATBATH_PEERS", "").split(os.pathsep):
        if folder and folder not in sys.path:
            sys.path.append(folder)


def peer(module_name):
    """``module_name`` imported, or None when it is not installed (here or in
    ``$HEATBATH_PEERS``)."""
    _add_peer_sites()
    try:
        return importlib.import_module(module_name)
    except ImportError:
        return None


# -- timing ----------------------------------------------------------------------------

def time_sides(fns, min_time=0.2, repeat=5, budget=4.0):
    """Best seconds per call of each function in ``fns`` (names to functions), over
    ``repeat`` rounds of >= ``min_time`` each, the rounds of the functions interleaved.

    Round r of every function runs before round r + 1 of any, so that each side of a
    ratio is timed under the same conditions: on a shared machine whose speed drifts,
    sides timed one after the other moved the ratios by up to 1.5x between runs. A
    function stops once it has spent ``budget`` seconds (slow sides).
    """
    spent = {k: 0.0 for k in fns}
    best = {k: float("inf") for k in fns}
    for k, fn in fns.items():
        start = time.perf_counter()
        fn()  # warm up (first-touch page faults, lazy imports, thread pools)
        spent[k] += time.perf_counter() - start
    for _ in range(repeat):
        for k, fn in fns.items():
            if best[k] < float("inf") and spent[k] > budget:
                continue
            n, elapsed = 0, 0.0
            start = time.perf_counter()
            while elapsed < min_time or n == 0:
                fn()
                n += 1
                elapsed = time.perf_counter() - start
            spent[k] += elapsed
            best[k] = min(best[k], elapsed / n)
    return best


def ratios(seconds, built_sides=None):
    """The twin, claim and shared ratios from seconds per *full work* of each side.

    ``seconds`` maps side names to seconds per call already multiplied by the side's
    factor. The claim is against the fastest reference, twin included (for kernels whose
    twin is also what a user would write); None where a side is missing.
    """
    hb = seconds["heatbath"]
    twin = seconds.get("twin")
    refs = {k: v for k, v in seconds.items() if role(k) in ("reference", "twin")}
    shared = {k: v for k, v in seconds.items() if role(k) == "shared"}
    best = min(refs, key=refs.get) if refs else None
    best_shared = min(shared, key=shared.get) if shared else None
    out = {"twin_ratio": twin / hb if twin else None,
           "best_reference": best, "speedup": refs[best] / hb if best else None,
           "best_shared": best_shared,
           "shared_ratio": shared[best_shared] / hb if best_shared else None}
    bound = [v for k, v in seconds.items() if role(k) == "bound"]
    if bound:   # the fraction of the bound reached (1: heatbath takes the bound's time)
        out["bound_fraction"] = min(bound) / hb
    if best and best_shared:   # > 1: our reference is faster than the shared one
        out["reference_vs_shared"] = shared[best_shared] / refs[best]
    return out


def run_cases(quick=False, n_threads=None, selection="all", names=None, progress=None):
    """Time every case once; a list of result dicts.

    Each has ``name``, ``title``, ``unit`` ("ns/<unit>"), ``heatbath`` and ``reference``
    (ns per unit of heatbath and of the best reference), ``ratio`` (= ``speedup``), the
    throughput ``per_second`` (units per second), ``twin_ratio``, ``shared_ratio`` and
    ``seconds`` per side.
    """
    from heatbath._openmp import effective_n_threads

    n_threads = effective_n_threads(n_threads)
    min_time, repeat = (0.0, 1) if quick else (0.2, 5)
    if selection == "demo" and not quick:
        min_time, repeat = 0.1, 3
    results = []
    for c in cases(demo=selection == "demo"):
        if names is not None and c.name not in names:
            continue
        built = build(c, quick, n_threads)
        best = time_sides({key: side.fn for key, side in built.sides.items()}, min_time,
                          repeat)
        seconds = {key: best[key] * side.factor for key, side in built.sides.items()}
        labels = {key: side.label for key, side in built.sides.items()}
        r = ratios(seconds)
        hb = seconds["heatbath"]
        ref = seconds[r["best_reference"]] if r["best_reference"] else None
        results.append({
            "name": c.name, "module": c.module, "title": built.title,
            "unit": f"ns/{c.unit}", "work": built.work,
            "per_second": built.work / hb,
            "heatbath": 1e9 * hb / built.work,
            "reference": 1e9 * ref / built.work if ref else None,
            "reference_name": labels.get(r["best_reference"], ""),
            "ratio": r["speedup"], **r,
            "seconds": seconds, "labels": labels,
        })
        if progress is not None:
            progress(results[-1])
        elif not quick:
            print(f"  {c.name}: {rate(results[-1]['per_second'], c.unit)}", file=sys.stderr,
                  flush=True)
        del built
    return results


# -- metadata, saving, comparing -------------------------------------------------------

def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def metadata(quick=False, n_threads=None):
    """Versions, threads, BLAS and CPU: what a saved bench result was measured on."""
    import numpy
    import scipy
    from threadpoolctl import threadpool_info

    import heatbath
    from heatbath._openmp import effective_n_threads

    blas = [{"name": i.get("internal_api"), "version": i.get("version"),
             "architecture": i.get("architecture"), "n_threads": i.get("num_threads"),
             "library": os.path.basename(i.get("filepath", ""))}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {
        "heatbath": heatbath.__version__, "numpy": numpy.__version__,
        "scipy": scipy.__version__, "python": platform.python_version(),
        "openmp": heatbath.openmp_enabled(), "n_threads": effective_n_threads(n_threads),
        "n_cpus": os.cpu_count(), "cpu": _cpu_model(), "machine": platform.machine(),
        "blas": blas,
        "openblas_env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                         if k in os.environ},
        "shared_baselines": shared_baselines() is not None,
        "quick": bool(quick),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


_JSON_KEYS = ("name", "module", "title", "unit", "per_second", "heatbath", "reference",
              "reference_name", "ratio", "twin_ratio", "speedup", "best_reference",
              "shared_ratio", "best_shared", "reference_vs_shared", "bound_fraction", "seconds",
              "labels")


def to_json(results, meta):
    """One strict-JSON document (no NaN) of a run."""
    rows = [{k: r.get(k) for k in _JSON_KEYS} for r in results]
    return json.dumps({"metadata": meta, "results": rows}, indent=1, allow_nan=False)


def load(path):
    """A saved ``heatbath bench --json`` document."""
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict) or "results" not in data:
        raise ValueError(f"{path}: not a saved heatbath bench --json output")
    return data


def compare(results, saved):
    """Per case in both: (name, old units/s, new units/s, new/old)."""
    old = {r["name"]: r for r in saved["results"]}
    rows = []
    for r in results:
        if r["name"] in old and old[r["name"]].get("per_second"):
            before = old[r["name"]]["per_second"]
            rows.append((r["name"], before, r["per_second"], r["per_second"] / before))
    return rows


# -- formatting ------------------------------------------------------------------------

_PREFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def rate(per_second, unit):
    """Units per second with an SI prefix: '221 M flip/s', '16.3 k sample/s', '4.1 update/s'."""
    if per_second is None:
        return "n/a"
    if per_second < 1:
        return f"{1 / per_second:.3g} s/{unit}"
    for scale, prefix in _PREFIXES:
        if per_second >= scale:
            return f"{per_second / scale:.3g} {prefix}{unit}/s".replace("  ", " ")
    return f"{per_second:.3g} {unit}/s"


def _x(value):
    return "-" if value is None else f"{value:.2g}x" if value < 10 else f"{value:.0f}x"


def _table(rows, header, align):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    def fmt(r):
        return "  ".join(str(v).ljust(w) if a == "<" else str(v).rjust(w)
                         for v, w, a in zip(r, widths, align)).rstrip()
    line = fmt(header)
    return "\n".join([line, "-" * len(line)] + [fmt(r) for r in rows])


def format_results(results, meta=None):
    """The bench table (rows under 100 characters) and a legend of the references."""
    rows, legend = [], []
    for r in results:
        unit = r["unit"].split("/", 1)[1]
        rows.append([r["name"][:34], rate(r["per_second"], unit), _x(r.get("twin_ratio")),
                     _x(r.get("speedup")), _x(r.get("shared_ratio")),
                     r.get("reference_name", "")[:24]])
    text = _table(rows, ["case", "heatbath", "vs twin", "speedup", "vs shared", "best reference"],
                  "<>>>><")
    lines = [text, "", "speedup: against the fastest reference (claim); vs twin: against the "
             "bit-exact NumPy twin;", "vs shared: against ../shared/baselines when present."]
    if meta is not None:
        lines += describe_machine(meta)
        if meta.get("quick"):
            lines = [QUICK_NOTE, ""] + lines + [QUICK_NOTE]
    return "\n".join(lines + legend)


def describe_machine(meta):
    """Lines naming the CPU, threads and BLAS libraries of a run."""
    lines = [f"heatbath {meta['heatbath']}, numpy {meta['numpy']}, scipy {meta['scipy']}; "
             f"{meta['n_threads']} thread(s), OpenMP {'on' if meta['openmp'] else 'off'}",
             f"CPU: {meta['cpu']} ({meta['n_cpus']} cores, {meta['machine']})"]
    for b in meta["blas"]:
        lines.append(f"BLAS: {b['name']} {b['version']}, {b['architecture']}, "
                     f"{b['n_threads']} thread(s) ({b['library']})")
    if meta.get("openblas_env"):
        lines.append(f"environment: {meta['openblas_env']}")
    return lines


def format_compare(rows, saved_meta, quick):
    out = _table([[name[:40], f"{a:.3g}/s", f"{b:.3g}/s", f"{100 * (c - 1):+.0f}%"]
                  for name, a, b, c in rows], ["case", "saved", "now", "change"], "<>>>")
    note = [f"saved: {saved_meta.get('date')} on {saved_meta.get('cpu')}, "
            f"{saved_meta.get('n_threads')} thread(s)"]
    if bool(saved_meta.get("quick")) != bool(quick):
        note.append("warning: one run is --quick and the other is not: not comparable")
    return "\n".join([out, ""] + note)


README_BEGIN = "<!-- bench-table:begin (heatbath bench --readme README.md rewrites this) -->"
README_END = "<!-- bench-table:end -->"


def _against(r):
    """The best reference's name, then every other reference timed in the same run
    (NumPy, torch, scikit-learn, ...: not the twin, not the shared baselines) with
    heatbath's ratio to it."""
    text = r.get("reference_name") or "-"
    seconds, labels = r.get("seconds") or {}, r.get("labels") or {}
    best, hb = r.get("best_reference"), seconds.get("heatbath")
    others = [f"{labels.get(k, k)} {_x(seconds[k] / hb)}" for k in seconds
              if hb and k not in ("heatbath", "twin", best) and role(k) == "reference"]
    text += f" (also {', '.join(others)})" if others else ""
    bounds = [k for k in seconds if role(k) == "bound"]
    if hb and bounds:
        k = min(bounds, key=seconds.get)
        text += f"; {labels.get(k, k)}: {seconds[k] / hb:.2f} of it reached"
    return text


def format_markdown(results, meta):
    """The README's speed table: machine, then one row per case (claim ratio as speedup)."""
    blas = "; ".join(f"{b['name']} {b['version']} ({b['architecture']}, {b['library']})"
                     for b in meta["blas"])
    lines = [f"One run of `heatbath bench` on {meta['date'][:10]}: {meta['cpu']}, "
             f"{meta['n_cpus']} cores ({meta['machine']}); heatbath {meta['heatbath']}, "
             f"Python {meta['python']}, NumPy {meta['numpy']}, SciPy {meta['scipy']}; "
             f"BLAS: {blas}. Threads: {meta['n_threads']} for the parallel cases "
             f"(OpenMP {'on' if meta['openmp'] else 'off'}), NumPy's BLAS at its default "
             f"({', '.join(str(b['n_threads']) for b in meta['blas'])} threads); "
             f"each row names its own. "
             + ("The shared baselines were present. " if meta["shared_baselines"] else "")
             + (f"Environment: {meta['openblas_env']}. " if meta.get("openblas_env") else ""),
             "",
             "| case | heatbath | speedup | against (fastest reference) | vs twin | vs shared |",
             "|---|---|---|---|---|---|"]
    for r in results:
        unit = r["unit"].split("/", 1)[1]
        lines.append(f"| {r['title']} | {rate(r['per_second'], unit)} | "
                     f"**{_x(r.get('speedup'))}** | {_against(r)} | "
                     f"{_x(r.get('twin_ratio'))} | {_x(r.get('shared_ratio'))} |")
    if meta.get("quick"):
        lines += ["", QUICK_NOTE]
    import textwrap
    return "\n".join(textwrap.wrap(lines[0].strip(), 100) + lines[1:])


def update_readme(path, table):
    """Replace the text between the README markers with ``table`` (atomically)."""
    from heatbath._io import atomic_write

    with open(path) as f:
        text = f.read()
    if README_BEGIN not in text or README_END not in text:
        raise ValueError(f"{path}: no bench-table markers ({README_BEGIN} ... {README_END})")
    head, rest = text.split(README_BEGIN, 1)
    tail = rest.split(README_END, 1)[1]
    new = f"{head}{README_BEGIN}\n{table}\n{README_END}{tail}"
    atomic_write(path, lambda f: f.write(new.encode()))


# -- the command -----------------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, each case once: a smoke test, not a measurement")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (results and machine metadata)")
    parser.add_argument("--n-threads", type=int, default=None,
                        help="threads for the parallel cases (default: all cores)")
    parser.add_argument("--compare", metavar="SAVED.json", default=None,
                        help="also print the change per case against a saved --json output")
    parser.add_argument("--save", metavar="OUT.json", default=None,
                        help="write the --json output to this file too")
    parser.add_argument("-k", dest="select", default=None, metavar="TEXT",
                        help="only the cases whose name contains TEXT")
    parser.add_argument("--markdown", action="store_true",
                        help="print the README's markdown table instead of the text table")
    parser.add_argument("--readme", metavar="README.md", default=None,
                        help="rewrite the table between the bench-table markers of this file")
    parser.add_argument("--peers-site", metavar="DIR", action="append", default=[],
                        help="site-packages of another venv holding peers (torch, ...), "
                             "searched after this one's (repeatable; also $HEATBATH_PEERS)")


def run_command(args, out=print):
    """``heatbath bench``: returns the exit code."""
    saved = load(args.compare) if args.compare else None
    for folder in getattr(args, "peers_site", None) or ():
        if not os.path.isdir(folder):
            raise ValueError(f"--peers-site: {folder} is not a folder")
        os.environ["HEATBATH_PEERS"] = os.pathsep.join(
            filter(None, [os.environ.get("HEATBATH_PEERS", ""), folder]))
    for flag, path in (("--save", args.save), ("--readme", args.readme)):
        if path and not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
            raise ValueError(f"{flag}: cannot write to {path}")
    names = None
    if args.select:
        names = {c.name for c in cases() if args.select in c.name}
        if not names:
            raise ValueError(f"-k {args.select!r}: no bench case name contains it")
    results = run_cases(quick=args.quick, n_threads=args.n_threads, names=names)
    meta = metadata(args.quick, args.n_threads)
    doc = to_json(results, meta)
    if args.save:
        from heatbath._io import atomic_write
        atomic_write(args.save, lambda f: f.write((doc + "\n").encode()))
    if args.readme:
        update_readme(args.readme, format_markdown(results, meta))
    if args.json:
        out(doc)
    elif args.markdown:
        out(format_markdown(results, meta))
    else:
        out(format_results(results, meta))
    if saved is not None:
        target = sys.stderr if args.json else None
        text = format_compare(compare(results, saved), saved.get("metadata", {}), args.quick)
        print(text, file=target) if target else out("\n" + text)
    return 0


# -- pytest-benchmark ------------------------------------------------------------------

def quick_from_env(default=False):
    """``$HEATBATH_BENCH_QUICK`` as a bool (unset: ``default``)."""
    value = os.environ.get("HEATBATH_BENCH_QUICK")
    return default if value is None else value not in ("", "0")


def make_tests(module):
    """A pytest test function over (case, side) of ``module``'s cases, for bench/test_*.py.

    Collection builds nothing; a case is built when its first side runs and dropped when
    the next case starts, so ``-k`` selects without building what it skips. A side the
    builder did not provide (a peer not installed, no shared baselines) is skipped.
    """
    import pytest

    params = [pytest.param(c.name, side, id=f"{c.name}-{side}")
              for c in cases(module) for side in ("heatbath", *c.sides)]
    cache = {}

    @pytest.mark.parametrize(("case_name", "side"), params)
    def test_bench(benchmark, case_name, side):
        quick = quick_from_env(default=benchmark.disabled)
        key = (case_name, quick)
        if key not in cache:
            cache.clear()
            c = _REGISTRY[case_name]
            cache[key] = build(c, quick=quick)
        built = cache[key]
        if side not in built.sides:
            pytest.skip(f"{case_name}: {side} is not available here")
        s = built.sides[side]
        benchmark.group = case_name
        benchmark.extra_info.update(case=case_name, side=side, label=s.label,
                                    factor=s.factor, work=built.work, unit=built.case.unit,
                                    quick=quick)
        benchmark(s.fn)

    test_bench.__name__ = f"test_{module}"
    return test_bench


def terminal_summary(terminalreporter, config):
    """Both ratios per case from the benchmarks of one pytest run (bench/conftest.py)."""
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    by_case = {}
    for bench in session.benchmarks:
        info = bench.extra_info
        if bench.stats is None or "case" not in info:
            continue
        entry = by_case.setdefault(info["case"], {"seconds": {}, "labels": {}, "info": info})
        entry["seconds"][info["side"]] = bench.stats.median * info["factor"]
        entry["labels"][info["side"]] = info["label"]
    results = []
    for name, entry in by_case.items():
        seconds, info = entry["seconds"], entry["info"]
        if "heatbath" not in seconds:
            continue
        r = ratios(seconds)
        results.append({"name": name, "unit": f"ns/{info['unit']}",
                        "per_second": info["work"] / seconds["heatbath"], **r,
                        "reference_name": entry["labels"].get(r["best_reference"], "")})
    quick = any(e["info"].get("quick") for e in by_case.values())
    terminalreporter.section("heatbath: throughput and ratios (medians of this run)")
    for line in format_results(results).splitlines():
        terminalreporter.write_line(line)
    if quick:
        terminalreporter.write_line(QUICK_NOTE)
