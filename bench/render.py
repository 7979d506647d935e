"""Turn the medians of one ``bench.report`` run into RESULTS.md and the PNG chart."""

from . import flops
from .implementations import ALL_THREADS, DTYPES, FASTNN, IMPLEMENTATIONS, PEERS
from .predictors import PREDICT_PEER
from .tables import HEAD, Medians, MiB, fmt_s, fmt_x, table
from .targets import _feasibility, _profile, _targets


def _gflops(rows, med):
    out = []
    for row in rows:
        work = flops.epoch(row["sizes"], row["n"], row["m"])
        cells = [row["shape"], row["m"], row["threads"], f"{work / 1e9:.2f}"]
        for name in IMPLEMENTATIONS:
            t = med.epoch(row["shape"], row["m"], row["threads"], name)
            if t is None:
                cells.append("—")
                continue
            rate = work / t / 1e9
            peak = med.peak(DTYPES[name], row["threads"])
            cells.append(f"{rate:.1f} ({rate / peak:.0%})" if peak else f"{rate:.1f}")
        out.append(cells)
    return out


def _chart(res, med, rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in IMPLEMENTATIONS if n not in res["skipped"]]
    labels = [f"{r['shape']}\nm={r['m']} {r['threads']}t" for r in rows]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(13, 9), sharex=True)
    width = 0.8 / len(names)
    colour = {name: f"C{k}" for k, name in enumerate(IMPLEMENTATIONS)}
    for k, name in enumerate(names):
        xs = [i + (k - (len(names) - 1) / 2) * width for i in range(len(rows))]
        per_sample = [(med.epoch(r["shape"], r["m"], r["threads"], name) or float("nan"))
                      / r["n"] * 1e6 for r in rows]
        ax1.bar(xs, per_sample, width, label=f"{name} ({DTYPES[name]})", color=colour[name])
        if name != "fastnn-f64":
            ratio = [med.ratio(r["shape"], r["m"], r["threads"], name, "fastnn-f64")
                     or float("nan") for r in rows]
            ax2.bar(xs, ratio, width, label=f"{name} time / fastnn-f64 time",
                    color=colour[name])
    ax1.set_yscale("log")
    ax1.set_ylabel("µs per sample per epoch (median)")
    ax1.set_title(f"One epoch of SGD, {res['data'].split(':')[0]} — lower is better")
    ax1.legend(fontsize=8, ncol=3)
    ax2.set_yscale("log")
    ax2.axhline(1.0, color="black", linewidth=0.8)
    ax2.set_ylabel("fastnn-f64 speed-up (× faster)")
    ax2.set_title("Ratio to fastnn float64, same run — above 1: fastnn-f64 is faster")
    ax2.legend(fontsize=8, ncol=2)
    ax2.set_xticks(range(len(rows)))
    ax2.set_xticklabels(labels, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _section_intro(res, med, chart_path):
    rows = res["rows"]
    shape, m = HEAD
    out = [
        "# fastnn benchmarks",
        "",
        "Produced by:",
        "",
        "```sh",
        res["command"],
        "```",
        "",
        f"{res['date']}, commit `{res['commit']}` ({res['tree']}), {res['rounds']} interleaved "
        f"rounds, {res['seconds'] / 60:.1f} min in all; load average "
        f"{res['load'][0]} at the start, {res['load'][1]} at the end (the machine is shared)"
        + ("; rounds took " + ", ".join(f"{t:.0f} s (load {load.split()[0]})"
                                        for t, load in res["round_times"])
           if res.get("round_times") else "") + ".",
        "",
        "## Machine",
        "",
        table(["", ""], res["facts"]),
        "",
        "## Data and method",
        "",
        f"- **Data:** {res['data']}.",
        f"- **Training:** one epoch of the book's SGD, sigmoid units, cross-entropy, "
        f"η = {res['eta']}, λ = {res['lmbda']}, from fixed initial weights.  "
        + ("`--quick`: every row trains on the first "
           f"{rows[0]['n']:,} samples." if res.get("quick") else
           f"Mini-batch 100 rows and 1-thread mini-batch 10 rows train on all the samples; "
           f"mini-batch 1 (online) rows on the first {res['online_subset']:,}, and "
           f"all-thread mini-batch 10 rows on the first {res.get('threaded_subset', 0):,}, "
           "for **every** implementation of the row (the samples column says which): "
           "60,000 single-sample steps, or small multi-threaded BLAS calls that wait at a "
           "barrier whenever the shared machine deschedules a thread, take minutes for the "
           "NumPy, sklearn and PyTorch loops.  Compare rows of different sizes per sample."),
        "- **Implementations:** "
        + "; ".join(f"`{n}` ({DTYPES[n]})" for n in IMPLEMENTATIONS)
        + ".  sklearn is `MLPClassifier(activation='logistic', solver='sgd', batch_size=m, "
          "momentum=0, nesterovs_momentum=False, learning_rate_init=η, alpha=λ·m/n, max_iter=1, "
          "shuffle=True)`, one fresh `fit` per epoch (`sklearn-mlp-f32` is fed float32 and "
          "trains in it); PyTorch a plain `nn.Sequential` loop "
          "(`BCEWithLogitsLoss`, `optim.SGD`, weight decay λ/n on the weights only); JAX "
          "`jax.jit` of `lax.scan` over the mini-batches (`bench/jax_peer.py`).",
        "- **Threads:** 1 and all (" + str(ALL_THREADS) + "): fastnn trains on one thread "
        "whatever it is given (BLAS on two would change the model's last bits), so its "
        "all-thread rows measure the same work; threadpoolctl for NumPy's BLAS "
        "(reference, sklearn), `torch.set_num_threads` for PyTorch; JAX's XLA on one "
        "thread (`XLA_FLAGS`, set before JAX is imported).",
        "- **Timing:** every job is built and warmed up first (compilation is never timed), "
        "then each round runs every job once in a new random order; tables show the median "
        "over rounds, and every ratio divides medians of this same run.",
        "- **FLOPs**, counted densely: per sample "
        "2·Σ n_in·n_out forward, 2·Σ_(l≥2) n_in·n_out for BP2, 2·Σ n_in·n_out for BP4; per "
        "mini-batch 3·Σ n_in·n_out + 2·Σ n_out for the update (`bench/flops.py`).  Dense: "
        "zero inputs counted, so fastnn's rate is a dense-equivalent one.  The peak is a "
        f"{res['matmul_n']}² float64/float32 `np.matmul`, timed in the same rounds.",
    ]
    if res["skipped"]:
        out += ["", "Skipped: " + "; ".join(f"`{k}`: {v}" for k, v in res["skipped"].items())]
    return out


def _section_targets(res, med, chart_path):
    rows = res["rows"]
    shape, m = HEAD
    threads_all = sorted({1, ALL_THREADS})
    out = []
    out += ["", "## Targets (issue 13)", "",
            table(["target", "measured", "needed", "verdict"], _targets(res, med, rows))]

    out += ["", f"## Headline: {shape}, mini-batch {m}, one epoch", ""]
    head = []
    for name in IMPLEMENTATIONS:
        cells = [f"`{name}`", DTYPES[name]]
        for th in threads_all:
            t = med.epoch(shape, m, th, name)
            cells += [fmt_s(t), fmt_x(med.ratio(shape, m, th, name, "fastnn-f64")),
                      fmt_x(med.ratio(shape, m, th, name, "fastnn-f32"))]
        head.append(cells)
    hdr = ["implementation", "dtype"]
    for th in threads_all:
        n = next((r["n"] for r in rows if r["shape"] == shape and r["m"] == m
                  and r["threads"] == th), 0)
        hdr += [f"epoch, {th} thr, {n:,} samples", "f64 is × faster", "f32 is × faster"]
    out.append(table(hdr, head))
    out += ["", f"![epoch times and ratios]({chart_path.name})", ""]
    return out


def _section_epochs(res, med, chart_path):
    rows = res["rows"]
    shape, m = HEAD
    out = []
    out += ["## Epoch seconds (median)", ""]
    epoch_rows = []
    for r in rows:
        cells = [r["shape"], r["m"], r["threads"], f"{r['n']:,}"]
        for name in IMPLEMENTATIONS:
            t = med.epoch(r["shape"], r["m"], r["threads"], name)
            lo_hi = res["spreads"].get("|".join(map(str, ("epoch", r["shape"], r["m"],
                                                           r["threads"], name))))
            cells.append(fmt_s(t) + (f" <sub>{lo_hi[0]:.3g}–{lo_hi[1]:.3g}</sub>"
                                     if lo_hi else ""))
        epoch_rows.append(cells)
    out.append(table(["shape", "m", "threads", "samples"] + [f"`{n}`" for n in IMPLEMENTATIONS],
                     epoch_rows))
    out += ["", "Small print: min–max over the rounds in seconds.", ""]
    return out


def _section_ratios(res, med, chart_path):
    rows = res["rows"]
    shape, m = HEAD
    out = []
    out += ["## Ratios: how many times faster fastnn is than each peer (same run)", ""]
    ratio_rows = []
    for r in rows:
        cells = [r["shape"], r["m"], r["threads"]]
        for fast in FASTNN:
            for peer in PEERS:
                cells.append(fmt_x(med.ratio(r["shape"], r["m"], r["threads"], peer, fast)))
        cells.append(fmt_x(med.ratio(r["shape"], r["m"], r["threads"], "fastnn-f64",
                                     "fastnn-f32")))
        ratio_rows.append(cells)
    out.append(table(["shape", "m", "threads"]
                     + [f"{f[-3:]} vs {p}" for f in FASTNN for p in PEERS] + ["f32 vs f64"],
                     ratio_rows))

    return out


def _section_gflops(res, med, chart_path):
    rows = res["rows"]
    shape, m = HEAD
    threads_all = sorted({1, ALL_THREADS})
    peaks = [(f"{dt}, {th} thr", f"{med.peak(dt, th):.1f}" if med.peak(dt, th) else "—")
             for dt in ("float64", "float32") for th in threads_all]
    out = []
    out += ["", "## GFLOP/s (dense count) and share of the measured peak", "",
            "Measured peak, GFLOP/s: " + ", ".join(f"{a} **{b}**" for a, b in peaks) + ".", "",
            table(["shape", "m", "threads", "GFLOP/epoch"] + [f"`{n}`" for n in IMPLEMENTATIONS],
                  _gflops(rows, med)),
            "", "Each cell: GFLOP/s (share of the peak of that dtype and thread count)."]
    return out


def _section_prediction(res, med, chart_path):
    shape, m = HEAD
    threads_all = sorted({1, ALL_THREADS})
    out = []
    out += ["", f"## Prediction: {res['n_test']:,} samples", ""]
    pred_rows = []
    for sh in ("784-30-10", "784-100-10"):
        for th in threads_all:
            for name, peer in PREDICT_PEER.items():
                a = med.m.get(("predict", sh, th, name))
                b = med.m.get(("predict", sh, th, peer))
                if a and b:
                    pred_rows.append((sh, th, name, fmt_s(a), f"{res['n_test'] / a / 1e6:.2f} M/s",
                                      fmt_s(b), f"{res['n_test'] / b / 1e6:.2f} M/s",
                                      fmt_x(b / a)))
    out.append(table(["shape", "threads", "fastnn", "time", "samples/s", "NumPy BLAS pass",
                      "samples/s", "fastnn is × faster"], pred_rows))
    out += ["", "The NumPy pass is `a = 1 / (1 + exp(−(a @ W + b)))` per layer, in place "
            "(`bench/predictors.py`); fastnn's is `kernels.predict_outputs`."]
    return out


def _section_cold_start(res, med, chart_path):
    out = []
    out += ["", "## Cold start", ""]
    cold = res["cold"]
    if "error" in cold:
        out.append(f"Failed: `{cold['error']}`")
    if "warm" in cold:
        w = cold["warm"]
        crow = [("warm numba cache (median of 3)", fmt_s(w["wall"]), fmt_s(w["numpy"]),
                 fmt_s(w["fastnn"]), fmt_s(w["data"]), fmt_s(w["fit"]))]
        if "cold" in cold:
            c = cold["cold"]
            crow.append(("empty cache (`NUMBA_CACHE_DIR` = new temp folder)", fmt_s(c["wall"]),
                         fmt_s(c["numpy"]), fmt_s(c["fastnn"]), fmt_s(c["data"]),
                         fmt_s(c["fit"])))
        out.append(table(["run", "wall, process start to exit", "import numpy",
                          "import fastnn", "np.load data", "fit 1 epoch"], crow))
        if "cold" in cold:
            out += ["", f"Compile time with an empty cache ≈ cold fit − warm fit = "
                        f"**{fmt_s(cold['cold']['fit'] - w['fit'])}**."]
        if "fit_again" in w:
            out += ["", f"A second fit in the same warm process takes {fmt_s(w['fit_again'])}: "
                        f"the first one spends ≈ **{fmt_s(w['fit'] - w['fit_again'])}** loading "
                        "the cached kernels (numba unpickles and links each cached function "
                        "on first call)."]
        out += ["", f"`python -c \"import numpy; from fastnn import FastNN; "
                    f"FastNN(epochs=1).fit(X, y)\"` on {res['n_cold']:,} × 784 float64 "
                    "Fashion-MNIST images (read from a `.npy`); the warm walls were "
                    + ", ".join(fmt_s(x) for x in w["walls"]) + "."]

    if cold.get("imports"):
        out += ["", "Where `import fastnn` spends its time (`python -X importtime`, cumulative; "
                "nested rows are inside their parents):", "",
                table(["module", "cumulative"], [(f"`{name}`", fmt_s(us / 1e6))
                                                 for us, name in cold["imports"]])]
    return out


def _section_memory(res, med, chart_path):
    out = []
    out += ["", "## Memory: 60,000 × 784 float32, one epoch, fresh process", ""]
    mem = res["memory"]
    if "error" in mem:
        out.append(f"Failed: `{mem['error']}`")
    else:
        used = mem["peak"] - mem["kernels"]
        out.append(table(["quantity", "MiB"], [
            ("interpreter + numpy + fastnn imports (VmRSS)", f"{mem['imports'] / MiB:.0f}"),
            ("… + compiled kernels loaded (tiny fit), without X", f"{mem['kernels'] / MiB:.0f}"),
            ("X (float32)", f"{mem['X'] / MiB:.1f}"),
            ("model (weights + biases)", f"{mem['model'] / MiB:.3f}"),
            ("peak RSS of the process (VmHWM)", f"{mem['peak'] / MiB:.0f}"),
            ("peak − baseline with kernels", f"{used / MiB:.0f}"),
            ("(peak − baseline) / (X + model)", f"**{used / (mem['X'] + mem['model']):.2f}×**"),
        ]))
        out += ["", "The baseline is reported separately: the target compares what the fit "
                "adds (X held by the caller, plus whatever `fit` allocates) with X + model."]
    return out


def _section_why(res, med, chart_path):
    rows = res["rows"]
    out = []
    out += ["", "## Where the time goes, and why targets are missed", "",
            _profile(res, med, rows), ""]
    feas = _feasibility(res, med)
    if feas:
        out += ["What the missed ratios would demand of fastnn (1 thread; the dense rate is "
                "this run's FLOP count divided by the needed epoch time, against the same "
                "run's single-thread BLAS peak in that dtype: above 100 %, no implementation "
                "that multiplies densely, as fastnn does on Fashion-MNIST, gets there on this "
                "core):", "", feas, ""]
    out.append(open(__file__.replace("render.py", "ANALYSIS.md")).read()
               if _exists(__file__.replace("render.py", "ANALYSIS.md")) else "")
    return out


# RESULTS.md, top to bottom; each section is (res, med, chart_path) -> list of lines.
def _section_whole(res, med, chart_path):
    from .whole import render_section

    return render_section()


def _section_sparse(res, med, chart_path):
    from .sparse import render_section

    return render_section()


def _section_text(res, med, chart_path):
    from .text import render_section

    return render_section()


SECTIONS = (_section_intro, _section_targets, _section_whole, _section_sparse, _section_text,
            _section_epochs, _section_ratios, _section_gflops, _section_prediction,
            _section_cold_start, _section_memory, _section_why)


def render(res, medians, chart_path):
    """The Markdown of RESULTS.md for one run; draws the chart to ``chart_path`` as a side effect."""
    med = Medians(medians)
    med.n = res["matmul_n"]
    out = []
    for section in SECTIONS:
        out += section(res, med, chart_path)
    _chart(res, med, res["rows"], chart_path)
    return "\n".join(out) + "\n"


def _exists(path):
    import os
    return os.path.exists(path)
