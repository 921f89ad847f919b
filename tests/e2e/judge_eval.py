#!/usr/bin/env python3
"""The judge's labelled evaluation cases, end to end, and `make eval`'s table.

A case is any folder under the evaluation directory ($QR_EVAL_DIR, default ../shared/eval beside
the repository), at any depth, holding passes.json + expected.json + repo/. Its passes are served
by the stand-in model server (matched by model name and strategy instructions), `quorum review
--format json` runs on a real git diff of the case's repo (the built-in rule pass off, so the
votes count model passes), and the evaluation's own score_review.py scores it.

Run as a program it prints F1, precision, recall and exact votes per case and in total, with the
misses and extras named; with no evaluation directory it says so and exits 0."""
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "standin"))
from harness import StandIn, config, git_repo, quorum_bin, run  # noqa: E402

EVAL = os.environ.get("QR_EVAL_DIR", os.path.join(HERE, "..", "..", "..", "shared", "eval"))


def cases(root=EVAL):
    """Every case folder under root, as (name relative to root, path), sorted."""
    found = glob.glob(os.path.join(root, "**", "expected.json"), recursive=True)
    paths = sorted(os.path.dirname(p) for p in found
                   if os.path.isfile(os.path.join(os.path.dirname(p), "passes.json")))
    return [(os.path.relpath(p, root), p) for p in paths]


def read_tree(root):
    files = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            with open(p, encoding="utf-8") as f:
                files[os.path.relpath(p, root)] = f.read()
    return files


def review(case, judge=None, answer=None, extra_args=()):
    """Runs the case's review; returns (rc, stdout, stderr, stand-in requests). `judge` is the
    config's judge object; `answer(requests_so_far)`, if given, is a stand-in rule for the judge
    model (see tests/standin/server.py)."""
    passes = json.load(open(os.path.join(case, "passes.json")))["passes"]
    expected = json.load(open(os.path.join(case, "expected.json")))
    after = read_tree(os.path.join(case, "repo"))
    # The base keeps the first base_lines lines of each file; the rest is the change.
    base = {}
    for path, n in expected.get("base_lines", {}).items():
        if n:
            base[path] = "".join(after[path].splitlines(True)[:n])
    strategies = {s: f"STRATEGY-{s.upper()}: review the change for {s} problems."
                  for s in dict.fromkeys(p["strategy"] for p in passes)}
    models = {m: ("anthropic" if i % 2 else "openai")
              for i, m in enumerate(dict.fromkeys(p["model"] for p in passes))}
    rules = [{"match": {"model": p["model"], "prompt_contains": strategies[p["strategy"]]},
              "findings": p["findings"]} for p in passes]
    if answer:
        rules.insert(0, answer)
        models["judge-model"] = "anthropic"
    root = git_repo(base, after)
    with StandIn({"rules": rules}) as s:
        cfg = config(s, models=models, strategies=strategies, judge=judge)
        if answer:  # the judge model is not a panel member
            with open(cfg) as f:
                c = json.load(f)
            c["passes"] = [p for p in c["passes"] if p.get("model") != "judge-model"]
            with open(cfg, "w") as f:
                json.dump(c, f)
        rc, out, err = run([quorum_bin("quorum"), "review", "--config", cfg, "--format", "json",
                            *extra_args], cwd=root)
        reqs = s.requests()
    return rc, out, err, reqs


def score(case, out):
    """score_review.py's verdict on a review's JSON output."""
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"quorum-eval-{os.getpid()}.json")
    with open(path, "w") as f:
        f.write(out)
    try:
        res = subprocess.run([sys.executable, os.path.join(EVAL, "score_review.py"), path,
                              os.path.join(case, "expected.json")],
                             capture_output=True, text=True, check=True)
    finally:
        os.unlink(path)
    return json.loads(res.stdout)


def run_case(case):
    """(score, None) or (None, error text)."""
    rc, out, err, _ = review(case)
    if rc != 0:
        return None, f"rc={rc} {err[-1500:]}"
    return score(case, out), None


def correct_verdicts(case, findings):
    """The verdicts a correct judge gives the consensus `findings` (ids cN in their order): keep
    each finding that is the first to match a labelled problem (score_review.py's rule), same_as
    that first one for a later finding of the same problem, reject the rest."""
    exp = json.load(open(os.path.join(case, "expected.json")))["clusters"]
    first, verdicts = {}, []
    for n, f in enumerate(findings, 1):
        msg = (f.get("message") or "").lower()
        hit = next((x["id"] for x in exp if f["file"] == x["file"]
                    and f["start_line"] <= x["lines"][1] + 1 and f["end_line"] >= x["lines"][0] - 1
                    and any(k in msg for k in x["any"])), None)
        v = {"id": f"c{n}", "keep": hit is not None, "severity": None, "message": None,
             "same_as": None, "reason": "a labelled problem" if hit else "not a labelled problem"}
        if hit in first:
            v["same_as"] = first[hit]
        elif hit:
            first[hit] = f"c{n}"
        verdicts.append(v)
    return {"verdicts": verdicts}


def run_case_judged(case):
    """The case with judge.mode "model", the stand-in answering as a correct judge would:
    (score, number of same_as given) or (None, error text)."""
    rc, out, err, _ = review(case)
    if rc != 0:
        return None, f"rc={rc} {err[-1500:]}"
    answer = correct_verdicts(case, json.loads(out)["findings"])
    rule = {"match": {"model": "judge-model"}, "answer": answer}
    rc, out, err, _ = review(case, judge={"mode": "model", "model": "judge-model"}, answer=rule)
    if rc != 0:
        return None, f"rc={rc} {err[-1500:]}"
    res = json.loads(out)
    if res.get("degraded"):
        return None, "judge degraded: " + json.dumps(res.get("errors"))
    s = score(case, out)
    s["same_as"] = sum(1 for v in answer["verdicts"] if v["same_as"])
    return s, None


def perfect(s):
    return s["f1"] == 1.0 and s["votes_right"] == s["clusters"]


def table(results):
    """The text table of [(name, score or None, error)]."""
    rows = [("case", "F1", "prec", "recall", "votes", "misses / extras")]
    tot = {"matched": 0, "clusters": 0, "findings": 0, "votes_right": 0}
    for name, s, err in results:
        if s is None:
            rows.append((name, "-", "-", "-", "-", "review failed: " + err.splitlines()[-1:][0][:80]
                         if err.strip() else "review failed"))
            continue
        for k in tot:
            tot[k] += s[k]
        notes = [f"miss {m}" for m in s["missed"]]
        notes += [f"extra {f}:{line} \"{msg}\"" for f, line, msg in s["extras"]]
        rows.append((name, f"{s['f1']:.3f}", f"{s['precision']:.3f}", f"{s['recall']:.3f}",
                     f"{s['votes_right']}/{s['matched']}", "; ".join(notes) or "-"))
    p = tot["matched"] / tot["findings"] if tot["findings"] else 0.0
    r = tot["matched"] / tot["clusters"] if tot["clusters"] else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    rows.append(("total", f"{f1:.3f}", f"{p:.3f}", f"{r:.3f}",
                 f"{tot['votes_right']}/{tot['matched']}", f"{tot['clusters']} problems"))
    width = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row[:5], width)) + "  " + row[5]
                     for row in rows)


def main():
    found = cases()
    if not found:
        print(f"note: no evaluation cases under {os.path.normpath(EVAL)}; nothing scored "
              "(set QR_EVAL_DIR to a folder of cases)")
        return 0
    results, judged = [], []
    for name, path in found:
        results.append((name, *run_case(path)))
        judged.append((name, *run_case_judged(path)))
    print("consensus merge (judge.mode \"consensus\"):")
    print(table(results))
    print("\nmodel judge (judge.mode \"model\"), the stand-in answering as a correct judge "
          "(keep the labelled problems, same_as for a second finding of one):")
    print(table(judged))
    print("same_as given: " + ", ".join(f"{n} {s['same_as']}" for n, s, _ in judged if s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
