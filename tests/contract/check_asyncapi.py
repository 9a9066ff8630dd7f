#!/usr/bin/python3
"""Checks bus messages against docs/asyncapi.yaml (issue 10 item 6).

  check_asyncapi.py ASYNCAPI.yaml CAPTURE.jsonl... [--require CHANNEL]...
  check_asyncapi.py ASYNCAPI.yaml --self-test

A capture holds JSON lines {"kind": "message"|"request"|"reply", "subject": S, "data": PAYLOAD}
(tests/lab/bus_tap.cpp writes them; a "bad_request", sent to be refused, is not checked, its
reply is). Each line is matched to its channel (a subject matches a
channel name with {parameters} token by token; the most literal channel wins) and its payload
checked against:
  message  the channel's subscribe message (what a service publishes), else its publish message;
  request  the channel's publish message (what a client sends);
  reply    the channel's x-reply.
Besides JSON Schema validation, every object whose schema lists `properties` must carry no
field the schema does not name (unless it says additionalProperties): the document describes
every field a service sends. A subject no channel matches is an error. Every example in the
document is checked too. Exit 0 when all is well, 1 otherwise; the report names each failure.
"""
import copy
import json
import sys

import jsonschema
import yaml


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def best_template(templates, value, sep):
    """The template ("a.{x}.c", "/a/{x}/c") that matches value part by part, the most literal
    one when several do; None when none does."""
    best, best_literal = None, -1
    parts = [p for p in value.split(sep) if p]
    for template in templates:
        tparts = [p for p in template.split(sep) if p]
        if len(tparts) != len(parts):
            continue
        literal = 0
        for t, v in zip(tparts, parts):
            if t.startswith("{") and t.endswith("}"):
                continue
            if t != v:
                break
            literal += 1
        else:
            if literal > best_literal:
                best, best_literal = template, literal
    return best


def channel_for(doc, subject):
    return best_template(doc["channels"], subject, ".")


class Checker:
    def __init__(self, doc):
        self.doc = doc
        self.resolver = jsonschema.RefResolver.from_schema(doc)
        self.failures = []
        self.seen = {}

    def resolve(self, schema):
        while isinstance(schema, dict) and "$ref" in schema:
            _, schema = self.resolver.resolve(schema["$ref"])
        return schema

    def message_schema(self, message):
        message = self.resolve(message)
        if message is None:
            return None
        if "oneOf" in message:
            return {"oneOf": [self.message_schema(m) for m in message["oneOf"]]}
        return self.resolve(message.get("payload"))

    def schema_for(self, channel, kind):
        ch = self.doc["channels"][channel]
        if kind == "reply":
            reply = ch.get("x-reply")
            return self.message_schema(reply) if reply else None
        if kind == "request":
            op = ch.get("publish")
        else:
            op = ch.get("subscribe") or ch.get("publish")
        return self.message_schema(op["message"]) if op and "message" in op else None

    def undocumented(self, schema, instance, path):
        """Fields the schema does not name, as (path, field) pairs."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return []
        for key in ("oneOf", "anyOf"):
            if key in schema:
                for sub in schema[key]:
                    sub = self.resolve(sub)
                    if self.valid(sub, instance):
                        return self.undocumented(sub, instance, path)
                return []
        out = []
        if isinstance(instance, dict):
            props = schema.get("properties")
            extra = schema.get("additionalProperties")
            for k, v in instance.items():
                if props is not None and k in props:
                    out += self.undocumented(props[k], v, path + [k])
                elif isinstance(extra, dict):
                    out += self.undocumented(extra, v, path + [k])
                elif props is not None and extra is None:
                    out.append((path, k))
        elif isinstance(instance, list) and "items" in schema:
            for i, v in enumerate(instance):
                out += self.undocumented(schema["items"], v, path + [str(i)])
        return out

    def valid(self, schema, instance):
        return not any(self.errors(schema, instance))

    def errors(self, schema, instance):
        v = jsonschema.Draft7Validator(schema, resolver=self.resolver)
        return v.iter_errors(instance)

    def check(self, where, subject, kind, data):
        channel = channel_for(self.doc, subject)
        if channel is None:
            self.failures.append(f"{where}: {subject}: no channel of the document matches")
            return
        schema = self.schema_for(channel, kind)
        if schema is None:
            self.failures.append(f"{where}: {subject}: channel {channel} describes no {kind}")
            return
        self.seen.setdefault(channel, {}).setdefault(kind, 0)
        self.seen[channel][kind] += 1
        for e in self.errors(schema, data):
            at = "/".join(str(p) for p in e.absolute_path) or "(payload)"
            self.failures.append(f"{where}: {subject} ({kind}) at {at}: {e.message}")
        for path, field in self.undocumented(schema, data, []):
            at = "/".join(path) or "(payload)"
            self.failures.append(
                f"{where}: {subject} ({kind}) at {at}: field '{field}' is not in the document")

    def check_examples(self):
        for name, ch in self.doc["channels"].items():
            for kind, op in (("message", ch.get("subscribe")), ("request", ch.get("publish")),
                             ("reply", {"message": ch["x-reply"]} if "x-reply" in ch else None)):
                if not op or "message" not in op:
                    continue
                message = self.resolve(op["message"])
                for i, ex in enumerate(message.get("examples", [])):
                    subject = ex.get("x-subject", name)
                    self.check(f"example {i} of {name}", subject, kind, ex["payload"])

    def check_capture(self, path):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as e:
                    self.failures.append(f"{path}:{n}: not JSON: {e}")
                    continue
                if rec["kind"] == "bad_request":
                    continue  # meant to be refused: its reply is checked, not itself
                self.check(f"{path}:{n}", rec["subject"], rec["kind"], rec["data"])


def self_test(doc):
    """The checker must fail on broken messages; the document's examples must pass."""
    c = Checker(doc)
    c.check_examples()
    if c.failures:
        print("examples of the document fail:\n  " + "\n  ".join(c.failures))
        return 1
    examples = sum(k for ch in c.seen.values() for k in ch.values())
    if examples < 8:
        print(f"only {examples} examples in the document; every message should have one")
        return 1
    event = {"v": 1, "time_unix_ms": 1, "group": "g", "node": "n", "source": "heartbeat",
             "severity": "information", "code": "active", "text": "t", "details": {}}
    cases = {
        "a valid event": ("hasys.evt.g.n", "message", event, True),
        "a wrong severity": ("hasys.evt.g.n", "message", dict(event, severity="loud"), False),
        "a missing required field": ("hasys.evt.g.n", "message",
                                     {k: v for k, v in event.items() if k != "code"}, False),
        "an undocumented field": ("hasys.evt.g.n", "message", dict(event, surprise=1), False),
        "an undocumented subject": ("hasys.nowhere", "message", event, False),
        "a wrong reply": ("hasys.mgr.evt.query", "reply", {"v": 1, "ok": "yes"}, False),
    }
    bad = 0
    for what, (subject, kind, data, ok) in cases.items():
        c = Checker(doc)
        c.check(what, subject, kind, copy.deepcopy(data))
        if (not c.failures) != ok:
            print(f"self-test: {what} was {'refused' if c.failures else 'accepted'}: {c.failures}")
            bad += 1
    print(f"self-test: {examples} examples valid; {len(cases) - bad}/{len(cases)} cases right")
    return 1 if bad else 0


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    doc = load(argv[1])
    rest = argv[2:]
    if rest == ["--self-test"]:
        return self_test(doc)
    required, captures = [], []
    i = 0
    while i < len(rest):
        if rest[i] == "--require":
            required.append(rest[i + 1])
            i += 2
        else:
            captures.append(rest[i])
            i += 1
    c = Checker(doc)
    c.check_examples()
    for path in captures:
        c.check_capture(path)
    for channel in required:
        if channel not in c.seen:
            c.failures.append(f"no message of {channel} was captured")
    for channel in sorted(c.seen):
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(c.seen[channel].items()))
        print(f"checked {channel}: {kinds}")
    for f in c.failures:
        print("FAIL " + f)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
