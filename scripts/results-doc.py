#!/usr/bin/env python3
"""Rebuild the generated parts of docs/RESULTS.md from a `dnic reproduce all` run.

    python3 scripts/results-doc.py RESULTS_DIR [docs/RESULTS.md]

The page keeps its hand-written prose (the introduction, how our setting
differs and why); two marked regions are rewritten from RESULTS_DIR:

    <!-- generated: verdicts -->  the table of results, verdicts, wall times
    <!-- generated: results -->   every result's summary.md, to the end

Each result's pictures (SVG) are copied to docs/results/<id>/ and its links
rewritten to them; its command line shows `--out results`, as the page's
introduction runs it, whatever directory the run used. A full run only: a --quick run is refused, since the page
documents the full sizes.
"""
import json
import os
import re
import shutil
import sys

ORDER = ["table1", "table2", "thm1", "fig2", "fig3", "fig4", "fig5", "fig8"]
VERDICTS_MARK = "<!-- generated: verdicts -->"
VERDICTS_END = "<!-- end generated: verdicts -->"
RESULTS_MARK = "<!-- generated: results -->"


def duration(seconds):
    if seconds < 90:
        return "%.0f s" % seconds
    if seconds < 5400:
        return "%.1f min" % (seconds / 60)
    return "%.1f h" % (seconds / 3600)


def load(results_dir):
    reports = []
    for rid in ORDER:
        path = os.path.join(results_dir, rid, "result.json")
        if not os.path.exists(path):
            sys.exit("results-doc: %s: missing; run `dnic reproduce all --out %s` first" % (path, results_dir))
        with open(path) as f:
            report = json.load(f)
        if report["quick"]:
            sys.exit("results-doc: %s is a --quick run; the page documents the full run" % path)
        reports.append(report)
    return reports


def verdict_table(reports):
    rows = ["| result | verdict | wall time of the full run here |", "|---|---|---|"]
    for r in reports:
        title = r["title"].split(" — ", 1)
        name = title[0] + (" — " + title[1] if len(title) > 1 else "")
        rows.append("| [%s](#%s) | **%s** | %s |" % (name, r["id"], r["verdict"], duration(r["wall_seconds"])))
    total = sum(r["wall_seconds"] for r in reports)
    rows.append("")
    rows.append("All eight in %s of wall time." % duration(total))
    return "\n".join(rows)


def section(results_dir, docs_dir, report):
    rid = report["id"]
    with open(os.path.join(results_dir, rid, "summary.md")) as f:
        text = f.read()
    out_dir = os.path.join(docs_dir, "results", rid)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    figures = [fig["file"] for fig in report["figures"]]
    if figures:
        os.makedirs(out_dir)
    for name in figures:
        shutil.copyfile(os.path.join(results_dir, rid, name), os.path.join(out_dir, name))
        text = text.replace("](%s)" % name, "](results/%s/%s)" % (rid, name))
    text = re.sub(r"(`dnic reproduce \S+ --out )\S+", r"\1results", text)
    # the summary's title becomes a section of the page
    text = re.sub(r"^# ", "## ", text, count=1)
    return '<a id="%s"></a>\n%s' % (rid, text.rstrip() + "\n")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    results_dir = sys.argv[1]
    page = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(__file__), "..", "docs", "RESULTS.md")
    with open(page) as f:
        old = f.read()
    for mark in (VERDICTS_MARK, VERDICTS_END, RESULTS_MARK):
        if mark not in old:
            sys.exit("results-doc: %s has no line %s" % (page, mark))
    reports = load(results_dir)
    head, rest = old.split(VERDICTS_MARK, 1)
    _, middle = rest.split(VERDICTS_END, 1)
    middle = middle.split(RESULTS_MARK, 1)[0]
    docs_dir = os.path.dirname(os.path.abspath(page))
    sections = "\n".join(section(results_dir, docs_dir, r) for r in reports)
    new = (head + VERDICTS_MARK + "\n" + verdict_table(reports) + "\n" + VERDICTS_END
           + middle + RESULTS_MARK + "\n\n" + sections)
    with open(page, "w") as f:
        f.write(new)
    print("wrote %s from %s (%d results)" % (page, results_dir, len(reports)))


if __name__ == "__main__":
    main()
