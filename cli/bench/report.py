#!/usr/bin/env python3
"""Writes docs/benchmarks.md and its SVG plot from the JSON files of `motcua bench --json` (one per
database and kind of run, as cli/bench/run.sh makes them): the machine, the commands, each figure with
its floors and the ratio, and throughput and p99 against concurrency per scenario. Standard library only."""

import argparse
import datetime
import json
import math
import platform
import re
import subprocess
from pathlib import Path

SCENARIOS = ["create-dossier", "issue-receipt", "sign", "report-query", "pipeline"]
COLOURS = {"sqlite": "#1f77b4", "postgres": "#d62728"}


def machine(postgres_url):
    """CPU model, cores, RAM and kernel from /proc, the PostgreSQL server's version, the commit."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = next(int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal"))
    facts = {
        "CPU": models[0] if models else platform.processor() or "unknown",
        "cores (logical)": str(len(models)),
        "RAM": f"{total_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
    }
    for name, command in [
        ("PostgreSQL", ["psql", postgres_url, "-qtAc", "show server_version"]),
        ("commit", ["git", "rev-parse", "--short", "HEAD"]),
    ]:
        try:
            facts[name] = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip() or "-"
        except (OSError, subprocess.SubprocessError):
            facts[name] = "-"
    load_average = Path("/proc/loadavg").read_text().split()[:3]
    facts["load average (1, 5, 15 min) when written"] = ", ".join(load_average)
    facts["date"] = datetime.date.today().isoformat()
    return facts


def load(paths):
    """Every figure of every run, each tagged with its run's label; and the runs' command lines."""
    figures, commands = [], []
    # SQLite before PostgreSQL, and each database's scenarios before its pipeline.
    for path in sorted(paths, key=lambda path: ("postgres" in Path(path).name, "pipeline" in Path(path).name)):
        run = json.loads(Path(path).read_text())
        program, _, rest = run["command"].partition(" ")
        rest = re.sub(r"\S*/motcua-bench-[^/\s]+", "$work", rest)
        commands.append(f"{Path(program).name} {rest}")
        for figure in run["figures"]:
            figure["label"] = run["label"]
            figures.append(figure)
    return figures, commands


def errors_text(errors):
    return ", ".join(f"{code} {count}" for code, count in errors.items()) or "0"


def markdown(figures, commands, facts, svg_name):
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (cli/bench/run.sh, then cli/bench/report.py) from one run; rerun it rather",
        "than editing. Each figure is `motcua bench` against `motcua up` (release build) on loopback, a closed",
        "loop of N calls in flight, after a warm-up, beside its floors measured in the same run on the same",
        "machine: the empty RPC through the same server stack (`grpc.health.v1.Health/Check` on the service's",
        "port), a plain PostgreSQL insert of a dossier-shaped row (PostgreSQL runs), raw ECDSA P-256",
        "signatures on every core (`sign`). The ratio is the figure's calls a second over the floor's.",
        "",
        "Before each figure the services finish the background work of the one before (no job pending or",
        "running, reporting's feeds caught up): `settled` is how long that took. `pipeline` is a dossier's",
        "whole path (filed; slip and fee receipt issued and signed by the jobs; processed, resolved with the",
        "officer's signature, approved and sealed, returned, rated) timed until reporting's summary has",
        "counted every dossier's slip, fee receipt and rating; its count is short by default (see the",
        "commands). The load generator runs on the same cores as the services, and the per-identity rate",
        "and concurrency limits are raised for the run (a benchmark is one caller). The load average row",
        "says how busy the machine was besides: on a shared machine the figures are lower than on an idle one.",
        "",
        "## The machine",
        "",
        "| | |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in facts.items()]
    lines += ["", "## The commands", "", "```", "make bench", *commands, "```", ""]
    for label in sorted({figure["label"] for figure in figures}, key=lambda label: label != "sqlite"):
        lines += [
            f"## {label}",
            "",
            "| scenario | in flight | calls/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | settled s | floor | floor/s | floor p99 ms | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|---:|",
        ]
        for scenario in SCENARIOS:
            for figure in [f for f in figures if f["label"] == label and f["scenario"] == scenario]:
                latency = figure["latency_ms"]
                head = (
                    f"| {scenario} | {figure['concurrency']} | {figure['throughput']:,.1f} | {latency['p50']:.2f} | "
                    f"{latency['p90']:.2f} | {latency['p99']:.2f} | {latency['p99_9']:.2f} | "
                    f"{errors_text(figure['errors'])} | {figure['settled_after_s']:.1f} |"
                )
                empty = "| | | | | | | | | |"
                for index, floor in enumerate(figure["floors"] or [None]):
                    cells = head if index == 0 else empty
                    if floor is None:
                        lines.append(cells + " | | | |")
                        continue
                    p99 = "" if floor.get("p99_ms") is None else f"{floor['p99_ms']:.2f}"
                    if floor.get("errors"):
                        p99 += f" ({floor['errors']} errors)"
                    lines.append(
                        f"{cells} {floor['name']} | {floor['throughput']:,.1f} | {p99} | {floor['ratio']:.3f} |"
                    )
        pipelines = [f for f in figures if f["label"] == label and f.get("pipeline")]
        if pipelines:
            lines += [
                "",
                "The pipeline's calls/s above are dossiers counted by reporting a second; beside them:",
                "",
                "| in flight | dossiers | synchronous path/s | counted by reporting after s | reporting lag at most (events, s) |",
                "|---:|---:|---:|---:|---|",
            ]
            for figure in pipelines:
                timing = figure["pipeline"]
                lines.append(
                    f"| {figure['concurrency']} | {figure['calls']} | {timing['path_throughput']:,.1f} | "
                    f"{timing['counted_after_s']:.1f} | {timing['max_lag_events']}, {timing['max_lag_seconds']:.1f} |"
                )
        lines.append("")
    lines += [
        "## Throughput and p99 against concurrency",
        "",
        f"![calls a second and p99 latency against calls in flight, per scenario, SQLite and PostgreSQL]({svg_name})",
        "",
    ]
    return "\n".join(lines)


def svg(figures):
    """One row per scenario: calls a second (left) and p99 in ms (right) against calls in flight (log
    scale), a line per database."""
    panel_width, panel_height, margin_left, margin_bottom, margin_top = 380, 200, 70, 40, 30
    rows = [scenario for scenario in SCENARIOS if any(f["scenario"] == scenario for f in figures)]
    width = 2 * (panel_width + margin_left) + 40
    height = len(rows) * (panel_height + margin_bottom + margin_top) + 50
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    labels = sorted({figure["label"] for figure in figures}, key=lambda label: label != "sqlite")
    for index, label in enumerate(labels):
        x = 20 + index * 120
        colour = COLOURS.get(label, "#555")
        out.append(f'<line x1="{x}" y1="18" x2="{x + 24}" y2="18" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{x + 30}" y="22">{label}</text>')
    for row, scenario in enumerate(rows):
        top = 40 + row * (panel_height + margin_bottom + margin_top) + margin_top
        mine = [f for f in figures if f["scenario"] == scenario]
        levels = sorted({f["concurrency"] for f in mine})
        for column, (title, value) in enumerate(
            [("calls/s", lambda f: f["throughput"]), ("p99 ms", lambda f: f["latency_ms"]["p99"])]
        ):
            left = 20 + margin_left + column * (panel_width + margin_left)
            top_value = max(value(f) for f in mine) * 1.1 or 1.0
            low, high = math.log2(min(levels)), math.log2(max(levels))

            def x_of(level):
                return left + (0.5 if high == low else (math.log2(level) - low) / (high - low)) * panel_width

            def y_of(amount):
                return top + panel_height - amount / top_value * panel_height

            out.append(
                f'<rect x="{left}" y="{top}" width="{panel_width}" height="{panel_height}" fill="none" stroke="#999"/>'
            )
            out.append(f'<text x="{left}" y="{top - 8}" font-weight="bold">{scenario}: {title}</text>')
            for tick in range(5):
                amount = top_value * tick / 4
                y = y_of(amount)
                out.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#999"/>')
                out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{amount:,.0f}</text>')
            for level in levels:
                x = x_of(level)
                out.append(
                    f'<text x="{x:.1f}" y="{top + panel_height + 16}" text-anchor="middle">{level}</text>'
                )
            out.append(
                f'<text x="{left + panel_width / 2}" y="{top + panel_height + 32}" text-anchor="middle">'
                "calls in flight</text>"
            )
            for label in labels:
                points = sorted((f["concurrency"], value(f)) for f in mine if f["label"] == label)
                if not points:
                    continue
                colour = COLOURS.get(label, "#555")
                path = " ".join(f"{x_of(level):.1f},{y_of(amount):.1f}" for level, amount in points)
                out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
                for level, amount in points:
                    out.append(f'<circle cx="{x_of(level):.1f}" cy="{y_of(amount):.1f}" r="3" fill="{colour}"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def log_scale_markdown(path):
    """The transparency log's section: signing's log_scale bench at 10,000 and at its full size."""
    sizes = json.loads(Path(path).read_text())
    small, large = sizes[0], sizes[-1]
    lines = [
        "## The transparency log at scale",
        "",
        "`cargo bench -p motcua-signing --bench log_scale`: a log built through the integration path directly",
        "in a throw-away PostgreSQL database, then measured at each size with the checkpointer and the auditor",
        "running: the time from a leaf's commit to a checkpoint covering it, the median latency of an",
        "inclusion proof, a consistency proof, a hash tile and an entry bundle, and the process's RSS.",
        "",
        "| leaves | commit to checkpoint p50 / max ms | inclusion ms | consistency ms | hash tile ms | entry bundle ms | RSS MB (peak) |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for size in sizes:
        checkpoint = size["commit_to_checkpoint_ms"]
        lines.append(
            f"| {size['leaves']:,} | {checkpoint['median']:.1f} / {checkpoint['max']:.1f} | "
            f"{size['inclusion_proof_ms']:.3f} | {size['consistency_proof_ms']:.3f} | {size['hash_tile_ms']:.3f} | "
            f"{size['entry_bundle_ms']:.3f} | {size['rss_mb']:.1f} ({size['peak_rss_mb']:.1f}) |"
        )
    ratios = ", ".join(
        f"{name} {large[key] / small[key]:.2f}x"
        for name, key in [
            ("inclusion", "inclusion_proof_ms"),
            ("consistency", "consistency_proof_ms"),
            ("hash tile", "hash_tile_ms"),
            ("entry bundle", "entry_bundle_ms"),
        ]
    )
    lines += ["", f"At {large['leaves']:,} leaves against {small['leaves']:,}: {ratios}.", ""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", required=True, type=Path)
    parser.add_argument("--svg", required=True, type=Path)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--log-scale", type=Path, help="the JSON of signing's log_scale bench")
    parser.add_argument("runs", nargs="+")
    arguments = parser.parse_args()
    figures, commands = load(arguments.runs)
    arguments.svg.write_text(svg(figures))
    text = markdown(figures, commands, machine(arguments.postgres), arguments.svg.name)
    if arguments.log_scale and arguments.log_scale.exists():
        text += "\n" + log_scale_markdown(arguments.log_scale)
    arguments.markdown.write_text(text)


if __name__ == "__main__":
    main()
