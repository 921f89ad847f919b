"""latency.py — the benchmarks of "what is known early is shown early" (run by run.py):

  progressive     didSave → first and final publishDiagnostics in quorum-ls, models of 1 s and 4 s
  startup         whole-process `quorum review` per language: without a change, with a one-file
                  change (rule pack only, no model: what start-up costs)
  fanout_targets  6 and 16 passes of 500 ms each: whole-process wall ÷ 500 ms (target ≤ 1.10)
  analyzer_cache  shellcheck and cppcheck over a large file: first review (miss) vs re-review (hit)

Each takes `measure(cmd, cwd, env) -> (rc, wall_s, cpu_s, ...)` (run.py's run_measured) and
returns (figures for results.json, (title, header, rows) of its table); none asserts a timing."""
import json
import os
import statistics
import subprocess
import tempfile
import time

from harness import StandIn, config, git_repo

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRESSIVE_MS = (1000, 4000)
FANOUT_LATENCY_MS = 500
FANOUT_TARGETS = (6, 16)

BUFFER_BASE = "#include <stdlib.h>\n\nint grow(char **p, size_t n) {\n  return 0;\n}\n"
BUFFER = ("#include <stdlib.h>\n\nint grow(char **p, size_t n) {\n  *p = realloc(*p, n);\n"
          "  char *q = malloc(n);\n  q[0] = 0;\n  return 0;\n}\n")
F_MODEL = {"file": "src/buffer.c", "start_line": 5, "end_line": 6, "severity": "error",
           "category": "correctness", "evidence": "q[0] = 0;",
           "message": "malloc's result is used without a NULL check; q[0] crashes when it fails."}

# One changed file per language the rule pack knows: path, committed text, changed text.
LANGS = {
    "c": ("a.c", "int f(void) {\n  return 0;\n}\n", "int f(void) {\n  char b[8];\n  gets(b);\n  return 0;\n}\n"),
    "cpp": ("a.cpp", "int f() {\n  return 0;\n}\n", "int f() {\n  int *p = new int[4];\n  delete p;\n  return 0;\n}\n"),
    "python": ("a.py", "def f():\n    return 0\n", "import os\n\ndef f(x):\n    os.system(x)\n    return 0\n"),
    "go": ("a.go", "package a\n\nfunc F() int {\n\treturn 0\n}\n", "package a\n\nimport \"os\"\n\nfunc F() int {\n\tf, _ := os.Open(\"x\")\n\t_ = f\n\treturn 0\n}\n"),
    "java": ("A.java", "class A {\n  int f() { return 0; }\n}\n", "class A {\n  int f(String s) { if (s == \"x\") return 1; return 0; }\n}\n"),
    "javascript": ("a.js", "function f() {\n  return 0;\n}\n", "function f(x) {\n  return eval(x);\n}\n"),
    "typescript": ("a.ts", "export function f(): number {\n  return 0;\n}\n", "export function f(x: any): number {\n  return eval(x);\n}\n"),
    "rust": ("a.rs", "fn f() -> i32 {\n    0\n}\n", "fn f(v: Option<i32>) -> i32 {\n    v.unwrap()\n}\n"),
    "ruby": ("a.rb", "def f\n  0\nend\n", "def f(x)\n  eval(x)\nend\n"),
    "bash": ("a.sh", "#!/bin/bash\necho hi\n", "#!/bin/bash\necho hi\nrm -rf $DIR/build\n"),
}


def _ms(s):
    return f"{s * 1000:.0f}"


# --- progressive diagnostics in the editor --------------------------------------------------------

def _editor_round(bin_dir, standin, latency_ms):
    """One didSave: seconds to the first publication with a diagnostic and to the final one."""
    from lspwire import Server
    standin.set_scenario({"rules": [], "default": {"findings": [F_MODEL], "latency_ms": latency_ms}})
    root = os.path.realpath(git_repo({"src/buffer.c": BUFFER_BASE}, {"src/buffer.c": BUFFER}))
    uri = "file://" + os.path.join(root, "src/buffer.c")
    cfg = config(standin, models={"m1": "openai", "m2": "anthropic", "m3": "openai"}, rules=True)
    s = Server([os.path.join(bin_dir, "quorum-ls")],
               env={"XDG_CACHE_HOME": os.path.join(root, ".cache"),
                    "XDG_STATE_HOME": os.path.join(root, ".state")})
    s.call("initialize", {"processId": None, "rootUri": "file://" + root, "capabilities": {},
                          "initializationOptions": {"configFile": cfg, "debounceMs": 0}})
    s.notify("initialized", {})
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "c", "version": 1,
                                                       "text": BUFFER}})
    t0 = time.monotonic()
    s.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    first = final = None
    first_provisional = False
    while final is None:
        m = s.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics", timeout=60)
        if m is None:
            break
        diags = m["params"]["diagnostics"]
        if not diags:
            continue
        t = time.monotonic() - t0
        provisional = any(d.get("data", {}).get("provisional") for d in diags)
        if first is None:
            first, first_provisional = t, provisional
        if not provisional:
            final = t
    s.close()
    return first, final, first_provisional


def bench_progressive(quick, bin_dir, measure):
    rounds = 1 if quick else 3
    rows, data = [], []
    with StandIn({"rules": [], "default": {"findings": []}}) as standin:
        for ms in PROGRESSIVE_MS:
            samples = [_editor_round(bin_dir, standin, ms) for _ in range(rounds)]
            ok = [x for x in samples if x[0] is not None and x[1] is not None]
            first = statistics.median(x[0] for x in ok) if ok else None
            final = statistics.median(x[1] for x in ok) if ok else None
            d = {"model_latency_ms": ms, "rounds": len(ok), "first_s": first, "final_s": final,
                 "first_provisional": all(x[2] for x in ok) if ok else None,
                 "target_first_s": 1.0, "meets_target": first is not None and first <= 1.0}
            data.append(d)
            rows.append([ms, len(ok), _ms(first) if first else "-", _ms(final) if final else "-",
                         "yes" if d["first_provisional"] else "no",
                         "yes" if d["meets_target"] else "MISSED"])
    return data, ("7a. Editor: didSave → first and final diagnostics (quorum-ls, debounce 0, rule "
                  "pack + 3 model passes answering after L ms; median)",
                    ["L ms", "rounds", "first ms", "final ms", "first provisional", "first ≤ 1 s?"],
                  rows)


# --- CLI start-up ---------------------------------------------------------------------------------

def bench_startup(quick, bin_dir, measure):
    reps = 3 if quick else 7
    scratch = tempfile.mkdtemp(prefix="bench-startup-")
    cfg = os.path.join(scratch, "config.json")
    with open(cfg, "w") as f:  # the rule pack alone: no model, no analyzer, no cache
        json.dump({"passes": [], "rules": {"enabled": True}, "cache": {"enabled": False}}, f)
    env = {"XDG_STATE_HOME": os.path.join(scratch, "state")}
    rows, data = [], []
    for lang, (path, old, new) in LANGS.items():
        repo = git_repo({path: old}, {path: new})
        clean = git_repo({path: old}, {})
        cmd = [os.path.join(bin_dir, "quorum"), "review", "--config", cfg, "--format", "json"]
        empty = [measure(cmd, clean, env) for _ in range(reps)]
        change = [measure(cmd, repo, env) for _ in range(reps)]
        d = {"language": lang,
             "no_change_wall_s": statistics.median(x[1] for x in empty),
             "no_change_cpu_s": statistics.median(x[2] for x in empty),
             "change_wall_s": statistics.median(x[1] for x in change),
             "change_cpu_s": statistics.median(x[2] for x in change),
             "exit_codes": sorted({x[0] for x in empty + change})}
        d["meets_target"] = d["change_wall_s"] < 0.100
        data.append(d)
        rows.append([lang, _ms(d["no_change_wall_s"]), _ms(d["no_change_cpu_s"]),
                     _ms(d["change_wall_s"]), _ms(d["change_cpu_s"]),
                     "yes" if d["meets_target"] else "MISSED"])
    return data, (f"7b. CLI start-up: whole `quorum review` (rule pack only, git included; "
                  f"median of {reps})", ["language", "no change wall ms", "cpu ms",
                                         "one-file change wall ms", "cpu ms", "< 100 ms?"], rows)


# --- fan-out at the targets ---------------------------------------------------------------

def bench_fanout_targets(quick, bin_dir, measure):
    reps = 3 if quick else 5
    repo = git_repo({"src/app.py": "def f(x):\n    return x\n"},
                    {"src/app.py": "def f(x):\n    return x + 1\n"})
    rows, data = [], []
    with StandIn({"rules": [], "default": {"findings": [], "latency_ms": FANOUT_LATENCY_MS}}) as s:
        for n in FANOUT_TARGETS:
            cfg = config(s, models={f"m{i}": "openai" for i in range(1, n + 1)}, concurrency=n)
            cmd = [os.path.join(bin_dir, "quorum"), "review", "--config", cfg, "--format", "json"]
            walls = [measure(cmd, repo)[1] for _ in range(reps)]
            wall = statistics.median(walls)
            ratio = wall / (FANOUT_LATENCY_MS / 1000)
            d = {"passes": n, "latency_ms": FANOUT_LATENCY_MS, "wall_s": wall, "ratio": ratio,
                 "min_ratio": min(walls) / (FANOUT_LATENCY_MS / 1000), "target_ratio": 1.10,
                 "meets_target": ratio <= 1.10}
            data.append(d)
            rows.append([n, _ms(wall), f"{ratio:.2f}", f"{d['min_ratio']:.2f}",
                         "yes" if d["meets_target"] else "MISSED"])
    return data, (f"7c. Fan-out: N passes × {FANOUT_LATENCY_MS} ms, whole process "
                  f"(ratio = wall ÷ {FANOUT_LATENCY_MS} ms; median of {reps})",
                  ["N", "wall ms", "ratio", "best ratio", "≤ 1.10?"], rows)


# --- analyzer cache -------------------------------------------------------------------------------

def _tool_cached(stdout, tool):
    """Whether the result (JSON text) lists the tool's pass as answered from the cache."""
    try:
        passes = json.loads(stdout).get("passes", [])
    except ValueError:
        return False
    return any(p.get("model") == "tool:" + tool and p.get("cached") for p in passes)


def bench_analyzer_cache(quick, bin_dir, measure):
    big_sh = "#!/bin/bash\n" + "".join(f"f{i}() {{\n  echo $1 {i}\n  rm -rf $DIR/{i}\n}}\n"
                                         for i in range(1500))
    big_c = "#include <string.h>\n" + "".join(
        f"int f{i}(char *s) {{\n  char b[8];\n  strcpy(b, s);\n  return b[{i % 9}];\n}}\n"
        for i in range(600))
    rows, data = [], []
    for tool, path, text in (("shellcheck", "tools/run.sh", big_sh), ("cppcheck", "src/big.c", big_c)):
        scratch = tempfile.mkdtemp(prefix="bench-acache-")
        cfg = os.path.join(scratch, "config.json")
        with open(cfg, "w") as f:
            json.dump({"passes": [{"tool": tool}], "rules": {"enabled": False},
                       "cache": {"enabled": True}}, f)
        repo = git_repo({path: "\n"}, {path: text})
        e = {"XDG_CACHE_HOME": os.path.join(scratch, "cache"),
             "XDG_STATE_HOME": os.path.join(scratch, "state")}
        cmd = [os.path.join(bin_dir, "quorum"), "review", "--config", cfg, "--format", "json"]
        miss = measure(cmd, repo, e)
        hits = [measure(cmd, repo, e) for _ in range(1 if quick else 3)]
        d = {"tool": tool, "lines": text.count("\n"), "miss_wall_s": miss[1], "miss_cpu_s": miss[2],
             "hit_wall_s": statistics.median(x[1] for x in hits),
             "hit_cpu_s": statistics.median(x[2] for x in hits),
             "hit_cached": all(_tool_cached(x[4], tool) for x in hits)}
        data.append(d)
        rows.append([tool, d["lines"], _ms(d["miss_wall_s"]), _ms(d["hit_wall_s"]),
                     f"{d['miss_wall_s'] / max(d['hit_wall_s'], 1e-6):.0f}×",
                     "yes" if d["hit_cached"] else "NO"])
    return data, ("7d. Analyzer cache: first review (miss) vs re-review of unchanged content (hit), "
                  "whole process", ["tool", "lines", "miss ms", "hit ms", "speed-up", "hit cached"],
                  rows)
