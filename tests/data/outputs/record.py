#!/usr/bin/env python3
"""Re-records review/result.json and review/diff.patch from a real CLI run against the stand-in
model server (run from the repository root after building build/asan/bin/quorum), then
regenerate the expected files: QR_UPDATE_GOLDEN=1 build/asan/bin/unit-tests output_golden."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "standin"))
from harness import StandIn, config, git_repo, quorum_bin, run  # noqa: E402

BASE = {"src/join.c": "#include <stdlib.h>\n#include <string.h>\n\n/* names */\n\n\nchar *dup_name(const char *s) {\n"
                      "  return strdup(s);\n}\n",
        "tools/run.py": "import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd, check=True)\n",
        "docs/old.md": "old\n"}
CHANGED = {"src/join.c": BASE["src/join.c"] + "\nchar *join(const char *a, const char *b) {\n"
                         "  char *out = malloc(strlen(a) + strlen(b));\n  strcpy(out, a);\n"
                         "  strcat(out, b);\n  return out;\n}\n",
           "tools/run.py": BASE["tools/run.py"] + "\n\ndef run_user(name):\n"
                           "    return subprocess.run(\"echo \" + name, shell=True)\n",
           "docs/old.md": None}
SIZE = {"file": "src/join.c", "start_line": 12, "end_line": 12, "severity": "error", "category": "correctness",
        "message": "The allocation is one byte too small for the NUL terminator written by strcat.",
        "fix": {"start_line": 12, "end_line": 12, "replacement": "  char *out = malloc(strlen(a) + strlen(b) + 1);"}}
OUTSIDE = {"file": "src/join.c", "start_line": 1, "end_line": 1, "severity": "info", "category": "maintainability",
           "message": "stdlib.h is included for malloc only; keep includes minimal."}
INJECT = {"file": "tools/run.py", "start_line": 9, "end_line": 9, "severity": "error", "category": "security",
          "message": "Command injection: name is concatenated into a shell command run with shell=True."}
EXTRA = {"file": "src/join.c", "start_line": 13, "end_line": 14, "severity": "warning", "category": "correctness",
         "message": "The result of malloc is not checked for NULL before strcpy writes to it."}
HINT = {"file": "tools/run.py", "start_line": 8, "end_line": 8, "severity": "hint", "category": "style",
        "message": "run_user could use a docstring saying that `name` must be trusted."}
FENCE = {"file": "tools/run.py", "start_line": 9, "end_line": 9, "severity": "warning", "category": "security",
         "message": "Pass the arguments as a list instead of a shell string.",
         "fix": {"start_line": 9, "end_line": 9, "replacement": "    return subprocess.run([\"echo\", name])  # ```not a fence```"}}
RULES = [{"match": {"model": "m1"}, "findings": [SIZE, OUTSIDE, INJECT, EXTRA, HINT, FENCE]},
         {"match": {"model": "m2"}, "findings": [SIZE, INJECT]}]

root = git_repo(BASE, CHANGED)
subprocess.run(["git", "add", "-A"], cwd=root, check=True)
with StandIn({"rules": RULES}) as s:
    cfg = config(s, models={"m1": "openai", "m2": "anthropic"})
    rc, out, err = run([quorum_bin("quorum"), "review", "--config", cfg, "--staged", "--context",
                        "--format", "json"], cwd=root)
if rc != 0:
    sys.exit(f"review failed ({rc}): {err}")
diff = subprocess.run(["git", "diff", "--cached"], cwd=root, capture_output=True, text=True, check=True).stdout
with open(os.path.join(HERE, "review", "result.json"), "w") as f:
    f.write(out)
with open(os.path.join(HERE, "review", "diff.patch"), "w") as f:
    f.write(diff)
