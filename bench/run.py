#!/usr/bin/env python3
"""run.py — `make bench`: where quorum stands, measured against the stand-in model server
(tests/standin) with controlled latencies. Prints one table per benchmark, writes
bench/results.json and draws bench/fanout.svg and bench/overhead.svg. Nothing here asserts a
timing: the targets are printed beside the figures, and a miss is printed as a miss.

Uses the release binaries (bin/quorum, bin/quorum-ls; `make all`) and builds bench/merge_bench.c
against build/rel/libquorum.a. Python 3 stdlib only.

  python3 bench/run.py [ITEM…] [--only fanout,overhead,context,editor,cache,judge,generated,…] [--quick]
"""
import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import io
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BIN = os.path.join(REPO, "bin")
os.environ.setdefault("QUORUM_BIN", BIN)
sys.path.insert(0, os.path.join(REPO, "tests", "standin"))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
sys.path.insert(0, HERE)
from harness import API_KEY_ENV, StandIn, config, git_repo  # noqa: E402
from lspwire import Server  # noqa: E402
import latency  # noqa: E402
import svgplot  # noqa: E402

ENV = dict(os.environ, **{API_KEY_ENV: "sk-standin-bench"})
LATENCY_MS = 300
FANOUT_NS = (1, 2, 4, 8, 16, 32)
OVERHEAD_LINES = (100, 1000, 10000, 100000)
JUDGE_SIZES = (100, 300, 1000, 1500, 10000, 100000)
EDITOR_LATENCY_MS = 2000
PKGS = ("libuv", "libcurl", "jansson", "tree-sitter")


def instant(latency_ms=0):
    """A scenario where every request gets an empty findings list after latency_ms."""
    return {"rules": [], "default": {"findings": [], "latency_ms": latency_ms}}


def run_measured(cmd, cwd=None, env=None):
    """Runs cmd to completion (`env` added to the bench's environment); returns (rc, wall_s,
    cpu_s, maxrss_kb, stdout) with the child's own rusage from wait4 (so the stand-in and this
    script are not counted)."""
    with tempfile.TemporaryFile() as out, open(os.devnull, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, cwd=cwd, env=dict(ENV, **(env or {})), stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait
        out.seek(0)
        return p.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, out.read().decode()


def review(cfg, cwd=None, diff=None, root=None):
    """bin/quorum review --format json; returns run_measured's tuple with stdout parsed."""
    cmd = [os.path.join(BIN, "quorum"), "review", "--config", cfg, "--format", "json"]
    if diff:
        cmd += ["--diff", diff]
    if root:
        cmd += ["--root", root]
    rc, wall, cpu, rss, out = run_measured(cmd, cwd)
    if rc not in (0, 1):
        raise RuntimeError(f"quorum review exited {rc}: {out[-500:]}")
    return wall, cpu, rss, json.loads(out)


def table(title, header, rows):
    """Prints a plain-text table with a title line."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n## {title}")
    for i, r in enumerate(cells):
        print("  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def pct(sorted_vals, p):
    """The p-th percentile (nearest rank) of an already sorted list."""
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


# --- 1. fan-out ---------------------------------------------------------------------------------

FANOUT_BASE = {"src/app.py": "def total(items):\n    return sum(items)\n"}
FANOUT_NEW = {"src/app.py": "def total(items):\n    s = 0\n    for i in items:\n        s += i\n"
                            "    return s\n\n\ndef mean(items):\n    return total(items) / len(items)\n"}


def curl_parallel(s, body_path, n):
    """Wall time of `curl --parallel` sending the captured request n times at once."""
    cmd = ["curl", "-s", "--no-progress-meter", "--parallel", "--parallel-immediate", "--parallel-max", str(n),
           "-H", "content-type: application/json", "-H", "authorization: Bearer x",
           "--data-binary", "@" + body_path]
    for _ in range(n):
        cmd += ["-o", os.devnull, s.base_url_openai + "/chat/completions"]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def bench_fanout(quick):
    reps = 1 if quick else 3
    repo = git_repo(FANOUT_BASE, FANOUT_NEW)
    rows, data = [], []
    with StandIn(instant()) as s:
        body_path = os.path.join(tempfile.mkdtemp(prefix="bench-"), "body.json")
        for n in FANOUT_NS:
            models = {f"m{i}": "openai" for i in range(1, n + 1)}
            cfg_par = config(s, models=models, concurrency=n)
            cfg_def = config(s, models=models)  # limits.concurrency left at its default (8)
            cfg_seq = config(s, models=models, concurrency=1)
            s.set_scenario(instant(0))
            floor = statistics.median(review(cfg_par, cwd=repo)[0] for _ in range(reps))
            with open(body_path, "w") as f:
                json.dump(s.requests()[0]["body"], f)
            s.set_scenario(instant(LATENCY_MS))
            par, inflight = [], 0
            for _ in range(reps):
                s.reset()
                par.append(review(cfg_par, cwd=repo)[0])
                inflight = max(inflight, s.stats()["max_inflight"])
            par = statistics.median(par)
            dflt = par if n <= 8 else review(cfg_def, cwd=repo)[0]
            seq = review(cfg_seq, cwd=repo)[0]
            crl = statistics.median(curl_parallel(s, body_path, n) for _ in range(reps))
            crit = LATENCY_MS / 1000 + floor
            d = {"passes": n, "latency_ms": LATENCY_MS, "floor_s": floor, "critical_path_s": crit,
                 "wall_s": par, "ratio": par / crit, "max_inflight": inflight,
                 "default_concurrency_wall_s": dflt, "default_concurrency_ratio": dflt / crit,
                 "sequential_wall_s": seq, "sequential_ratio": seq / crit,
                 "curl_wall_s": crl, "curl_ratio": crl / (LATENCY_MS / 1000),
                 "target_ratio": 1.10, "meets_target": par / crit <= 1.10 if n <= 16 else None}
            data.append(d)
            verdict = "n/a" if n > 16 else ("yes" if d["meets_target"] else "MISSED")
            rows.append([n, f"{floor * 1000:.0f}", f"{crit * 1000:.0f}", f"{par * 1000:.0f}",
                         f"{d['ratio']:.2f}", inflight, f"{d['default_concurrency_ratio']:.2f}",
                         f"{d['sequential_ratio']:.2f}", f"{d['curl_ratio']:.2f}", verdict])
    table(f"1. Fan-out: N passes × {LATENCY_MS} ms at the stand-in (ratio = wall / critical path; "
          "critical path = L + floor, floor = same review at latency 0; target ≤ 1.10 up to N=16)",
          ["N", "floor ms", "crit ms", "wall ms", "ratio", "inflight", "ratio@conc8",
           "seq ratio", "curl ratio", "≤1.10?"], rows)
    svgplot.line_plot(os.path.join(HERE, "fanout.svg"),
                      f"Fan-out: wall time / critical path (L = {LATENCY_MS} ms)", "passes N",
                      "ratio", [("quorum, concurrency N", [(d["passes"], d["ratio"]) for d in data]),
                                ("quorum, default concurrency 8",
                                 [(d["passes"], d["default_concurrency_ratio"]) for d in data]),
                                ("curl --parallel (N calls / L)",
                                 [(d["passes"], d["curl_ratio"]) for d in data])],
                      xlog=2, hlines=[(1.10, "target 1.10")])
    return data


# --- 2. engine overhead -------------------------------------------------------------------------

FUNCS_PER_FILE = 10
ADDED_PER_FUNC = 10


def c_file(k, changed):
    """A C file of FUNCS_PER_FILE functions; `changed` adds ADDED_PER_FUNC lines to each."""
    out = ["#include <stddef.h>\n\n"]
    for f in range(FUNCS_PER_FILE):
        out.append(f"int fn_{k}_{f}(const int *v, size_t n) {{\n  int acc = 0;\n"
                   f"  for (size_t i = 0; i < n; i++) {{\n    acc += v[i] * {f + 1};\n  }}\n")
        if changed:
            out += [f"  acc ^= (int)(n + {j}) * {k % 97 + j};\n" for j in range(ADDED_PER_FUNC)]
        out.append("  return acc;\n}\n\n")
    return "".join(out)


def py_file(k, changed):
    """The Python counterpart of c_file."""
    out = ["import math\n\n\n"]
    for f in range(FUNCS_PER_FILE):
        out.append(f"def fn_{k}_{f}(values):\n    acc = 0\n    for v in values:\n"
                   f"        acc += v * {f + 1}\n")
        if changed:
            out += [f"    acc ^= len(values) + {j} * {k % 97 + j}\n" for j in range(ADDED_PER_FUNC)]
        out.append("    return acc\n\n\n")
    return "".join(out)


def generated_change(lines):
    """A git repo whose working tree adds `lines` lines over lines/100 files (half C, half
    Python) and the path of its `git diff` patch."""
    n_files = max(1, lines // (FUNCS_PER_FILE * ADDED_PER_FUNC))
    gen = [(f"src/m{k:05d}.c", c_file, k) if k % 2 == 0 else (f"lib/m{k:05d}.py", py_file, k)
           for k in range(n_files)]
    repo = git_repo({p: g(k, False) for p, g, k in gen}, {p: g(k, True) for p, g, k in gen})
    patch = os.path.join(repo, ".git", "bench.patch")
    with open(patch, "w") as f:
        subprocess.run(["git", "diff"], cwd=repo, stdout=f, check=True)
    return repo, patch


def bench_overhead(quick):
    sizes = OVERHEAD_LINES[:3] if quick else OVERHEAD_LINES
    rows, data = [], []
    with StandIn(instant()) as s:
        cfg = config(s, models={"m1": "openai"})
        # The fixed cost of any review (process start, dynamic linking of libcurl's TLS stack,
        # config, one request), from a one-line change; "marginal" subtracts it.
        small = git_repo(FANOUT_BASE, {"src/app.py": FANOUT_BASE["src/app.py"] + "x = 1\n"})
        patch = os.path.join(small, ".git", "bench.patch")
        with open(patch, "w") as f:
            subprocess.run(["git", "diff"], cwd=small, stdout=f, check=True)
        startup = statistics.median(review(cfg, diff=patch, root=small)[1] for _ in range(5))
        rows.append(["1 (startup)", 1, 1, f"{startup * 1000:.0f}", "-", "-", "-", "-", "-", "-"])
        for lines in sizes:
            repo, patch = generated_change(lines)
            runs = []  # the median CPU of a few runs: other work on the machine adds noise
            for _ in range(1 if quick or lines >= 100000 else 3):
                s.reset()
                runs.append(review(cfg, diff=patch, root=repo))
                requests = s.stats()["total"]
            wall, cpu, rss, res = sorted(runs, key=lambda r: r[1])[len(runs) // 2]
            shutil.rmtree(repo, ignore_errors=True)
            per_k = cpu * 1000 / (lines / 1000)
            marginal = (cpu - startup) * 1000 / (lines / 1000)
            d = {"changed_lines": lines, "files": max(1, lines // 100), "requests": requests,
                 "cpu_s": cpu, "cpu_ms_per_1000_lines": per_k,
                 "marginal_cpu_ms_per_1000_lines": marginal, "wall_s": wall,
                 "peak_rss_mb": rss / 1024, "omitted_files": len(res["omitted_files"]),
                 "target_cpu_ms_per_1000_lines": 20, "meets_cpu_target": per_k < 20,
                 "target_rss_mb_at_10000": 64,
                 "meets_rss_target": rss / 1024 < 64 if lines == 10000 else None}
            data.append(d)
            rows.append([lines, d["files"], requests, f"{cpu * 1000:.0f}", f"{per_k:.1f}",
                         "yes" if d["meets_cpu_target"] else "MISSED", f"{marginal:.1f}", f"{rss / 1024:.1f}",
                         {True: "yes", False: "MISSED", None: "-"}[d["meets_rss_target"]],
                         f"{wall:.2f}"])
    table("2. Engine overhead: one pass, instant answers, rule pack off (CPU = user+sys of "
          "bin/quorum; targets < 20 ms per 1,000 lines, < 64 MB at 10,000 lines)",
          ["lines", "files", "requests", "CPU ms", "ms/1k lines", "<20?", "marginal ms/1k",
           "peak MB", "<64MB?", "wall s"], rows)
    svgplot.line_plot(os.path.join(HERE, "overhead.svg"),
                      "Engine CPU per 1,000 changed lines (instant answers)", "changed lines",
                      "ms CPU / 1,000 lines",
                      [("total", [(d["changed_lines"], d["cpu_ms_per_1000_lines"])
                                  for d in data]),
                       ("above startup", [(d["changed_lines"], d["marginal_cpu_ms_per_1000_lines"])
                                          for d in data])],
                      xlog=10, hlines=[(20, "target 20 ms")])
    return {"startup_cpu_s": startup, "sizes": data}


# --- 3. context economy -------------------------------------------------------------------------

def prompt_bytes(body):
    """UTF-8 bytes of every message text of one OpenAI request body."""
    return sum(len(m["content"].encode()) for m in body["messages"] if isinstance(m["content"], str))


def code_bytes(body):
    """UTF-8 bytes of the code context of one request: the text between the last
    <<<CODE-token>>> marker and its <<<END-CODE-token>>> (prompt.c's layout)."""
    user = body["messages"][-1]["content"]
    start = user.rfind("<<<CODE-")
    end = user.find("<<<END-CODE-", start)
    if start < 0 or end < 0:
        return 0
    return len(user[user.index(">>>", start) + 3:end].encode())


def whole_file_bytes(root, paths, omitted):
    """Bytes of the new side of `paths` that exist under root and were not omitted."""
    total = 0
    for p in paths:
        full = os.path.join(root, p)
        if p not in omitted and os.path.isfile(full):
            total += os.path.getsize(full)
    return total


def context_case(s, cfg, name, patch, root, paths):
    s.reset()
    _, _, _, res = review(cfg, diff=patch, root=root)
    omitted = {o.split(": ", 1)[0] for o in res["omitted_files"]}
    reqs = s.requests()
    sent = sum(prompt_bytes(r["body"]) for r in reqs) / 4
    code = sum(code_bytes(r["body"]) for r in reqs) / 4
    whole = whole_file_bytes(root, paths, omitted) / 4
    return {"case": name, "files": len(paths), "omitted": len(omitted), "requests": len(reqs),
            "tokens_sent": round(sent), "tokens_code": round(code),
            "tokens_whole_files": round(whole), "ratio": code / whole if whole else None}


def commit_cases(k):
    """(name, patch, root, paths) for each of the last k commits of this repository: the
    commit's diff against its parent, and its tree extracted (git archive; nothing in the
    working copy changes)."""
    cases = []
    log = subprocess.run(["git", "log", f"-{k}", "--format=%h %s"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    for line in log:
        sha, subject = line.split(" ", 1)
        tmp = tempfile.mkdtemp(prefix="bench-commit-")
        patch = os.path.join(tmp, "change.patch")
        with open(patch, "w") as f:
            subprocess.run(["git", "diff", f"{sha}~1", sha], cwd=REPO, stdout=f, check=True)
        root = os.path.join(tmp, "tree")
        archive = subprocess.run(["git", "archive", sha], cwd=REPO, capture_output=True, check=True)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as t:
            # Our own commits; the "data" filter (refuses links out of root) where Python has it.
            t.extractall(root, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        paths = subprocess.run(["git", "diff", "--name-only", "--diff-filter=d", f"{sha}~1", sha],
                               cwd=REPO, capture_output=True, text=True,
                               check=True).stdout.split()
        cases.append((f"{sha} {subject[:40]}", patch, root, paths, tmp))
    return cases


def bench_context(quick):
    rows, data = [], []
    demo = os.path.join(REPO, "examples", "demo")
    demo_patch = os.path.join(demo, "change.patch")
    demo_paths = [l[6:].strip() for l in open(demo_patch) if l.startswith("+++ b/")]
    with StandIn(instant()) as s:
        cfg = config(s, models={"m1": "openai"})
        cases = [("examples/demo/change.patch", demo_patch, os.path.join(demo, "repo"), demo_paths,
                  None)] + commit_cases(3 if quick else 8)
        for name, patch, root, paths, tmp in cases:
            try:
                d = context_case(s, cfg, name, patch, root, paths)
            except RuntimeError as e:
                d = {"case": name, "error": str(e)[:200]}
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
            data.append(d)
            rows.append([name, d.get("files", "-"), d.get("requests", "-"),
                         d.get("tokens_sent", "-"), d.get("tokens_code", "-"),
                         d.get("tokens_whole_files", "-"),
                         f"{d['ratio']:.2f}" if d.get("ratio") else d.get("error", "-")])
    table("3. Context economy, tokens (bytes/4) of one pass: everything sent (system prompt and "
          "strategy included), the code context alone, and the changed files sent whole",
          ["diff", "files", "requests", "sent", "code", "whole files", "code/whole"], rows)
    return data


def bench_generated(quick):
    """Bytes sent over this repository's own recent history, one pass, cache off: generated,
    vendored, lock and minified files left out (the default) against review.include_generated."""
    k = 10 if quick else 40
    totals = {"left_out": [0, 0, 0], "included": [0, 0, 0]}  # requests, prompt bytes, code bytes
    omitted = 0
    with StandIn(instant()) as s:
        base = json.load(open(config(s, models={"m1": "openai"})))
        cfgs = {}
        for name, include in (("left_out", False), ("included", True)):
            doc = dict(base, review={"include_generated": include})
            cfgs[name] = os.path.join(tempfile.mkdtemp(prefix="bench-gen-"), "config.json")
            json.dump(doc, open(cfgs[name], "w"))
        for case, patch, root, paths, tmp in commit_cases(k):
            for name, cfg in cfgs.items():
                s.reset()
                try:
                    _, _, _, res = review(cfg, diff=patch, root=root)
                except RuntimeError:
                    continue
                reqs = s.requests()
                t = totals[name]
                t[0] += len(reqs)
                t[1] += sum(prompt_bytes(r["body"]) for r in reqs)
                t[2] += sum(code_bytes(r["body"]) for r in reqs)
                if name == "left_out":
                    omitted += sum(1 for o in res["omitted_files"] if "generated" in o or "lock" in o
                                   or "vendor" in o or "minified" in o)
            shutil.rmtree(tmp, ignore_errors=True)
        sample = generated_sample(s, cfgs)
    lo, inc = totals["left_out"], totals["included"]
    rows = [[f"last {k} commits of this repository", lo[0], lo[1], inc[1], omitted,
             f"{(inc[1] - lo[1]) / inc[1]:.0%}" if inc[1] else "-"]]
    rows.append(["issue 20's five-file change (Bison, vendor, Go, lock)", sample["left_out"][0],
                 sample["left_out"][1], sample["included"][1], sample["omitted"],
                 f"{(sample['included'][1] - sample['left_out'][1]) / sample['included'][1]:.0%}"])
    table("7. Only code people wrote: bytes sent by one pass (cache off), generated files left out "
          "(default) and with review.include_generated: true",
          ["change", "requests", "bytes sent", "bytes with them", "files left out", "saved"], rows)
    return {"commits": k, "left_out": lo, "included": inc, "files_left_out": omitted, "sample": sample}


def generated_sample(s, cfgs):
    """The change tests/e2e/test_generated reviews: main.c plus four files nobody writes."""
    from importlib.machinery import SourceFileLoader
    t = SourceFileLoader("test_generated", os.path.join(REPO, "tests", "e2e", "test_generated")).load_module()
    root = git_repo(t.BASE, t.CHANGED)
    out = {}
    for name, cfg in cfgs.items():
        s.reset()
        _, _, _, res = review(cfg, cwd=root)
        reqs = s.requests()
        out[name] = [len(reqs), sum(prompt_bytes(r["body"]) for r in reqs)]
        if name == "left_out":
            out["omitted"] = len(res["omitted_files"])
    return out


# --- 4. editor responsiveness -------------------------------------------------------------------

BIG_LINES = 2000


def bench_editor(quick):
    rounds = 1 if quick else 3
    big = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(BIG_LINES // 3))
    repo = git_repo({"src/app.py": FANOUT_BASE["src/app.py"], "src/big.py": big},
                    {"src/app.py": FANOUT_NEW["src/app.py"]})
    uri_app = "file://" + os.path.join(os.path.realpath(repo), "src/app.py")
    uri_big = "file://" + os.path.join(os.path.realpath(repo), "src/big.py")
    samples = {"codeAction": [], "didChange": [], "ping": []}
    with StandIn(instant(EDITOR_LATENCY_MS)) as s:
        cfg = config(s, models={f"m{i}": "openai" for i in range(1, 17)}, concurrency=16)
        ls = Server([os.path.join(BIN, "quorum-ls"), "--config", cfg], env=ENV)
        ls.call("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                               "initializationOptions": {"debounceMs": 0}})
        ls.notify("initialized", {})
        for uri, text in ((uri_app, FANOUT_NEW["src/app.py"]), (uri_big, big)):
            ls.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                                "version": 1, "text": text}})
        version = 1
        for _ in range(rounds):
            s.reset()
            ls.notify("textDocument/didSave", {"textDocument": {"uri": uri_app}})
            end = time.monotonic() + 10
            while s.stats()["inflight"] < 16 and time.monotonic() < end:
                time.sleep(0.01)
            while s.stats()["inflight"] == 16:  # a batch counts only if 16 were in flight after it
                batch = {k: [] for k in samples}
                for _ in range(10):
                    t0 = time.perf_counter()
                    ls.call("textDocument/codeAction", {
                        "textDocument": {"uri": uri_app},
                        "range": {"start": {"line": 1, "character": 0},
                                  "end": {"line": 1, "character": 0}},
                        "context": {"diagnostics": []}})
                    batch["codeAction"].append(time.perf_counter() - t0)
                    # The ping (an unknown method, answered MethodNotFound) is the barrier that
                    # tells when the didChange before it has been handled; alone it is the floor.
                    t0 = time.perf_counter()
                    ls.call("quorum/benchPing", {})
                    batch["ping"].append(time.perf_counter() - t0)
                    version += 1
                    line = (version * 37) % (BIG_LINES - 10)
                    t0 = time.perf_counter()
                    ls.notify("textDocument/didChange", {
                        "textDocument": {"uri": uri_big, "version": version},
                        "contentChanges": [{"range": {"start": {"line": line, "character": 0},
                                                      "end": {"line": line, "character": 0}},
                                            "text": "# edited\n"}]})
                    ls.call("quorum/benchPing", {})
                    batch["didChange"].append(time.perf_counter() - t0)
                if s.stats()["inflight"] == 16:
                    for k, v in batch.items():
                        samples[k] += v
            end = time.monotonic() + 30
            while s.stats()["inflight"] and time.monotonic() < end:
                time.sleep(0.05)
        ls.call("shutdown", None)
        ls.notify("exit", None)
        ls.p.wait(10)
    data = {}
    rows = []
    for k, v in samples.items():
        v = sorted(x * 1000 for x in v)
        if not v:
            data[k] = {"samples": 0}
            continue
        data[k] = {"samples": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99), "max_ms": v[-1],
                   "target_p99_ms": 5 if k != "ping" else None}
        ok = "-" if k == "ping" else ("yes" if data[k]["p99_ms"] < 5 else "MISSED")
        rows.append([k, len(v), f"{pct(v, 50):.2f}", f"{pct(v, 99):.2f}", f"{v[-1]:.2f}", ok])
    table(f"4. Editor responsiveness: bin/quorum-ls with 16 passes in flight ({EDITOR_LATENCY_MS} ms "
          "each); round trips seen by a Python client over pipes, so they include its overhead. "
          f"didChange = one-line edit of a {BIG_LINES}-line Python file + a ping barrier",
          ["request", "samples", "p50 ms", "p99 ms", "max ms", "p99<5?"], rows)
    return data


# --- 5. cache and adaptive fan-out --------------------------------------------------------------

EVAL_DIR = os.environ.get("QR_EVAL_DIR", os.path.join(REPO, "..", "shared", "eval"))
# Per-million-token prices (in, out) given to the evaluation case's models: the first is the
# cheap one adaptive fan-out starts with.
EVAL_PRICES = ((0.1, 0.4), (1.0, 4.0), (3.0, 15.0))


def spent(res):
    """(model calls, cost in USD, passes answered from the cache) of one review's JSON output."""
    passes = res.get("passes", [])
    calls = [p for p in passes if not p.get("cached") and p.get("status") not in ("skipped", "not_sent")]
    return len(calls), sum(p.get("cost_usd") or 0 for p in passes), sum(1 for p in passes if p.get("cached"))


def with_env(**kv):
    """Sets environment variables for the reviews run inside the block (ENV is their base)."""
    class Ctx:
        def __enter__(self):
            self.old = {k: ENV.get(k) for k in kv}
            ENV.update(kv)

        def __exit__(self, *exc):
            for k, v in self.old.items():
                if v is None:
                    ENV.pop(k, None)
                else:
                    ENV[k] = v
    return Ctx()


def cache_rereview():
    """A first review and a re-review of the same unchanged diff, cache on, fresh cache dir:
    calls and cost seen by the stand-in and in the output."""
    repo, patch = generated_change(1000)
    rows = []
    with StandIn(instant()) as s, with_env(XDG_CACHE_HOME=tempfile.mkdtemp(prefix="bench-cache-"),
                                         XDG_STATE_HOME=tempfile.mkdtemp(prefix="bench-state-")):
        cfg = config(s, models={"m1": "openai", "m2": "anthropic"},
                     strategies=("correctness", "security"), cache=True)
        for run_name in ("first review", "re-review, unchanged diff"):
            s.reset()
            wall, cpu, _, res = review(cfg, diff=patch, root=repo)
            calls, cost, cached = spent(res)
            rows.append({"run": run_name, "standin_requests": s.stats()["total"], "calls": calls,
                         "cached_passes": cached, "cost_usd": cost, "wall_s": wall, "cpu_s": cpu})
    shutil.rmtree(repo, ignore_errors=True)
    return rows


def eval_cases():
    """Every evaluation case folder (passes.json, expected.json, repo/)."""
    return sorted(d for d in glob.glob(os.path.join(EVAL_DIR, "*"))
                  if all(os.path.exists(os.path.join(d, f)) for f in ("passes.json", "expected.json", "repo")))


def eval_case_setup(case):
    """The case served as tests/e2e/test_judge_dev serves it: one stand-in rule per (model,
    strategy) answering that pass's findings. Returns (base, after, strategies, models, rules)."""
    passes = json.load(open(os.path.join(case, "passes.json")))["passes"]
    expected = json.load(open(os.path.join(case, "expected.json")))
    root = os.path.join(case, "repo")
    after = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            with open(os.path.join(dirpath, n), encoding="utf-8") as f:
                after[os.path.relpath(os.path.join(dirpath, n), root)] = f.read()
    base = {p: "".join(after[p].splitlines(True)[:n])
            for p, n in expected.get("base_lines", {}).items() if n}
    strategies = {st: f"STRATEGY-{st.upper()}: review the change for {st} problems."
                  for st in dict.fromkeys(p["strategy"] for p in passes)}
    names = list(dict.fromkeys(p["model"] for p in passes))
    models = {m: {"api": "anthropic" if i % 2 else "openai",
                  "price_in_per_mtok": EVAL_PRICES[min(i, len(EVAL_PRICES) - 1)][0],
                  "price_out_per_mtok": EVAL_PRICES[min(i, len(EVAL_PRICES) - 1)][1]}
              for i, m in enumerate(names)}
    rules = [{"match": {"model": p["model"], "prompt_contains": strategies[p["strategy"]]},
              "findings": p["findings"]} for p in passes]
    return base, after, strategies, models, rules


def score(case, res):
    """score_review.py's verdict on one review output."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(res, f)
    out = subprocess.run([sys.executable, os.path.join(EVAL_DIR, "score_review.py"), f.name,
                          os.path.join(case, "expected.json")], capture_output=True, text=True, check=True)
    os.unlink(f.name)
    return json.loads(out.stdout)


def adaptive_vs_full(case):
    """Full fan-out and adaptive fan-out (first wave: the cheapest model) on one case."""
    base, after, strategies, models, rules = eval_case_setup(case)
    repo = git_repo(base, after)
    out = []
    with StandIn({"rules": rules}) as s:
        cfg = config(s, models=models, strategies=strategies)
        with open(cfg) as f:
            adaptive = json.load(f)
        adaptive["plan"] = {"mode": "adaptive", "first_wave": [next(iter(models))]}
        cfg_adaptive = os.path.join(os.path.dirname(cfg), "adaptive.json")
        with open(cfg_adaptive, "w") as f:
            json.dump(adaptive, f, indent=2)
        for mode, path in (("full", cfg), ("adaptive", cfg_adaptive)):
            s.reset()
            _, _, _, res = review(path, cwd=repo)
            calls, cost, _ = spent(res)
            sc = score(case, res)
            out.append({"case": os.path.basename(case), "mode": mode, "calls": calls,
                        "standin_requests": s.stats()["total"], "cost_usd": cost,
                        "findings_kept": len(res.get("findings", [])), "f1": sc.get("f1"),
                        "precision": sc.get("precision"), "recall": sc.get("recall"),
                        "votes_right": sc.get("votes_right"), "clusters": sc.get("clusters")})
    shutil.rmtree(repo, ignore_errors=True)
    full = out[0]
    for d in out:
        d["cost_ratio_vs_full"] = d["cost_usd"] / full["cost_usd"] if full["cost_usd"] else None
    return out


def bench_cache(quick):
    rr = cache_rereview()
    table("5a. Cache: a review and a re-review of the same unchanged diff (1,000 changed lines, "
          "2 models × 2 strategies, cache on, empty cache dir first)",
          ["run", "stand-in requests", "calls", "cached passes", "cost USD", "wall s"],
          [[r["run"], r["standin_requests"], r["calls"], r["cached_passes"], f"{r['cost_usd']:.6f}",
            f"{r['wall_s']:.2f}"] for r in rr])
    av = [d for case in eval_cases() for d in adaptive_vs_full(case)]
    prices = ", ".join(f"{i}/{o}" for i, o in EVAL_PRICES)
    table(f"5b. Adaptive vs full fan-out on the evaluation cases (model prices in/out per Mtok: {prices}; "
          "adaptive first wave = the cheapest model)",
          ["case", "mode", "calls", "cost USD", "cost / full", "findings kept", "f1", "votes right"],
          [[d["case"], d["mode"], d["calls"], f"{d['cost_usd']:.6f}",
            f"{d['cost_ratio_vs_full']:.2f}" if d["cost_ratio_vs_full"] is not None else "-",
            d["findings_kept"], d["f1"], f"{d['votes_right']}/{d['clusters']}"] for d in av]
          or [["(no cases found)"] + ["-"] * 7])
    return {"rereview": rr, "adaptive_vs_full": av, "eval_prices_per_mtok": EVAL_PRICES}


# --- 6. judge -----------------------------------------------------------------------------------

def build_merge_bench():
    out = os.path.join(REPO, "build", "bench", "merge-bench")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", *PKGS], capture_output=True,
                           text=True, check=True).stdout.split()
    subprocess.run(["cc", "-O2", "-g", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wshadow",
                    "-Werror", "-I" + os.path.join(REPO, "server"),
                    os.path.join(HERE, "merge_bench.c"),
                    os.path.join(REPO, "build", "rel", "libquorum.a"),
                    os.path.join(REPO, "build", "grammars", "libgrammars.a"), *flags, "-lm",
                    "-o", out], check=True)
    return out


def eval_scores():
    """Scores of the judge's evaluation cases, from tests/e2e/test_judge_dev on bin/quorum."""
    p = subprocess.run([os.path.join(REPO, "tests", "e2e", "test_judge_dev")], capture_output=True,
                       text=True, env=dict(ENV, QUORUM_BIN=BIN), timeout=300)
    scores = {}
    for line in p.stdout.splitlines():
        if line.startswith("score "):
            name, _, js = line[6:].partition(": ")
            scores[name] = json.loads(js)
    return scores


def bench_judge(quick):
    exe = build_merge_bench()
    rows, merge = [], []
    for n in JUDGE_SIZES[:4] if quick else JUDGE_SIZES:
        d = json.loads(subprocess.run([exe, str(n)], capture_output=True, text=True,
                                      timeout=600).stdout)
        merge.append(d)
        rows.append([n, d["files"], d["status"], f"{d['wall_ms']:.1f}" if d["status"] == "ok" else "-",
                     d["merged"] if d["status"] == "ok" else "-", d.get("error", "")])
    table("6a. Judge: consensus merge alone (bench/merge_bench.c; 3 passes report each problem "
          "in different words)", ["findings", "files", "status", "ms", "clusters", "note"], rows)
    scores = eval_scores()
    table("6b. Judge: score on the evaluation cases (score_review.py)",
          ["case", "f1", "precision", "recall", "votes right"],
          [[k, v.get("f1"), v.get("precision"), v.get("recall"),
            f"{v.get('votes_right')}/{v.get('clusters')}"] for k, v in scores.items()]
          or [["(no cases found)", "-", "-", "-", "-"]])
    return {"merge": merge, "eval": scores}


BENCHES = {"fanout": bench_fanout, "overhead": bench_overhead, "context": bench_context,
           "editor": bench_editor, "cache": bench_cache, "judge": bench_judge,
           "generated": bench_generated}


def latency_bench(fn):
    """A benchmark of latency.py: runs it on the release binaries and prints its table."""
    def run(quick):
        data, (title, header, rows) = fn(quick, BIN, run_measured)
        table(title, header, rows)
        return data
    return run


BENCHES.update({"progressive": latency_bench(latency.bench_progressive),
                "startup": latency_bench(latency.bench_startup),
                "fanout_targets": latency_bench(latency.bench_fanout_targets),
                "analyzer_cache": latency_bench(latency.bench_analyzer_cache)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("items", nargs="*", metavar="ITEM", help="benchmarks to run (default: all)")
    ap.add_argument("--only", default="", help="comma-separated benchmarks (as ITEM…)")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and sizes")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    args = ap.parse_args()
    names = args.items + [n for n in args.only.split(",") if n] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        sys.exit(f"bench: unknown benchmark {', '.join(unknown)} (known: {', '.join(BENCHES)})")
    for b in ("quorum", "quorum-ls"):
        if not os.access(os.path.join(BIN, b), os.X_OK):
            sys.exit(f"bench: {BIN}/{b} is missing; run `make all` first")
    t0 = time.monotonic()
    # A run of some benchmarks updates their entries and keeps the others' in results.json.
    partial = len(names) < len(BENCHES) and os.path.exists(args.out)
    results = json.load(open(args.out)) if partial else {}
    results.update({"machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname()[2:5])},
                    "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                             capture_output=True, text=True).stdout.strip()})
    for name in names:
        results[name] = BENCHES[name](args.quick)
    results["duration_s"] = round(time.monotonic() - t0, 1)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(f"\nbench: {results['duration_s']} s; results in {os.path.relpath(args.out, REPO)}, "
          "plots in bench/fanout.svg and bench/overhead.svg")


if __name__ == "__main__":
    main()
