"""The section of BENCHMARKS.md that bench/observability.sh measures: the cost of the
metrics (Gantry against a baseline build) and of the access log (to a file against off),
as medians of per-round ratios. Imported by report.py; run alone, it replaces the section
in ../BENCHMARKS.md."""
import csv, os, statistics, subprocess

HEAD = "## Cost of metrics and the access log (bench/observability.sh)"


def section(path="observability.csv"):
    if not os.path.exists(path):
        return []
    rows = list(csv.DictReader(open(path)))
    by = {}
    for r in rows:
        by.setdefault(r["round"], {})[r["variant"]] = float(r["req_per_proxy_core_s"])

    def ratio(a, b):
        v = [x[a] / x[b] for x in by.values() if a in x and b in x and x[b] > 0]
        return statistics.median(v) if v else None

    def med(a):
        v = [x[a] for x in by.values() if a in x]
        return statistics.median(v) if v else None

    out = [HEAD, "",
           f"Keep-alive, one worker pinned, {len(by)} interleaved rounds; req/core-s medians, ratios the "
           "median of per-round ratios. The baseline is the build before the per-route metrics "
           "(global counters only, with locked increments).", "",
           "| variant | req/core-s | ratio |", "|---|---|---|"]
    for name, label, against in [("baseline-log-off", "baseline, access log off", None),
                                 ("gantry-log-off", "gantry, access log off", "baseline-log-off"),
                                 ("gantry-log-file", "gantry, access log to a file", "gantry-log-off"),
                                 ("nginx", "nginx", None)]:
        m = med(name)
        if m is None:
            continue
        r = ratio(name, against) if against else None
        out.append(f"| {label} | {m:.0f} | " + (f"{r:.3f}x {against}" if r else "") + " |")
    spread = [statistics.pstdev([x[v] for x in by.values() if v in x]) / med(v)
              for v in ("gantry-log-off",) if med(v)]
    if spread:
        out += ["", f"The same binary varies by {spread[0] * 100:.0f} % (standard deviation over rounds) on this "
                "shared machine: differences of a few percent are below what one run can tell apart."]
    return out + [""]


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    os.chdir(here)
    md = os.path.join(here, "..", "BENCHMARKS.md")
    text = open(md).read()
    new = "\n".join(section()) + "\n"
    if HEAD in text:
        start = text.index(HEAD)
        end = text.find("\n## ", start + len(HEAD))
        text = text[:start] + new + (text[end + 1:] if end >= 0 else "")
    else:
        at = text.find("## Targets")
        text = text[:at] + new + "\n" + text[at:] if at >= 0 else text + "\n" + new
    open(md, "w").write(text)
