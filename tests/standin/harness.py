"""Helpers for quorum's end-to-end tests (python3 stdlib only).

An e2e test puts this folder on sys.path and uses:
  StandIn(scenario)      the stand-in model server (server.py) as a context manager
  config(standin, ...)   a quorum config file whose providers point at that server
  git_repo(files, changed)  a throwaway git repo with uncommitted changes to review
  run(cmd, ...), quorum_bin(name)  running the built binaries
  Reporter               "ok NAME" / "FAIL NAME: detail" lines and the exit status

    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "standin"))
    from harness import StandIn, Reporter, config, git_repo, run, quorum_bin
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
SERVER = os.path.join(HERE, "server.py")
API_KEY_ENV = "STANDIN_KEY"  # the variable config() names; run() always sets it
START_TIMEOUT_S = 10

_temp_dirs = []


def _tempdir(prefix):
    """A temp dir removed when the test process exits."""
    path = tempfile.mkdtemp(prefix=prefix)
    _temp_dirs.append(path)
    return path


@atexit.register
def _cleanup():
    for path in _temp_dirs:
        shutil.rmtree(path, ignore_errors=True)


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


class StandIn:
    """Runs server.py with `scenario` (a dict, see README.md) for the duration of a `with`."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.proc = None
        self.port = None
        self.stderr = ""  # the server's stderr, filled in when it stops

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="standin-")
        path = os.path.join(self.dir, "scenario.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.scenario, f)
        self.log_path = os.path.join(self.dir, "requests.jsonl")
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        # stderr goes to a file: a pipe nobody drains could fill up and stall the server.
        with open(self.stderr_path, "w", encoding="utf-8") as err:
            self.proc = subprocess.Popen(
                [sys.executable, SERVER, "--scenario", path, "--port", "0",
                 "--log", self.log_path], stdout=subprocess.PIPE, stderr=err, text=True)
        self.port = self._read_port()
        base = f"http://127.0.0.1:{self.port}"
        self.base_url = base
        self.base_url_openai = base + "/v1"
        self.base_url_anthropic = base + "/v1"
        return self

    def _read_port(self):
        """The first stdout line, within START_TIMEOUT_S; the server's stderr on failure."""
        line = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        if not line or not line[0].strip().isdigit():
            self.__exit__(None, None, None)
            raise RuntimeError(f"stand-in did not start: {self.stderr.strip() or 'no port'}")
        return int(line[0])

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
        self.stderr = _read(self.stderr_path)  # kept for diagnostics after the dir is gone
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def requests(self):
        """Every API request so far (oldest first): dicts with seq, t_start, t_end, path,
        api, model, stream, headers, body, rule, fault. t_end is None while in flight."""
        return self._call("GET", "/_requests")

    def stats(self):
        """{"total", "max_inflight", "inflight"} over API requests since start or reset()."""
        return self._call("GET", "/_stats")

    def reset(self):
        """Clears the request log, the stats and the rules' `times` counters."""
        self._call("POST", "/_reset", {})

    def set_scenario(self, scenario):
        """Replaces the scenario (validated by the server) and resets like reset()."""
        self._call("POST", "/_scenario", scenario)


def config(standin, models=None, strategies=("correctness",), stream=False, judge=None,
           path=None, rules=False, tools=(), cache=False, **limits):
    """Writes a quorum config JSON pointing at `standin`; returns its path.

    models: alias -> "openai" | "anthropic", or a dict with "api" plus model fields to
    override (e.g. {"api": "openai", "price_in_per_mtok": 1}). The provider's model id is the
    alias, so scenario rules match on it. strategies: names (built-ins) or a dict
    name -> instructions (user strategies). One pass per model x strategy. judge: the
    "judge" object (default consensus). rules: enable the tree-sitter rule pack (off by
    default so that model-pipeline tests see only the stand-in's findings). tools: analyzer
    names to add as tool passes. cache: enable the pass cache (off by default so that every
    review reaches the stand-in). limits: keyword arguments for "limits"."""
    models = models or {"m1": "openai", "m2": "anthropic"}
    providers = {
        api: {"type": api, "base_url": getattr(standin, "base_url_" + api),
              "api_key_env": API_KEY_ENV, "headers": {}}
        for api in ("openai", "anthropic")}
    model_objs = {}
    for alias, spec in models.items():
        spec = {"api": spec} if isinstance(spec, str) else dict(spec)
        model_objs[alias] = {"provider": spec.pop("api"), "model": alias,
                             "price_in_per_mtok": 0.3, "price_out_per_mtok": 1.2,
                             "max_output_tokens": 4096, "temperature": 0.2, "stream": stream}
        model_objs[alias].update(spec)
    cfg = {"providers": providers, "models": model_objs,
           "passes": [{"model": m, "strategy": s} for m in models for s in strategies],
           "judge": judge or {"mode": "consensus"},
           "rules": {"enabled": bool(rules)},
           "cache": {"enabled": bool(cache)}}
    cfg["passes"] += [{"tool": t} for t in tools]
    if isinstance(strategies, dict):
        cfg["strategies"] = {name: {"instructions": text} for name, text in strategies.items()}
    if limits:
        cfg["limits"] = limits
    path = path or os.path.join(_tempdir("quorum-config-"), "config.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
    return path


def _write(root, files):
    for name, content in files.items():
        full = os.path.join(root, name)
        if content is None:
            if os.path.exists(full):
                os.remove(full)
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(full, mode) as f:
            f.write(content)


def git_repo(files, changed):
    """A temp git repo with `files` committed and `changed` written on top, uncommitted
    (content None deletes), so `git diff HEAD` shows the change. Returns its path."""
    root = _tempdir("quorum-repo-")
    _write(root, files)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    for cmd in (["git", "-c", "init.defaultBranch=main", "init", "-q"],
                ["git", "config", "user.email", "tests@quorum.invalid"],
                ["git", "config", "user.name", "quorum tests"],
                ["git", "config", "commit.gpgsign", "false"],
                ["git", "add", "-A"],
                ["git", "commit", "-q", "--allow-empty", "-m", "base"]):
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
    _write(root, changed)
    return root


def quorum_bin(name):
    """Path of a built binary: $QUORUM_BIN/name, default build/asan/bin under the repo."""
    return os.path.join(os.environ.get("QUORUM_BIN", os.path.join(REPO_ROOT, "build/asan/bin")),
                        name)


def run(cmd, input=None, timeout=120, env=None, cwd=None):
    """Runs cmd; returns (rc, stdout, stderr) as text. `env` adds to the inherited
    environment (STANDIN_KEY is set by default). A timeout kills the process and returns
    rc -1 with a note at the end of stderr."""
    full_env = dict(os.environ)
    full_env.setdefault(API_KEY_ENV, "sk-standin-test")
    full_env.update(env or {})
    if isinstance(input, bytes):
        input = input.decode()
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                           env=full_env, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        return -1, out, err + f"\nharness: timed out after {timeout}s\n"
    return p.returncode, p.stdout, p.stderr


class Reporter:
    """Prints one line per check in the format tests/run.sh counts."""

    def __init__(self):
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            print(f"ok {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)
        return bool(cond)

    def finish(self):
        sys.exit(1 if self.failed else 0)
