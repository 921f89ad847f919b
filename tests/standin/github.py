#!/usr/bin/env python3
"""A stand-in for the GitHub REST API on loopback, for the pull-request bot's tests (stdlib only).

    python3 tests/standin/github.py --scenario FILE [--port 0]

prints the bound port on stdout, then serves what `quorum pr` uses, the way GitHub does:
  GET   /user                              the token's account ({"login"}; "user_status" overrides)
  GET   /repos/O/R/pulls/N                 the PR (Accept: ...diff -> the unified diff)
  GET   /repos/O/R/pulls/N/files           paginated (per_page, page; an absolute Link header
                                           with rel="next" and rel="last", as GitHub sends)
  GET   /repos/O/R/contents/PATH?ref=SHA   raw with Accept: application/vnd.github.raw, else base64 JSON
  GET   /repos/O/R/pulls/N/reviews, POST (comments validated: 422 off the diff's right side)
  GET   /repos/O/R/pulls/N/comments        the review comments posted (through reviews or alone)
  POST  /repos/O/R/pulls/N/comments        one review comment (validated like a review's)
  GET   /repos/O/R/issues/N/comments, POST; PATCH /repos/O/R/issues/comments/ID
  POST  /repos/O/R/check-runs (<= 50 annotations), PATCH /repos/O/R/check-runs/ID (appends)
and for the tests: GET /_requests (every API request, oldest first), GET /_state (what was
posted). Every API request needs `Authorization: Bearer <scenario token>` (else 401).

Scenario: {"token": "...", "repo": "o/r", "page_size_max": 100,
           "login": "quorum-bot", "user_status": 403?,   (GET /user; 403 as for an app token)
           "ignore_page": false,   (true: a broken server: every list request gets page 1 and
                                    a Link to a next page, forever)
           "link_host": "http://other:1",  (Link URLs on another server)
           "pulls": {"7": {"head_sha": "...", "base_sha": "...", "files": [{"filename", "status",
                     "patch"?, "previous_filename"?}], "contents": {"path": "text at head"},
                     "base_contents": {"path": "text at base"},
                     "refuse_paths": ["path"]}},   (comments there get GitHub's 422 "Path could not
                                                   be resolved", as for a diff too large to show)
           "preload": {"issue_comments": {"7": [...]}, "reviews": {...}, "review_comments": {...}},
           "rate_limit": [{"method": "POST", "path_re": "/reviews$", "times": 1, "retry_after": 1}]}
Everything posted carries "user": {"login": <login>}; preloaded items are other users' words.
A rate_limit rule answers its first `times` matching requests with GitHub's secondary rate
limit: 403, Retry-After, {"message": "You have exceeded a secondary rate limit..."}."""

import argparse
import base64
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"reviews": {}, "review_comments": {}, "issue_comments": {}, "check_runs": {}}
LOG = []
NEXT_ID = [1000]
SCENARIO = {}


def new_id():
    NEXT_ID[0] += 1
    return NEXT_ID[0]


def right_side_lines(patch):
    """Per hunk, the set of new-side line numbers it shows (context and added lines)."""
    hunks, cur, line = [], None, 0
    for text in (patch or "").split("\n"):
        m = re.match(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", text)
        if m:
            cur = set()
            hunks.append(cur)
            line = int(m.group(1))
        elif cur is not None and text[:1] in (" ", "+"):
            cur.add(line)
            line += 1
    return hunks


def comment_error(pull, c):
    """Why GitHub would reject review comment `c` (422), or None."""
    files = {f["filename"]: f for f in pull["files"]}
    f = files.get(c.get("path"))
    if f is None:
        return "path is not part of the pull request"
    if c.get("path") in pull.get("refuse_paths", []):
        return "Path could not be resolved"
    if c.get("side", "RIGHT") != "RIGHT" or "line" not in c:
        return "only RIGHT-side line comments are expected"
    start = c.get("start_line", c["line"])
    if start > c["line"] or ("start_line" in c and c.get("start_side") != "RIGHT"):
        return "bad start_line/start_side"
    for hunk in right_side_lines(f.get("patch")):
        if all(n in hunk for n in range(start, c["line"] + 1)):
            return None
    return "line must be part of the diff"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None, raw=None):
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Type", "application/json" if raw is None else "text/plain")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        return status

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        try:
            return json.loads(data) if data else None
        except ValueError:
            return "<invalid json>"

    def handle_any(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = urllib.parse.unquote(url.path)
        body = self.body_json() if method in ("POST", "PATCH") else None
        if path == "/_requests":
            with LOCK:
                return self.reply(200, LOG)
        if path == "/_state":
            with LOCK:
                return self.reply(200, STATE)
        entry = {"t": time.time(), "method": method, "path": path, "query": query, "body": body,
                 "accept": self.headers.get("Accept", ""), "ua": self.headers.get("User-Agent", "")}
        with LOCK:
            entry["seq"] = len(LOG)
            LOG.append(entry)
            status = self.route(method, path, query, body)
            entry["status"] = status

    def route(self, method, path, query, body):
        if self.headers.get("Authorization") != "Bearer " + SCENARIO["token"]:
            return self.reply(401, {"message": "Bad credentials"})
        for rule in SCENARIO.get("rate_limit", []):
            if rule.get("times", 1) > 0 and rule["method"] == method and re.search(rule["path_re"], path):
                rule["times"] = rule.get("times", 1) - 1
                return self.reply(403, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."},
                                  {"Retry-After": str(rule.get("retry_after", 1))})
        if path == "/user" and method == "GET":
            if SCENARIO.get("user_status"):
                return self.reply(SCENARIO["user_status"], {"message": "Resource not accessible by integration"})
            return self.reply(200, {"login": login(), "id": 1, "type": "User"})
        prefix = "/repos/" + SCENARIO["repo"]
        if not path.startswith(prefix + "/"):
            return self.reply(404, {"message": "Not Found"})
        rest = path[len(prefix):]
        m = re.fullmatch(r"/pulls/(\d+)(/.*)?", rest)
        if m:
            pull = SCENARIO["pulls"].get(m.group(1))
            if pull is None:
                return self.reply(404, {"message": "Not Found"})
            return self.pulls(method, m.group(1), pull, m.group(2) or "", query, body)
        m = re.fullmatch(r"/contents/(.+)", rest, re.DOTALL)
        if m and method == "GET":
            return self.contents(m.group(1), query)
        m = re.fullmatch(r"/issues/(\d+)/comments", rest)
        if m:
            lst = STATE["issue_comments"].setdefault(m.group(1), [])
            if method == "GET":
                return self.page(lst, query)
            if method == "POST" and isinstance(body, dict) and isinstance(body.get("body"), str):
                c = {"id": new_id(), "body": body["body"], "user": {"login": login()}}
                lst.append(c)
                return self.reply(201, c)
        m = re.fullmatch(r"/issues/comments/(\d+)", rest)
        if m and method == "PATCH":
            for lst in STATE["issue_comments"].values():
                for c in lst:
                    if c["id"] == int(m.group(1)):
                        c["body"] = body["body"]
                        return self.reply(200, c)
            return self.reply(404, {"message": "Not Found"})
        if rest == "/check-runs" and method == "POST":
            return self.check_run(None, body)
        m = re.fullmatch(r"/check-runs/(\d+)", rest)
        if m and method == "PATCH":
            return self.check_run(m.group(1), body)
        return self.reply(404, {"message": "Not Found"})

    def page(self, items, query):
        per_page = min(int(query.get("per_page", 30)), 100, SCENARIO.get("page_size_max", 100))
        page = int(query.get("page", 1))
        served = 1 if SCENARIO.get("ignore_page") else page
        chunk = items[(served - 1) * per_page: served * per_page]
        host = SCENARIO.get("link_host") or f'http://{self.headers.get("Host")}'
        base = f'{host}{self.path.split("?")[0]}?per_page={per_page}&page='
        last = max(1, -(-len(items) // per_page))
        headers = {}
        if page * per_page < len(items) or SCENARIO.get("ignore_page"):
            headers["Link"] = f'<{base}{page + 1}>; rel="next", <{base}{last}>; rel="last"'
        elif page > 1:
            headers["Link"] = f'<{base}1>; rel="first", <{base}{page - 1}>; rel="prev"'
        return self.reply(200, chunk, headers)

    def pulls(self, method, number, pull, sub, query, body):
        if sub == "" and method == "GET":
            if "diff" in self.headers.get("Accept", ""):
                text = "".join(f"diff --git a/{f['filename']} b/{f['filename']}\n--- a/{f['filename']}\n"
                               f"+++ b/{f['filename']}\n{f.get('patch', '')}\n" for f in pull["files"])
                return self.reply(200, raw=text.encode())
            return self.reply(200, {"number": int(number), "state": "open",
                                    "head": {"sha": pull["head_sha"], "ref": "feature"},
                                    "base": {"sha": pull.get("base_sha", "0" * 40), "ref": "main"}})
        if sub == "/files" and method == "GET":
            return self.page(pull["files"], query)
        if sub == "/comments" and method == "GET":
            return self.page(STATE["review_comments"].get(number, []), query)
        if sub == "/reviews" and method == "GET":
            return self.page(STATE["reviews"].get(number, []), query)
        if sub == "/reviews" and method == "POST":
            return self.create_review(number, pull, body)
        if sub == "/comments" and method == "POST":
            return self.create_comment(number, pull, body)
        return self.reply(404, {"message": "Not Found"})

    def create_review(self, number, pull, body):
        if not isinstance(body, dict) or body.get("event") not in ("APPROVE", "REQUEST_CHANGES", "COMMENT"):
            return self.reply(422, {"message": "Unprocessable Entity", "errors": ["event"]})
        if body.get("commit_id", pull["head_sha"]) != pull["head_sha"]:
            return self.reply(422, {"message": "Unprocessable Entity", "errors": ["commit_id is not the head"]})
        errors = [e for e in (comment_error(pull, c) for c in body.get("comments", [])) if e]
        if errors:
            return self.reply(422, {"message": "Unprocessable Entity", "errors": errors})
        review = {"id": new_id(), "body": body.get("body", ""), "state": "COMMENTED",
                  "commit_id": pull["head_sha"], "user": {"login": login()}}
        STATE["reviews"].setdefault(number, []).append(review)
        for c in body.get("comments", []):
            STATE["review_comments"].setdefault(number, []).append(
                dict(c, id=new_id(), pull_request_review_id=review["id"], user={"login": login()}))
        return self.reply(200, review)

    def create_comment(self, number, pull, body):
        """POST /pulls/N/comments: one review comment on its own (commit_id, path, line, side, body)."""
        if not isinstance(body, dict) or body.get("commit_id") != pull["head_sha"] or "body" not in body:
            return self.reply(422, {"message": "Unprocessable Entity", "errors": ["commit_id and body are required"]})
        error = comment_error(pull, body)
        if error:
            return self.reply(422, {"message": "Unprocessable Entity", "errors": [error]})
        c = dict(body, id=new_id(), user={"login": login()})
        STATE["review_comments"].setdefault(number, []).append(c)
        return self.reply(201, c)

    def contents(self, path, query):
        for pull in SCENARIO["pulls"].values():
            at = {pull["head_sha"]: pull.get("contents", {}),
                  pull.get("base_sha", "0" * 40): pull.get("base_contents", {})}.get(query.get("ref"), {})
            if path in at:
                text = at[path].encode()
                if "raw" in self.headers.get("Accept", ""):
                    return self.reply(200, raw=text)
                return self.reply(200, {"type": "file", "path": path, "encoding": "base64",
                                        "content": base64.b64encode(text).decode()})
        return self.reply(404, {"message": "Not Found"})

    def check_run(self, run_id, body):
        out = (body or {}).get("output") or {}
        if len(out.get("annotations", [])) > 50:
            return self.reply(422, {"message": "Only 50 annotations are allowed per request"})
        if run_id is None:
            if not body.get("name") or not body.get("head_sha"):
                return self.reply(422, {"message": "name and head_sha are required"})
            run = dict(body, id=new_id(), output=dict(out, annotations=list(out.get("annotations", []))))
            STATE["check_runs"][str(run["id"])] = run
            return self.reply(201, run)
        run = STATE["check_runs"].get(run_id)
        if run is None:
            return self.reply(404, {"message": "Not Found"})
        run["output"]["annotations"] += out.get("annotations", [])
        return self.reply(200, run)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")


def login():
    return SCENARIO.get("login", "quorum-bot")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    with open(args.scenario, encoding="utf-8") as f:
        SCENARIO.update(json.load(f))
    for kind, by_pr in SCENARIO.get("preload", {}).items():
        for number, items in by_pr.items():
            STATE[kind].setdefault(number, []).extend(dict(it, id=new_id()) for it in items)
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
