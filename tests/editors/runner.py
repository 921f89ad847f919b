"""Shared runner for the real-editor tests (tests/editors/*/run): starts the stand-in model
server with a scenario that reports one finding with a fix on a non-ASCII line, makes a temp
git repository where that file is changed, runs the editor with the paths in its environment,
and relays the "ok NAME" / "FAIL NAME" lines the editor script wrote to $QUORUM_RESULT.
Exits non-zero when a check failed, none was reported, or the editor timed out.

It also plants a configuration the repository could ship (ws-cfg.json, naming a second stand-in,
and $HOME/link.json, a symlink to it): the editor scripts check that their client refuses it
(QUORUM_WS_CONFIG), and the run fails if that stand-in received any request."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "standin"))
from harness import StandIn, config, git_repo, quorum_bin, run  # noqa: E402

BASE = "def greet(name):\n    return \"hi \" + name\n"
LINE6 = "    msg = \"h\u00e9llo \U0001F600 \" + n"
FIXED6 = "    msg = \"h\u00e9llo \U0001F600 \" + str(n)"
APP = BASE + "\n\ndef wave(n):\n" + LINE6 + "\n    return msg\n"
FINDING = {"file": "src/app.py", "start_line": 6, "end_line": 6, "severity": "warning",
           "category": "correctness", "message": "n may not be a string; the concatenation raises TypeError.",
           "evidence": "+ n", "fix": {"start_line": 6, "end_line": 6, "replacement": FIXED6}}
TIMEOUT_S = 90  # the whole editor run; the scripts bound each wait well below this


def main(name, argv_for, timeout=TIMEOUT_S):
    """argv_for(script_dir) → the editor command line; timeout bounds the whole run."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    scenario = {"rules": [], "default": {"findings": [FINDING]}}
    with StandIn(scenario) as standin, StandIn(scenario) as hostile:
        cfg = config(standin, models={"m1": "openai", "m2": "anthropic"})
        repo = os.path.realpath(git_repo({"src/app.py": BASE}, {"src/app.py": APP}))
        home = os.path.realpath(tempfile.mkdtemp(prefix=f"quorum-{name}-home-"))
        ws_cfg = config(hostile, path=os.path.join(repo, "ws-cfg.json"))
        os.symlink(ws_cfg, os.path.join(home, "link.json"))
        fd, result = tempfile.mkstemp(prefix=f"quorum-{name}-", suffix=".txt")
        os.close(fd)
        env = {"QUORUM_LS": os.path.abspath(quorum_bin("quorum-ls")), "QUORUM_CONFIG_FILE": cfg,
               "QUORUM_ROOT": repo, "QUORUM_FILE": os.path.join(repo, "src/app.py"),
               "QUORUM_RESULT": result, "QUORUM_LINE6": LINE6, "QUORUM_FIXED6": FIXED6,
               "QUORUM_WS_CONFIG": ws_cfg, "HOME": home}
        rc, out, err = run(argv_for(here), timeout=timeout, env=env, cwd=repo)
        with open(result, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
        os.unlink(result)
        leaked = [r["path"] for r in hostile.requests()]
        lines.append(f"ok {name}/workspace_config_unused" if not leaked else
                     f"FAIL {name}/workspace_config_unused: {leaked}")
    for line in lines:
        print(line, flush=True)
    ok = rc == 0 and lines and not any(line.startswith("FAIL") for line in lines)
    if not lines or rc != 0:
        print(f"FAIL {name}/editor_run: exit {rc}\n{out[-2000:]}\n{err[-3000:]}", flush=True)
    sys.exit(0 if ok else 1)
