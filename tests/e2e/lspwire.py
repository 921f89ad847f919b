"""A minimal LSP client over pipes for the robustness tests (test_hostile, test_kill,
tests/soak/run). Raw bytes can be written (hostile framing); messages are read by a thread
into a queue; EOF from the server is queued as None. Python 3 stdlib only.

    from lspwire import Server
    s = Server([quorum_bin("quorum-ls"), ...])
    s.call("initialize", {...}); s.notify("initialized", {})
"""
import json
import os
import queue
import subprocess
import threading
import time

WAIT = 60  # seconds for one awaited message under ASan; a bound, never an assertion


def frame(obj):
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Server:
    def __init__(self, cmd, env=None, cwd=None, stderr_path=None):
        full_env = dict(os.environ, **(env or {}))
        full_env.setdefault("STANDIN_KEY", "sk-standin-test")
        self.err = open(stderr_path or os.devnull, "wb")
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, env=full_env, cwd=cwd)
        self.q = queue.Queue()
        self.next_id = 0
        self.eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        f = self.p.stdout
        try:
            while True:
                n = None
                while True:
                    line = f.readline()
                    if not line:
                        raise EOFError
                    line = line.strip()
                    if not line:
                        break
                    k, _, v = line.partition(b":")
                    if k.lower() == b"content-length":
                        n = int(v)
                body = f.read(n)
                if len(body) < n:
                    raise EOFError
                self.q.put(json.loads(body))
        except (EOFError, ValueError, OSError):
            self.eof = True
            self.q.put(None)

    def write(self, data):
        """Raw bytes to the server; False when the pipe is closed."""
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def send(self, obj):
        return self.write(frame(obj))

    def notify(self, method, params):
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait(self, pred, timeout=WAIT):
        """The first message satisfying pred; None on timeout or EOF (see .eof)."""
        end = time.monotonic() + timeout
        while True:
            try:
                m = self.q.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                return None
            if m is None:
                self.q.put(None)  # EOF stays visible to later waits
                return None
            if "method" in m and "id" in m:  # a request to the client: answer null
                self.send({"jsonrpc": "2.0", "id": m["id"], "result": None})
            if pred(m):
                return m
            if time.monotonic() > end:
                return None

    def call(self, method, params, timeout=WAIT):
        i = self.request(method, params)
        return self.wait(lambda m: m.get("id") == i and "method" not in m, timeout)

    def initialize(self, root=None):
        r = self.call("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                                     "workspaceFolders": None})
        self.notify("initialized", {})
        return r

    def alive(self):
        return self.p.poll() is None

    def status(self, key):
        """A field of /proc/<pid>/status in kB (VmHWM, VmRSS), or None."""
        try:
            with open(f"/proc/{self.p.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def fds(self):
        try:
            return len(os.listdir(f"/proc/{self.p.pid}/fd"))
        except OSError:
            return None

    def close(self):
        """shutdown + exit; returns the exit code (killing the server if it does not exit)."""
        try:
            if self.alive():
                self.call("shutdown", None, timeout=20)
                self.notify("exit", None)
            self.p.wait(20)
        except Exception:
            self.p.kill()
            self.p.wait()
        self.err.close()
        return self.p.returncode
