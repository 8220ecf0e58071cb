#!/usr/bin/env python3
"""Turns the CSV files of run.sh into ../BENCHMARKS.md: medians per proxy and scenario,
and Gantry's ratios to the better peer computed within each round, then medianed."""
import csv, os, platform, statistics, subprocess, sys
from collections import defaultdict

rounds, seconds, conns, routes, idle_n = sys.argv[1:6]
here = os.path.dirname(os.path.abspath(__file__))
os.chdir(here)

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout + \
               subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stderr
    except Exception:
        return ""

def ms(v):
    """wrk latency text ("1.23ms", "850.00us", "1.02s") -> milliseconds."""
    if not v: return None
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit): return float(v[:-len(unit)]) * f
    return None

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

rows = list(csv.DictReader(open("results.csv")))
by = defaultdict(list)            # (proxy, scenario) -> rows
for r in rows: by[(r["proxy"], r["scenario"])].append(r)
def metric(px, sc, key, f=float):
    return med([f(r[key]) if r[key] not in ("", None) else None for r in by[(px, sc)]])

def ratio(sc, key, better="max", f=float):
    """Gantry / the better peer, per round, then the median."""
    out = []
    for rnd in sorted({r["round"] for r in rows}):
        vals = {}
        for px in ("nginx", "haproxy", "gantry"):
            rr = [r for r in by[(px, sc)] if r["round"] == rnd]
            if rr and rr[0][key]: vals[px] = f(rr[0][key])
        if "gantry" in vals and ("nginx" in vals or "haproxy" in vals):
            peers = [vals[p] for p in ("nginx", "haproxy") if p in vals]
            best = max(peers) if better == "max" else min(peers)
            if best: out.append(vals["gantry"] / best)
    return med(out)

def fmt(v, nd=0):
    if v is None: return "not yet"
    return f"{v:,.{nd}f}"

scen = [
    ("http-ka", "HTTP/1.1 keep-alive"),
    ("http-new", "new connection per request"),
    ("tls-ka", "TLS keep-alive"),
    ("tls-new", "new TLS handshake per request"),
    ("r10k-prefix", f"{routes} prefix routes, random paths"),
    ("r10k-hosts", f"{routes} host routes, random hosts"),
    ("r10k-regex", f"{routes} regex routes, random paths"),
    ("r10k-headers", f"{routes} header-match routes, random x-tenant"),
]
out = []
commit = sh("git rev-parse --short HEAD").strip()
out.append("# Benchmarks\n")
out.append("Gantry next to nginx and HAProxy in one run of `bench/run.sh`, on the same backend, one worker "
           "each pinned to core 0, wrk and the backend (nginx `return 200`) on core 1. "
           f"{rounds} interleaved rounds of {seconds} s at {conns} connections; medians of the rounds. "
           "Ratios are Gantry over the better peer, computed within each round, then medianed. "
           "`req/core-s` is requests per second of the proxy's own CPU time (user + system). "
           "One absolute number on a shared machine means little: read the ratios.\n")
out.append("| | |\n|---|---|")
out.append(f"| gantry commit | `{commit}` |")
out.append(f"| nginx | `{sh('nginx -v').strip().splitlines()[-1] if sh('nginx -v').strip() else '?'}` |")
out.append(f"| HAProxy | `{sh('haproxy -v').splitlines()[0] if sh('haproxy -v') else '?'}` |")
out.append(f"| wrk | `{sh('wrk -v').splitlines()[0].strip() if sh('wrk -v') else '?'}` |")
cpu = sh("grep -m1 'model name' /proc/cpuinfo").split(":")[-1].strip()
out.append(f"| machine | {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()} |\n")

responder = metric("backend", "direct", "req_per_proxy_core_s")
out.append("## Throughput and latency\n")
out.append("| scenario | nginx req/core-s | HAProxy req/core-s | Gantry req/core-s | Gantry / better peer | "
           "nginx p50 / p99 ms | HAProxy p50 / p99 ms | Gantry p50 / p99 ms | errors (n/h/g) |")
out.append("|---|---|---|---|---|---|---|---|---|")
for sc, label in scen:
    cells = [label]
    for px in ("nginx", "haproxy", "gantry"):
        cells.append(fmt(metric(px, sc, "req_per_proxy_core_s")))
    rt = ratio(sc, "req_per_proxy_core_s")
    cells.append(f"{rt:.2f}x" if rt else "not yet")
    for px in ("nginx", "haproxy", "gantry"):
        p50 = metric(px, sc, "p50", ms); p99 = metric(px, sc, "p99", ms)
        cells.append(f"{p50:.2f} / {p99:.2f}" if p50 is not None else "not yet")
    errs = [metric(px, sc, "errors") for px in ("nginx", "haproxy", "gantry")]
    cells.append(" / ".join("-" if e is None else f"{e:.0f}" for e in errs))
    out.append("| " + " | ".join(cells) + " |")
out.append(f"\nThe responder alone (no proxy hop): {fmt(responder)} req/core-s of its own CPU.\n")

idle = list(csv.DictReader(open("idle.csv"))) if os.path.exists("idle.csv") else []
out.append("## Idle memory per connection\n")
out.append(f"{idle_n} keep-alive connections opened (plain, then over TLS: bench/idle.sh), one request each, then held; "
           "resident memory before and after.\n")
out.append("| proxy | connections held (plain / TLS) | KB per plain connection | KB per TLS connection |")
out.append("|---|---|---|---|")
by_proxy = {}
for r in idle:
    by_proxy.setdefault(r["proxy"], {})[r.get("kind", "plain")] = r
for px, kinds in by_proxy.items():
    p, t = kinds.get("plain"), kinds.get("tls")
    held = f"{p['connections'] if p else '-'} / {t['connections'] if t else '-'}"
    kb = lambda r: f"{float(r['kb_per_conn']):.2f}" if r else "-"
    out.append(f"| {px} | {held} | {kb(p)} | {kb(t)} |")

churn = list(csv.DictReader(open("churn.csv"))) if os.path.exists("churn.csv") else []
load = {r["mode"]: r for r in csv.DictReader(open("churn-load.csv"))} if os.path.exists("churn-load.csv") else {}
out.append("\n## Route change under load\n")
out.append(f"A new prefix route added while wrk loads the {routes}-route table; time from the change to its first 200, "
           "and the client errors of the whole run.\n")
out.append("| mode | median ms to first 200 | max ms | errors under load |")
out.append("|---|---|---|---|")
for mode in ("nginx-reload", "haproxy-api", "gantry"):
    xs = [float(r["first200_ms"]) for r in churn if r["mode"] == mode]
    if xs:
        out.append(f"| {mode} | {statistics.median(xs):.0f} | {max(xs):.0f} | {load.get(mode, {}).get('errors', '?')} |")

reload = list(csv.DictReader(open("reload.csv"))) if os.path.exists("reload.csv") else []
if reload:
    out.append("\n## Live reconfiguration (bench/reload.sh)\n")
    out.append("Time from a manifest's rename into place to the first answer that shows the change, over 100 changes "
               "each, with N prefix + N host + N regex routes loaded (Gantry alone, one worker on core 0): a new route "
               "(first 200), a route moved to another Service (first answer from the new one), an EndpointSlice "
               "moved to another port (endpoints only: nothing is translated). RSS after the 300 changes. "
               "add-nginx and add-haproxy: the same 100 new host routes on the peers with the same N routes "
               "loaded, by `nginx -s reload` (a server block appended) and by HAProxy's runtime API "
               "(`add map` on the hosts map: no reload, but only map entries can be added this way); "
               "their RSS is the proxy's processes before and after.\n")
    out.append("| routes (of each kind) | change | p50 ms | p99 ms | max ms | not seen in 10 s | RSS MiB at start / after |")
    out.append("|---|---|---|---|---|---|---|")
    for r in reload:
        out.append(f"| {r['routes']} | {r['mode']} | {float(r['p50']):.1f} | {float(r['p99']):.1f} | {float(r['max']):.1f} | "
                   f"{r['failures']} | {int(r['rss_start_kb'])/1024:.0f} / {int(r['rss_end_kb'])/1024:.0f} |")

if os.path.exists("route_match.csv"):
    kinds = {"0": "hosts", "1": "prefixes", "2": "exact", "3": "regex (RE2::Set)", "4": "header matches", "5": "query matches",
             "6": "header regexes (RE2::Set)"}
    table = defaultdict(dict)
    for line in open("route_match.csv"):
        if not line.startswith('"BM_Match'): continue
        parts = line.split(",")
        name = parts[0].strip('"')
        kind = name.split("kind:")[1].split("/")[0]; n = name.split("routes:")[1]
        table[kinds.get(kind, kind)][n] = float(parts[3])
    out.append("\n## Router alone (Google Benchmark, ns per match)\n")
    out.append("| routes | 1 | 1,000 | 10,000 | 100,000 |")
    out.append("|---|---|---|---|---|")
    for k, v in table.items():
        out.append(f"| {k} | " + " | ".join(f"{v.get(n, float('nan')):.0f}" for n in ("1", "1000", "10000", "100000")) + " |")

if os.path.exists("translate.csv"):
    out.append("\n## Translation alone (Google Benchmark, ms; N host + N prefix + N regex routes)\n")
    out.append("A full translate(), and translate_routes() (what the serve loop runs when only HTTPRoutes "
               "changed: here one new host route, added and removed in turn).\n")
    out.append("| routes (of each kind) | full, no regex cache | full, with the serve loop's regex cache | routes only |")
    out.append("|---|---|---|---|")
    tr = defaultdict(dict)
    for line in open("translate.csv"):
        if not line.startswith('"BM_Translate'): continue
        parts = line.split(","); name = parts[0].strip('"')
        n = name.split("routes:")[1].split("/")[0]
        c = "routes" if name.startswith("BM_TranslateRoutes") else name.split("cache:")[1]
        tr[n][c] = float(parts[3])
    for n, v in sorted(tr.items(), key=lambda kv: int(kv[0])):
        out.append(f"| {n} | {v.get('0', float('nan')):.1f} | {v.get('1', float('nan')):.1f} | {v.get('routes', float('nan')):.1f} |")

prof = list(csv.DictReader(open("profile.csv"))) if os.path.exists("profile.csv") else []
if prof:
    out.append("\n## Where the cycles go (perf, keep-alive load)\n")
    out.append(f"`perf record` at 2999 Hz on each proxy's processes for {seconds} s of the HTTP/1.1 keep-alive load "
               "(bench/profile.sh). Shares of the proxy's samples by object, then its top user-space symbols.\n")
    pxs = [px for px in ("nginx", "haproxy", "gantry") if any(r["proxy"] == px for r in prof)]
    def dso_share(px, pred):
        return sum(float(r["percent"]) for r in prof if r["proxy"] == px and r["kind"] == "dso" and pred(r["name"]))
    kernel = lambda n: n.startswith("[kernel") or n.startswith("[vdso")
    own = {"nginx": lambda n: n == "nginx", "haproxy": lambda n: n == "haproxy", "gantry": lambda n: n == "gantry"}
    groups = [("kernel", kernel), ("the proxy's binary", None), ("libc", lambda n: n.startswith("libc")),
              ("OpenSSL", lambda n: n.startswith("libssl") or n.startswith("libcrypto"))]
    out.append("| object | " + " | ".join(pxs) + " |")
    out.append("|---|" + "---|" * len(pxs))
    for label, pred in groups:
        cells = [f"{dso_share(px, pred or own[px]):.1f} %" for px in pxs]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = [f"{100 - dso_share(px, kernel):.1f} %" for px in pxs]
    out.append("| user space, all | " + " | ".join(cells) + " |")
    for px in pxs:
        syms = [r for r in prof if r["proxy"] == px and r["kind"] == "sym"]
        if not syms: continue
        out.append(f"\n{px}'s top user-space symbols: " +
                   "; ".join(f"`{r['name'].split(' ', 1)[-1][:70]}` {float(r['percent']):.1f} %" for r in syms[:8]) + ".")

def target(name, ok, detail):
    return f"| {name} | {'met' if ok else ('not yet' if ok is None else 'not met')} | {detail} |"
import observability_report
out += [""] + observability_report.section()
out.append("\n## Targets\n")
out.append("| target | result | measured |")
out.append("|---|---|---|")
ka = ratio("http-ka", "req_per_proxy_core_s"); g_ka = metric("gantry", "http-ka", "req_per_proxy_core_s")
out.append(target("keep-alive req/core-s >= 1.0x the better peer", ka and ka >= 1.0, f"{ka:.2f}x" if ka else "-"))
out.append(target("keep-alive req/core-s >= 1.25x the better peer", ka and ka >= 1.25, f"{ka:.2f}x" if ka else "-"))
frac = g_ka / responder if g_ka and responder else None
out.append(target(">= 0.5 of the responder", frac and frac >= 0.5, f"{frac:.2f}" if frac else "-"))
nc = ratio("http-new", "req_per_proxy_core_s")
out.append(target("new connection per request >= 1.0x the better peer", nc and nc >= 1.0, f"{nc:.2f}x" if nc else "-"))
p99 = ratio("http-ka", "p99", better="min", f=lambda v: ms(v) or 0)
out.append(target("p99 at 50 connections <= 1.0x the best peer", p99 and p99 <= 1.0, f"{p99:.2f}x" if p99 else "-"))
tka = ratio("tls-ka", "req_per_proxy_core_s")
out.append(target("TLS keep-alive >= 1.0x the better peer", tka and tka >= 1.0, f"{tka:.2f}x" if tka else "-"))
g_tls = metric("gantry", "tls-ka", "req_per_proxy_core_s")
tls_frac = g_tls / g_ka if g_tls and g_ka else None
out.append(target("TLS keep-alive >= 0.85x Gantry's plaintext", tls_frac and tls_frac >= 0.85,
                  f"{tls_frac:.2f}x" if tls_frac else "-"))
hs = ratio("tls-new", "req_per_proxy_core_s")
out.append(target("handshakes >= 1.0x peers", hs and hs >= 1.0, f"{hs:.2f}x the better peer" if hs else "-"))
gi = [float(r["kb_per_conn"]) for r in idle if r["proxy"] == "gantry" and r.get("kind", "plain") == "plain"]
out.append(target("idle memory <= 1 KB per plain connection", gi and gi[0] <= 1.0, f"{gi[0]:.2f} KB" if gi else "-"))
gt = [float(r["kb_per_conn"]) for r in idle if r["proxy"] == "gantry" and r.get("kind") == "tls"]
out.append(target("idle memory <= 12 KB per TLS connection", gt and gt[0] <= 12.0, f"{gt[0]:.2f} KB" if gt else "-"))
for sc in ("r10k-prefix", "r10k-hosts", "r10k-headers"):
    v = metric("gantry", sc, "req_per_proxy_core_s")
    loss = 1 - v / g_ka if v and g_ka else None
    out.append(target(f"<= 3 % loss at {routes} {sc.split('-')[1]} routes", loss is not None and loss <= 0.03,
                      f"{loss*100:.1f} % loss" if loss is not None else "-"))
v = metric("gantry", "r10k-regex", "req_per_proxy_core_s")
rr = v / g_ka if v and g_ka else None
out.append(target(f"{routes} regex routes >= 0.8x plaintext", rr and rr >= 0.8, f"{rr:.2f}x" if rr else "-"))
worst = None
if os.path.exists("route_match.csv"):
    worst = max((v.get("100000", 0) for v in table.values()), default=None)
out.append(target("router <= 0.5 us per match at 100k routes", worst is not None and worst <= 500,
                  f"worst kind {worst:.0f} ns" if worst else "-"))
gc = [float(r["first200_ms"]) for r in churn if r["mode"] == "gantry"]
hc = [float(r["first200_ms"]) for r in churn if r["mode"] == "haproxy-api"]
out.append(target("route change faster than every peer, no errors",
                  bool(gc and hc and statistics.median(gc) < statistics.median(hc) and load.get("gantry", {}).get("errors") == "0"),
                  f"{statistics.median(gc):.0f} ms, {load.get('gantry', {}).get('errors', '?')} errors" if gc else "-"))
big = {r["mode"]: r for r in reload if r["routes"] == "5000"}
if big:
    add, ep = big.get("add"), big.get("endpoints")
    out.append(target("new route p50 <= 10 ms, p99 <= 50 ms at 5,000 routes",
                      bool(add and float(add["p50"]) <= 10 and float(add["p99"]) <= 50),
                      f"p50 {float(add['p50']):.1f} ms, p99 {float(add['p99']):.1f} ms" if add else "-"))
    out.append(target("endpoint change p99 <= 10 ms", bool(ep and float(ep["p99"]) <= 10),
                      f"p99 {float(ep['p99']):.1f} ms" if ep else "-"))
    rss = max(int(r["rss_end_kb"]) for m, r in big.items() if not m.startswith("add-")) / 1024
    out.append(target("RSS at 5,000 routes <= 30 MiB", rss <= 30, f"{rss:.0f} MiB"))
    ng, hp = big.get("add-nginx"), big.get("add-haproxy")
    if add and ng and hp:
        out.append(target("new route sooner than nginx's reload and HAProxy's runtime API (p50)",
                          float(add["p50"]) < min(float(ng["p50"]), float(hp["p50"])),
                          f"{float(add['p50']):.1f} ms vs nginx {float(ng['p50']):.1f} ms, HAProxy {float(hp['p50']):.1f} ms"))
out.append("")
open(os.path.join(here, "..", "BENCHMARKS.md"), "w").write("\n".join(out) + "\n")
