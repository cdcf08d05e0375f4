"""The report's charts (matplotlib, Agg): F1 per type and per system with 95% intervals as
error bars, and the cost curve (F1 against prompt tokens per sentence)."""

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

Interval = Optional[Tuple[float, float]]
#: (F1, interval) in [0, 1]; F1 None when the system has no such score
Point = Tuple[Optional[float], Interval]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, output: Union[str, Path]) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    _plt().close(fig)
    return output


def _err(points: Sequence[Point]) -> List[List[float]]:
    """matplotlib ``yerr``/``xerr`` (in %) of points; no bar where there is no interval."""
    lo, hi = [], []
    for f, ci in points:
        if f is None or ci is None:
            lo.append(0.0)
            hi.append(0.0)
        else:
            lo.append(max(0.0, 100 * (f - ci[0])))
            hi.append(max(0.0, 100 * (ci[1] - f)))
    return [lo, hi]


def plot_per_type(values: Dict[str, Dict[str, Point]], keys: Sequence[str], title: str,
                  output: Union[str, Path]) -> Path:
    """Grouped bars: for each key (type, micro, macro) one bar per system, with error bars.
    ``values[system][key] = (F1, interval)``."""
    plt = _plt()
    systems = list(values)
    n = max(1, len(systems))
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(7.0, 1.2 * len(keys) + 0.25 * n + 2.0), 4.2))
    for i, system in enumerate(systems):
        points = [values[system].get(k, (None, None)) for k in keys]
        xs = [k + (i - (n - 1) / 2) * width for k in range(len(keys))]
        ax.bar(xs, [100 * f if f is not None else 0.0 for f, _ in points], width=width, label=system,
               yerr=_err(points), error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333"})
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(keys, rotation=20, ha="right")
    ax.set_ylabel("F1 (%), 95% CI")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if systems:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _save(fig, output)


def plot_overview(values: Dict[str, Dict[str, Point]], series: Sequence[str], title: str,
                  output: Union[str, Path], marked: Sequence[str] = ()) -> Path:
    """One row per system, a point with its interval per series (e.g. micro F1 in each view).
    Systems in ``marked`` get a dagger (fewer sentences than the report asks for)."""
    plt = _plt()
    systems = list(values)
    fig, ax = plt.subplots(figsize=(8.5, 1.6 + 0.38 * max(1, len(systems))))
    offsets = [(j - (len(series) - 1) / 2) * 0.25 for j in range(len(series))]
    for j, key in enumerate(series):
        points = [values[s].get(key, (None, None)) for s in systems]
        ys = [i + offsets[j] for i in range(len(systems))]
        keep = [k for k, (f, _) in enumerate(points) if f is not None]
        ax.errorbar([100 * points[k][0] for k in keep], [ys[k] for k in keep],
                    xerr=[[_err(points)[0][k] for k in keep], [_err(points)[1][k] for k in keep]],
                    fmt="o", markersize=4, capsize=2.5, label=key)
    ax.set_yticks(range(len(systems)))
    ax.set_yticklabels([s + (" †" if s in marked else "") for s in systems], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("F1 (%), 95% bootstrap interval")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if series:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _save(fig, output)


def plot_cost_curve(curves: Dict[str, List[Tuple[float, float, Interval, int]]], title: str,
                    output: Union[str, Path], xlabel: str = "prompt tokens per sentence") -> Path:
    """``curves[name] = [(x, F1, interval, k)]``: F1 against cost, each point labelled with k."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    labelled = set()
    for name, points in curves.items():
        points = sorted(points)
        xs = [p[0] for p in points]
        ax.errorbar(xs, [100 * p[1] for p in points], yerr=_err([(p[1], p[2]) for p in points]),
                    fmt="-o", markersize=4, capsize=2.5, label=name)
        for x, f, _, k in points:
            if (x, f, k) not in labelled:  # the zero-shot point is shared by every curve
                labelled.add((x, f, k))
                ax.annotate(f"k={k}", (x, 100 * f), textcoords="offset points", xytext=(3, 4), fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("micro F1 (%), 95% CI")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(fontsize=8)
    return _save(fig, output)
