#!/usr/bin/env python3
"""Captures Neovim with quorum diagnostics for the docs (run by docs/capture/run.sh).

Starts the stand-in model server (tests/standin) with three "models" that report what models
say about src/buffer.c of the bundled demo (examples/demo): realloc assigned back to its own
pointer, and an unbounded strcat into a 32-byte buffer. The config adds the tree-sitter rule
pack and cppcheck, so models, rules and analyzer vote together. A temp git repository holds
the demo before its change (committed) and after it (uncommitted). Neovim runs in a detached
tmux session with docs/capture/nvim_init.lua, which saves the file, waits for the diagnostics
and opens the float; then the pane is captured with its colours to stdout.

    python3 docs/capture/nvim_scene.py QUORUM_LS > capture.txt

Offline: everything talks over loopback. Exits non-zero when the scene did not come up."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "standin"))
from harness import API_KEY_ENV, StandIn, config  # noqa: E402

DEMO = os.path.join(ROOT, "examples", "demo")
FILE = "src/buffer.c"
COLS, ROWS = 120, 36
TIMEOUT_S = 90  # the init script gives up after 60 s; this bounds the whole scene
MODELS = ("gemini-flash", "gpt-mini", "llama-70b")


def finding(line, severity, category, message, evidence):
    return {"file": FILE, "start_line": line, "end_line": line, "severity": severity,
            "category": category, "message": message, "evidence": evidence}


REALLOC = "b->data = realloc(b->data, b->cap);"
STRCAT = "strcat(line, name);"
# What each model answers: the same two problems in each model's own words (llama misses one).
ANSWERS = {
    "gemini-flash": [
        finding(19, "warning", "correctness",
                "If realloc fails it returns NULL and the original block is leaked, since "
                "b->data is overwritten; keep the result in a temporary until it is checked.",
                REALLOC),
        finding(30, "error", "security",
                "strcat appends a caller-controlled name to a 32-byte stack buffer without "
                "any bound: names longer than 24 bytes overflow `line`.", STRCAT)],
    "gpt-mini": [
        finding(19, "warning", "correctness",
                "realloc's result is assigned straight back to b->data; on failure the old "
                "buffer leaks and the following memcpy writes through NULL.", REALLOC),
        finding(30, "error", "security",
                "Stack buffer overflow: `line` holds 32 bytes but strcat copies the whole "
                "name after \"hello, \"; use snprintf(line, sizeof line, ...).", STRCAT)],
    "llama-70b": [
        finding(19, "warning", "correctness",
                "Memory leak when realloc returns NULL: the pointer to the old allocation is "
                "lost.", REALLOC)],
}


def demo_repo():
    """A git repo with the demo before its change committed and after it uncommitted."""
    root = tempfile.mkdtemp(prefix="quorum-capture-repo-")
    shutil.copytree(os.path.join(DEMO, "repo"), root, dirs_exist_ok=True)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)

    def git(*args):
        subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)

    git("-c", "init.defaultBranch=main", "init", "-q")
    git("config", "user.email", "demo@quorum.invalid")
    git("config", "user.name", "quorum demo")
    git("apply", "-R", os.path.join(DEMO, "change.patch"))  # back to the version before
    git("add", "-A")
    git("commit", "-q", "-m", "before the change")
    git("apply", os.path.join(DEMO, "change.patch"))
    return root


def scenario():
    rules = [{"match": {"model": m}, "findings": f, "latency_ms": 400 + 300 * i,
              "usage": {"input_tokens": 1800, "output_tokens": 160}}
             for i, (m, f) in enumerate(ANSWERS.items())]
    return {"rules": rules, "default": {"findings": []}}


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, *args], check=True, capture_output=True,
                          text=True).stdout


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: nvim_scene.py QUORUM_LS")
    quorum_ls = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="quorum-capture-")
    repo = demo_repo()
    sock = f"quorum-capture-{os.getpid()}"
    ready = os.path.join(work, "ready")
    try:
        with StandIn(scenario()) as standin:
            cfg = config(standin, models={m: "openai" for m in MODELS}, rules=True,
                         tools=("cppcheck",), path=os.path.join(work, "config.json"))
            env = {"HOME": work, "XDG_CONFIG_HOME": work, "XDG_DATA_HOME": work,
                   "XDG_STATE_HOME": work, "XDG_CACHE_HOME": work, API_KEY_ENV: "sk-standin",
                   "QUORUM_NVIM": os.path.join(ROOT, "clients", "nvim"), "QUORUM_LS": quorum_ls,
                   "QUORUM_CONFIG_FILE": cfg, "CAPTURE_READY": ready}
            cmd = ["tmux", "-L", sock, "-f", os.devnull, "new-session", "-d", "-x", str(COLS),
                   "-y", str(ROWS), "-c", repo]
            for k, v in env.items():
                cmd += ["-e", f"{k}={v}"]
            cmd += ["env", "TERM=tmux-256color", "nvim", "-i", "NONE", "-u",
                    os.path.join(HERE, "nvim_init.lua"), FILE]
            subprocess.run(cmd, check=True)
            tmux(sock, "set-option", "-g", "status", "off")
            deadline = time.monotonic() + TIMEOUT_S
            while not os.path.exists(ready) and time.monotonic() < deadline:
                time.sleep(0.2)
            state = "no answer"
            if os.path.exists(ready):
                with open(ready, encoding="utf-8") as f:
                    state = f.read()
            if state != "ready":
                sys.exit(f"nvim_scene: the scene did not come up: {state}\n"
                         + tmux(sock, "capture-pane", "-p"))
            time.sleep(0.5)  # let the terminal show the last redraw
            sys.stdout.write(tmux(sock, "capture-pane", "-e", "-p"))
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(repo, ignore_errors=True)


if __name__ == "__main__":
    main()
