#!/usr/bin/env python3
"""Stand-in model server: speaks the OpenAI chat-completions and Anthropic messages wire
formats (plain JSON and SSE) so quorum's tests can run without a real LLM.

A scenario file (JSON) decides what each request gets: an answer (findings, any JSON value or
raw text), token usage, a delay, or a fault (HTTP errors, hangs, resets, truncated bodies, cut
or broken streams, refusals, max-tokens stops). Every request is recorded and can be read back
at GET /_requests; GET /_stats gives the peak number of requests in flight. See README.md.

Usage: server.py --scenario FILE [--host 127.0.0.1] [--port 0] [--port-file PATH] [--log PATH]
Prints the bound port on stdout (one line) once listening. Python 3 stdlib only.
"""

import argparse
import gzip
import http.server
import json
import os
import random
import re
import select
import socket
import struct
import sys
import threading
import time

MAX_BODY = 64 << 20  # request bodies above this get a 413, not an unbounded read
HANG_LIMIT_S = 3600  # a "hang" ends when the client gives up, or after this as a backstop
API_PATHS = (("/chat/completions", "openai"), ("/messages", "anthropic"))
RULE_KEYS = {"match", "times", "latency_ms", "fault", "retry_after", "findings", "text",
             "answer", "usage", "sse_comment", "echo_key", "num_ctx", "ratelimit", "gzip",
             "error_format"}
MATCH_KEYS = {"model", "prompt_contains", "api"}
FAULTS = {"429", "503", "529", "500", "400", "401", "402", "403", "408", "hang", "reset",
          "truncate", "stream_cut", "malformed", "length", "empty", "refusal", "stream_error",
          "content_filter", "choice_error", "context_window", "insufficient_quota", "no_usage"}
RATELIMIT_KEYS = {"limit_requests", "limit_tokens", "remaining_requests", "remaining_tokens",
                  "reset_requests", "reset_tokens", "limit", "remaining", "reset_in_ms"}
# OpenAI's reasoning models (o1, o3-mini, o4-mini, gpt-5, gpt-5-mini; not gpt-5-chat-latest).
# A vendor-prefixed id ("openai/o3") is a router's, which translates parameters itself.
REASONING_MODEL = re.compile(r"^(o[1-9](-.*)?|gpt-5(?!.*-chat)([-.].*)?)$")
REASONING_EFFORTS = {"none", "minimal", "low", "medium", "high", "xhigh"}
# Azure OpenAI: /openai/deployments/{name}/chat/completions?api-version=… with an api-key header.
AZURE_PATH = re.compile(r"^/openai/deployments/([^/]+)/chat/completions$")
QUOTA_MESSAGE = ("You exceeded your current quota, please check your plan and billing details. "
                 "For more information on this error, read the docs: "
                 "https://platform.openai.com/docs/guides/error-codes/api-errors.")
# Error "type" per status, in each provider's vocabulary.
OPENAI_ERR = {400: "invalid_request_error", 401: "invalid_api_key", 402: "insufficient_quota",
              403: "permission_denied", 404: "not_found", 408: "timeout",
              413: "invalid_request_error", 429: "rate_limit_exceeded", 500: "server_error",
              503: "service_unavailable", 529: "overloaded"}
ANTHROPIC_ERR = {400: "invalid_request_error", 401: "authentication_error",
                 402: "billing_error", 403: "permission_error", 404: "not_found_error",
                 408: "timeout_error", 413: "request_too_large", 429: "rate_limit_error",
                 500: "api_error", 503: "overloaded_error", 529: "overloaded_error"}
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


class ScenarioError(ValueError):
    pass


def check_rule(rule, where):
    """Rejects unknown keys and faults so a typo in a test fails loudly, not silently."""
    if not isinstance(rule, dict):
        raise ScenarioError(f"{where}: expected an object")
    extra = set(rule) - RULE_KEYS
    if extra:
        raise ScenarioError(f"{where}: unknown keys {sorted(extra)}")
    match = rule.get("match", {})
    if not isinstance(match, dict) or set(match) - MATCH_KEYS:
        raise ScenarioError(f"{where}.match: expected an object with keys {sorted(MATCH_KEYS)}")
    if match.get("api") not in (None, "openai", "anthropic"):
        raise ScenarioError(f"{where}.match.api: expected openai or anthropic")
    fault = rule.get("fault")
    if fault is not None and str(fault) not in FAULTS:
        raise ScenarioError(f"{where}.fault: unknown fault {fault!r}; known: {sorted(FAULTS)}")
    if "text" in rule and not isinstance(rule["text"], str):
        raise ScenarioError(f"{where}.text: expected a string")
    if "times" in rule and (not isinstance(rule["times"], int) or rule["times"] < 0):
        raise ScenarioError(f"{where}.times: expected a non-negative integer")
    if "num_ctx" in rule and (not isinstance(rule["num_ctx"], int) or rule["num_ctx"] < 1):
        raise ScenarioError(f"{where}.num_ctx: expected a positive integer")
    rl = rule.get("ratelimit", {})
    if not isinstance(rl, dict) or set(rl) - RATELIMIT_KEYS:
        raise ScenarioError(f"{where}.ratelimit: expected an object with keys {sorted(RATELIMIT_KEYS)}")
    if rule.get("error_format") not in (None, "vllm"):
        raise ScenarioError(f"{where}.error_format: expected \"vllm\"")


def load_scenario(data):
    """Validates a scenario object; returns (rules, default)."""
    if not isinstance(data, dict) or set(data) - {"rules", "default"}:
        raise ScenarioError("scenario: expected an object with keys rules, default")
    rules = data.get("rules", [])
    if not isinstance(rules, list):
        raise ScenarioError("rules: expected an array")
    for i, rule in enumerate(rules):
        check_rule(rule, f"rules[{i}]")
    default = data.get("default", {"findings": []})
    check_rule(default, "default")
    if "match" in default or "times" in default:
        raise ScenarioError("default: match and times make no sense here")
    return rules, default


class State:
    """Everything shared between request threads; one lock guards it all."""

    def __init__(self, scenario, log_path):
        self.lock = threading.Lock()
        self.rules, self.default = load_scenario(scenario)
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self.reset()

    def reset(self):
        with self.lock:
            self.records = []
            self.used = [0] * len(self.rules)  # matching requests each rule has served
            self.inflight = 0
            self.max_inflight = 0

    def set_scenario(self, scenario):
        rules, default = load_scenario(scenario)
        with self.lock:
            self.rules, self.default = rules, default
        self.reset()

    def begin(self, record):
        """Registers a request as in flight; returns its record (seq assigned)."""
        with self.lock:
            record["seq"] = len(self.records) + 1
            self.records.append(record)
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        return record

    def end(self, record):
        with self.lock:
            record["t_end"] = time.time()
            self.inflight -= 1
            if self.log_file:
                self.log_file.write(json.dumps(record) + "\n")
                self.log_file.flush()

    def pick(self, api, model, prompt):
        """First rule whose match fits and whose `times` is not used up; else the default."""
        with self.lock:
            for i, rule in enumerate(self.rules):
                m = rule.get("match", {})
                if "model" in m and m["model"] != model:
                    continue
                if "api" in m and m["api"] != api:
                    continue
                if "prompt_contains" in m and m["prompt_contains"] not in prompt:
                    continue
                if "times" in rule and self.used[i] >= rule["times"]:
                    continue
                self.used[i] += 1
                return i, rule
            return "default", self.default

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.records))

    def stats(self):
        with self.lock:
            return {"total": len(self.records), "max_inflight": self.max_inflight,
                    "inflight": self.inflight}


def text_of(content):
    """Text of a message content: a string or a list of blocks/parts with "text"."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content
                         if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def prompt_text(body):
    """The concatenated system prompt and message texts, for prompt_contains and usage."""
    parts = [text_of(body.get("system"))]
    for msg in body.get("messages", []):
        if isinstance(msg, dict):
            parts.append(text_of(msg.get("content")))
    return "\n".join(p for p in parts if p)


def answer_text(rule):
    if "answer" in rule:
        return json.dumps(rule["answer"])
    if "findings" in rule:
        return json.dumps({"findings": rule["findings"]})
    return rule.get("text", json.dumps({"findings": []}))


def validate_request(api, body):
    """The minimum each real API insists on; returns an error message or None."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: required string"
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return "messages: required non-empty array"
    if api == "anthropic" and not isinstance(body.get("max_tokens"), int):
        return "max_tokens: required integer"
    if "stream" in body and not isinstance(body["stream"], bool):
        return "stream: expected a boolean"
    if api == "openai":
        return reasoning_error(body) or strict_schema_error(body.get("response_format"))
    return None


def reasoning_error(body):
    """OpenAI's 400 for parameters a reasoning model rejects (and reasoning_effort elsewhere)."""
    if not REASONING_MODEL.match(body["model"]):
        if "reasoning_effort" in body:
            return "Unrecognized request argument supplied: reasoning_effort"
        return None
    if "max_tokens" in body:
        return ("Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.")
    if "temperature" in body and body["temperature"] != 1:
        return (f"Unsupported value: 'temperature' does not support {body['temperature']} with "
                "this model. Only the default (1) value is supported.")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in REASONING_EFFORTS:
        return (f"Invalid value: '{effort}'. Supported values are: 'low', 'medium', and 'high'.")
    return None


def strict_schema_error(fmt):
    """OpenAI's 400 for a response_format json_schema with strict: true that breaks the rules
    of strict structured outputs: every object has additionalProperties false and lists every
    property in required (an optional field is a required one whose type admits null)."""
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not spec.get("strict"):
        return None
    schema = spec.get("schema")
    name = spec.get("name")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return (f"Invalid schema for response_format '{name}': schema must be a JSON Schema of "
                "'type: \"object\"', got 'type: \"%s\"'." % (schema or {}).get("type"))
    why = strict_violation(schema, ())
    return f"Invalid schema for response_format '{name}': {why}" if why else None


def strict_violation(node, ctx):
    """The first strict-mode violation under node (a schema), in OpenAI's words, or None."""
    if not isinstance(node, dict):
        return None
    where = f"In context={ctx!r}, "
    types = node.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" in types:
        if node.get("additionalProperties") is not False:
            return where + "'additionalProperties' is required to be supplied and to be false."
        props = node.get("properties", {})
        required = node.get("required")
        if not isinstance(required, list):
            return where + ("'required' is required to be supplied and to be an array including "
                            "every key in properties.")
        missing = [k for k in props if k not in required]
        if missing:
            return where + ("'required' is required to be supplied and to be an array including "
                            f"every key in properties. Missing '{missing[0]}'.")
        extra = [k for k in required if k not in props]
        if extra:
            return where + f"Extra required key '{extra[0]}' supplied."
        for key, sub in props.items():
            why = strict_violation(sub, ctx + ("properties", key))
            if why:
                return why
    for key in ("items",):
        why = strict_violation(node.get(key), ctx + (key,))
        if why:
            return why
    for key in ("anyOf",):
        for i, sub in enumerate(node.get(key, [])):
            why = strict_violation(sub, ctx + (key, i))
            if why:
                return why
    return None


def error_body(api, status, message, fmt=None):
    if fmt == "vllm":  # vLLM's OpenAI server: a flat object, not {error: {...}}
        return {"object": "error", "message": message, "type": "BadRequestError", "param": None,
                "code": status}
    if api == "anthropic":
        return {"type": "error",
                "error": {"type": ANTHROPIC_ERR.get(status, "api_error"), "message": message}}
    # OpenAI's shape, with OpenRouter's numeric code.
    return {"error": {"message": message, "type": OPENAI_ERR.get(status, "server_error"),
                      "param": None, "code": status}}


def split_chunks(text, seed):
    """Splits text into 7–20 character pieces, reproducibly per request."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(7, 20)
        out.append(text[i:i + n])
        i += n
    return out


def forced_tool(body):
    """The tool name the request forces with tool_choice {type: tool}, or None."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool" and isinstance(choice.get("name"), str):
        return choice["name"]
    return None


def tool_input(text):
    """The answer as a tool input object, or None when the text is not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Reply:
    """What one API request gets back: the answer and usage resolved from its rule."""

    def __init__(self, api, body, rule, seq):
        self.api, self.body, self.rule, self.seq = api, body, rule, seq
        self.model = body["model"]
        self.fault = str(rule["fault"]) if "fault" in rule else None
        self.text = answer_text(rule)
        if self.fault in ("length", "content_filter", "context_window"):
            self.text = self.text[:len(self.text) // 2]
        elif self.fault in ("empty", "refusal"):
            self.text = ""
        usage = rule.get("usage", {})
        self.in_tokens = usage.get("input_tokens", max(1, len(prompt_text(body)) // 4))
        if "num_ctx" in rule:  # Ollama keeps the end of a longer prompt and reports what it read
            self.in_tokens = min(self.in_tokens, rule["num_ctx"])
        self.out_tokens = usage.get("output_tokens", max(1, len(self.text) // 4))
        self.cost = usage.get("cost")
        self.cache_read = usage.get("cache_read_input_tokens", 0)
        self.cache_write = usage.get("cache_creation_input_tokens", 0)
        self.tool = forced_tool(body) if api == "anthropic" else None
        cut = self.fault in ("length", "context_window")
        self.tool_input = tool_input(self.text) if self.tool and not cut else None
        self.ident = f"standin-{seq}"
        self.created = int(time.time())

    # --- OpenAI ---
    def openai_usage(self):
        u = {"prompt_tokens": self.in_tokens, "completion_tokens": self.out_tokens,
             "total_tokens": self.in_tokens + self.out_tokens}
        if self.cost is not None:
            u["cost"] = self.cost
        return u

    def openai_finish(self):
        return {"length": "length", "content_filter": "content_filter",
                "choice_error": "error"}.get(self.fault, "stop")

    def choice_error(self):
        """OpenRouter: an error after the model started is a 200 choice with this object."""
        return {"code": 502, "message": "stand-in: the upstream provider failed mid-answer",
                "metadata": {"provider_name": "standin"}}

    def openai_plain(self):
        refused = self.fault == "refusal"
        message = {"role": "assistant", "content": None if refused else self.text,
                   "refusal": REFUSAL_TEXT if refused else None}
        choice = {"index": 0, "message": message, "logprobs": None,
                  "finish_reason": self.openai_finish()}
        if self.fault == "choice_error":
            message["content"] = ""
            choice.update(native_finish_reason="error", error=self.choice_error())
        return {"id": "chatcmpl-" + self.ident, "object": "chat.completion",
                "created": self.created, "model": self.model,
                "choices": [choice],
                **({} if self.fault == "no_usage" else {"usage": self.openai_usage()})}

    def openai_chunk(self, delta, finish=None):
        return {"id": "chatcmpl-" + self.ident, "object": "chat.completion.chunk",
                "created": self.created, "model": self.model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None,
                             "finish_reason": finish}]}

    def openai_events(self):
        """The SSE data payloads of a complete stream, as (event, payload) pairs."""
        if self.fault == "refusal":
            key, pieces, first = "refusal", split_chunks(REFUSAL_TEXT, self.seq), None
        else:
            key, pieces, first = "content", split_chunks(self.text, self.seq), ""
        if self.fault == "choice_error":
            pieces = pieces[:len(pieces) // 2]
        events = [(None, self.openai_chunk({"role": "assistant", "content": first}))]
        events += [(None, self.openai_chunk({key: p})) for p in pieces]
        last = self.openai_chunk({}, self.openai_finish())
        if self.fault == "choice_error":
            last["choices"][0].update(native_finish_reason="error", error=self.choice_error())
        events.append((None, last))
        if self.fault == "no_usage":  # the answer is complete; nothing follows
            return events
        opts = self.body.get("stream_options")
        if isinstance(opts, dict) and opts.get("include_usage"):
            final = self.openai_chunk({})
            final["choices"] = []
            final["usage"] = self.openai_usage()
            events.append((None, final))
        events.append((None, "[DONE]"))
        return events

    def openai_stream_error(self):
        chunk = self.openai_chunk({"content": ""}, "error")
        chunk["error"] = {"code": 502, "message": "stand-in: provider failed mid-stream"}
        return None, chunk

    # --- Anthropic ---
    def anthropic_usage(self):
        return {"input_tokens": self.in_tokens, "output_tokens": self.out_tokens,
                "cache_creation_input_tokens": self.cache_write,
                "cache_read_input_tokens": self.cache_read}

    def anthropic_stop(self):
        if self.fault == "length":
            return "max_tokens"
        if self.fault == "context_window":
            return "model_context_window_exceeded"
        if self.fault == "refusal":
            return "refusal"
        return "tool_use" if self.tool_input is not None else "end_turn"

    def anthropic_block(self):
        """The content block (with its full input/text), or None when there is none."""
        if self.fault in ("empty", "refusal"):
            return None
        if self.tool_input is not None:
            return {"type": "tool_use", "id": "toolu_" + self.ident, "name": self.tool,
                    "input": self.tool_input}
        return {"type": "text", "text": self.text}

    def anthropic_message(self, content, stop, usage):
        return {"id": "msg_" + self.ident, "type": "message", "role": "assistant",
                "model": self.model, "content": content, "stop_reason": stop,
                "stop_sequence": None, "usage": usage}

    def anthropic_plain(self):
        block = self.anthropic_block()
        return self.anthropic_message([block] if block else [], self.anthropic_stop(),
                                      None if self.fault == "no_usage" else self.anthropic_usage())

    def anthropic_events(self):
        usage = None if self.fault == "no_usage" else dict(self.anthropic_usage(), output_tokens=1)
        events = [("message_start", {"type": "message_start",
                                     "message": self.anthropic_message([], None, usage)})]
        if self.fault not in ("empty", "refusal"):
            # A max_tokens stop inside a forced tool streams its partial JSON as tool input.
            if self.tool and (self.tool_input is not None or self.fault in ("length", "context_window")):
                start = {"type": "tool_use", "id": "toolu_" + self.ident, "name": self.tool,
                         "input": {}}
                kind, field = "input_json_delta", "partial_json"
            else:
                start = {"type": "text", "text": ""}
                kind, field = "text_delta", "text"
            events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                                   "content_block": start}))
            events.append(("ping", {"type": "ping"}))
            for p in split_chunks(self.text, self.seq):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                       "delta": {"type": kind, field: p}}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        delta = {"type": "message_delta",
                 "delta": {"stop_reason": self.anthropic_stop(), "stop_sequence": None}}
        if self.fault != "no_usage":
            delta["usage"] = {"output_tokens": self.out_tokens}
        events.append(("message_delta", delta))
        events.append(("message_stop", {"type": "message_stop"}))
        return events

    def anthropic_stream_error(self):
        return "error", {"type": "error", "error": {"type": "overloaded_error",
                                                    "message": "stand-in: overloaded mid-stream"}}

    # --- shared ---
    def plain(self):
        return self.openai_plain() if self.api == "openai" else self.anthropic_plain()

    def events(self):
        return self.openai_events() if self.api == "openai" else self.anthropic_events()

    def stream_error(self):
        return self.openai_stream_error() if self.api == "openai" else self.anthropic_stream_error()


def ratelimit_headers(rl):
    """The x-ratelimit-* headers of a rule's "ratelimit" object: OpenAI's (values verbatim) and
    OpenRouter's X-RateLimit-Limit/-Remaining/-Reset (reset_in_ms: that long from now, sent as
    the epoch milliseconds OpenRouter uses)."""
    out = []
    for k, v in rl.items():
        if k == "reset_in_ms":
            out.append(("X-RateLimit-Reset", str(int(time.time() * 1000) + v)))
        elif k in ("limit", "remaining"):
            out.append(("X-RateLimit-" + k.capitalize(), str(v)))
        else:
            out.append(("x-ratelimit-" + k.replace("_", "-", 1), str(v)))
    return out


def sse(event, payload):
    data = payload if isinstance(payload, str) else json.dumps(payload)
    head = f"event: {event}\n" if event else ""
    return (head + f"data: {data}\n\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response is framed by length or chunks
    server_version = "quorum-standin/1"

    def log_message(self, *args):
        pass  # the request log is the record; stderr stays quiet for test output

    def parse_request(self):
        self.t_start = time.time()  # the request line has just arrived
        return super().parse_request()

    @property
    def state(self):
        return self.server.state

    # --- sending ---
    # Set per API request from its rule: headers for every response (rate limits) and whether
    # whole answers go gzip-encoded (as a compressing proxy or server sends them).
    rule_headers = ()
    gzip_body = False

    def send_json(self, status, obj, extra_headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.gzip_body:
            data = gzip.compress(data)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        for k, v in list(extra_headers) + list(self.rule_headers):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def start_stream(self):
        self.send_response(200)
        for k, v in self.rule_headers:
            self.send_header(k, v)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def send_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")

    def read_body(self):
        """Returns (bytes, None) or (None, (status, message))."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return None, (400, "chunked request bodies are not supported")
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            self.close_connection = True
            return None, (400, "bad Content-Length")
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            return None, (413, f"request body over {MAX_BODY} bytes")
        return self.rfile.read(n), None

    # --- routes ---
    def do_GET(self):
        if self.path == "/_requests":
            self.send_json(200, self.state.snapshot())
        elif self.path == "/_stats":
            self.send_json(200, self.state.stats())
        elif self.path == "/_health":
            self.send_json(200, {"ok": True})
        else:
            self.send_json(404, error_body("openai", 404, f"no route GET {self.path}"))

    def do_POST(self):
        self.rule_headers, self.gzip_body = (), False
        path = self.path.split("?", 1)[0]
        api = next((a for suffix, a in API_PATHS if path.endswith(suffix)), None)
        raw, err = self.read_body()
        azure = AZURE_PATH.match(path)
        if azure and err is None:
            err = self.azure_error()
        if api is None:
            self.control(path, raw, err)
            return
        record = self.state.begin({
            "seq": 0, "t_start": self.t_start, "t_end": None, "path": self.path, "api": api,
            "model": None, "stream": False,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": None, "rule": None, "fault": None})
        if azure:
            record["deployment"] = azure.group(1)
        try:
            self.api_request(api, raw, err, record, azure.group(1) if azure else None)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left; nothing more to say
        finally:
            self.state.end(record)

    def control(self, path, raw, err):
        if err:
            self.send_json(err[0], error_body("openai", *err))
        elif path == "/_reset":
            self.state.reset()
            self.send_json(200, {"ok": True})
        elif path == "/_scenario":
            try:
                self.state.set_scenario(json.loads(raw))
            except (ValueError, ScenarioError) as e:
                self.send_json(400, error_body("openai", 400, f"bad scenario: {e}"))
                return
            self.send_json(200, {"ok": True})
        else:
            self.send_json(404, error_body("openai", 404, f"no route POST {path}"))

    def azure_error(self):
        """Azure OpenAI's answers to a deployment route without api-version or api-key."""
        query = self.path.split("?", 1)[1] if "?" in self.path else ""
        if not any(p.startswith("api-version=") and len(p) > 12 for p in query.split("&")):
            return (404, "Resource not found")
        if not self.headers.get("api-key"):
            return (401, "Access denied due to invalid subscription key or wrong API endpoint. "
                         "Make sure to provide a valid key for an active subscription and use a "
                         "correct regional API endpoint for your resource.")
        return None

    def api_request(self, api, raw, err, record, deployment=None):
        if err is None:
            try:
                record["body"] = json.loads(raw)
            except ValueError as e:
                err = (400, f"request body is not JSON: {e}")
        if err is None and deployment and isinstance(record["body"], dict):
            record["body"].setdefault("model", deployment)  # Azure: the route names the model
        if err is None:
            msg = validate_request(api, record["body"])
            err = (400, msg) if msg else None
        if err:
            record["fault"] = "bad_request"
            self.send_json(err[0], error_body(api, *err))
            return
        body = record["body"]
        record["model"] = body["model"]
        record["stream"] = bool(body.get("stream"))
        record["rule"], rule = self.state.pick(api, body["model"], prompt_text(body))
        self.rule_headers = ratelimit_headers(rule.get("ratelimit", {}))
        self.gzip_body = bool(rule.get("gzip"))
        reply = Reply(api, body, rule, record["seq"])
        record["fault"] = reply.fault
        self.respond(reply, rule, record["stream"])

    # --- answering ---
    def respond(self, reply, rule, stream):
        latency = rule.get("latency_ms", 0) / 1000.0
        fault = reply.fault
        is_status = fault is not None and fault.isdigit()
        if fault == "hang":
            self.hang()
        elif fault == "reset":
            self.reset_connection()
        elif stream and not is_status and fault not in ("truncate", "malformed",
                                                         "insufficient_quota") and not (
                fault == "context_window" and reply.api == "openai"):
            self.stream(reply, latency, rule.get("sse_comment", False))
        else:
            time.sleep(latency)
            self.send_whole(reply, rule, stream)

    def send_whole(self, reply, rule, stream):
        """Answers in one piece: a whole response, an error, or a broken body."""
        fault = reply.fault
        headers = [("Retry-After", str(rule["retry_after"]))] if "retry_after" in rule else []
        if fault is not None and fault.isdigit():
            status = int(fault)
            message = f"stand-in fault {status}"
            if rule.get("echo_key"):  # as OpenAI-compatible servers say it, key and all
                key = (self.headers.get("Authorization", "").removeprefix("Bearer ")
                       or self.headers.get("x-api-key", "") or self.headers.get("api-key", ""))
                message = (f"Incorrect API key provided: {key}. You can find your API key at "
                           "https://platform.openai.com/account/api-keys.")
            self.send_json(status, error_body(reply.api, status, message,
                                              rule.get("error_format")), headers)
        elif fault == "insufficient_quota":  # OpenAI: out of credits is a 429 too
            self.send_json(429, {"error": {"message": QUOTA_MESSAGE, "type": "insufficient_quota",
                                           "param": None, "code": "insufficient_quota"}}, headers)
        elif fault == "context_window" and reply.api == "openai":  # refused before answering
            self.send_json(400, {"error": {
                "message": "This model's maximum context length is 128000 tokens. However, your "
                           "messages resulted in 130000 tokens. Please reduce the length of the "
                           "messages.", "type": "invalid_request_error", "param": "messages",
                "code": "context_length_exceeded"}})
        elif fault == "truncate":
            self.truncated(reply, stream)
        elif fault == "malformed":
            self.malformed(stream)
        elif fault == "stream_cut":  # a plain request has no stream to cut: cut the body
            self.truncated(reply, False)
        elif fault == "stream_error":  # a plain request: 200 whose body is the error
            self.send_json(200, error_body(reply.api, 502, "stand-in: provider failed"))
        else:
            self.send_json(200, reply.plain())

    def stream(self, reply, latency, comment):
        events = reply.events()
        if reply.fault == "stream_cut":
            events = events[:max(1, len(events) // 2)]
        elif reply.fault == "stream_error":
            events = events[:max(1, len(events) // 2)] + [reply.stream_error()]
        self.start_stream()
        if comment:
            self.send_chunk(b": OPENROUTER PROCESSING\n\n")
        pause = latency / (len(events) + 1)
        for event, payload in events:
            time.sleep(pause)
            self.send_chunk(sse(event, payload))
        time.sleep(pause)
        self.end_stream()
        if reply.fault in ("stream_cut", "stream_error"):
            self.close_connection = True

    def malformed(self, stream):
        if stream:
            self.start_stream()
            self.send_chunk(b'data: {"this event is cut and not JSON\n\n')
            self.end_stream()
        else:
            data = b'{"choices": [{"message": {"content": "this body is cut and not JSON'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def truncated(self, reply, stream):
        """Promises the whole body in Content-Length, sends half of it, then closes."""
        if stream:
            data = b"".join(sse(e, p) for e, p in reply.events())
            ctype = "text/event-stream"
        else:
            data = json.dumps(reply.plain()).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.close_connection = True

    def hang(self):
        """Never answers: waits until the client closes its side (or the backstop)."""
        self.close_connection = True
        deadline = time.time() + HANG_LIMIT_S
        while time.time() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0.2)
            if readable:
                try:
                    if not self.connection.recv(4096):
                        return
                except OSError:
                    return

    def reset_connection(self):
        """Closes with SO_LINGER 0 so the kernel sends RST instead of FIN."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds the last reference to the descriptor: closing both closes it now,
        # before socketserver's shutdown(SHUT_WR) could send a FIN.
        self.connection.close()
        self.rfile.close()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # listen backlog: 256+ clients may connect at once
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that vanishes mid-response is expected in fault tests; anything else is
        # a stand-in bug worth seeing.
        if not isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    args = ap.parse_args()
    try:
        with open(args.scenario, encoding="utf-8") as f:
            state = State(json.load(f), args.log)
    except (OSError, ValueError) as e:
        print(f"standin: {args.scenario}: {e}", file=sys.stderr)
        return 2
    server = Server((args.host, args.port), Handler)
    server.state = state
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(port, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
