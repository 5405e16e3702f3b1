"""docs/openapi.yaml, read and enforced: every JSON reply the end-to-end
tests receive from the stack is checked against the schema the document
gives for its path, method and status, so the document cannot drift from
the programs.

Standard library only, so two small pieces live here:
- a loader for the YAML subset the document is written in (block mappings
  and sequences, one-line plain or double-quoted scalars, one-line flow
  sequences of scalars, comments on their own lines);
- a JSON Schema checker for the keywords the document uses (type,
  properties, required, additionalProperties, items, enum, const, pattern,
  minimum, maximum, minLength, maxLength, minItems, maxItems, anyOf,
  oneOf, allOf, $ref to #/components/...).
"""

import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_PATH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "openapi.yaml")


class SpecError(Exception):
    pass


# ---- the YAML subset ----

def _split_unquoted(s, sep):
    """Pieces of s split at sep outside double quotes."""
    out, cur, quoted, i = [], "", False, 0
    while i < len(s):
        c = s[i]
        if c == '"' and (i == 0 or s[i - 1] != "\\"):
            quoted = not quoted
        if not quoted and s.startswith(sep, i):
            out.append(cur)
            cur = ""
            i += len(sep)
            continue
        cur += c
        i += 1
    out.append(cur)
    return out


def _strip_comment(s):
    return _split_unquoted(s, " #")[0].rstrip()


def _scalar(s, where):
    s = _strip_comment(s)
    if s.startswith('"'):
        if not s.endswith('"') or len(s) < 2:
            raise SpecError("%s: unterminated string %r" % (where, s))
        return json.loads(s)
    if s.startswith("["):
        if not s.endswith("]"):
            raise SpecError("%s: a flow sequence must fit on its line: %r" % (where, s))
        inner = s[1:-1].strip()
        return [] if not inner else [_scalar(x.strip(), where) for x in _split_unquoted(inner, ",")]
    if s[:1] in "{*&!%@`'>|":
        raise SpecError("%s: not in the YAML subset: %r" % (where, s))
    if s in ("true", "false"):
        return s == "true"
    if s in ("null", "~"):
        return None
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    if re.fullmatch(r"-?\d+\.\d+", s):
        return float(s)
    return s


def _key_value(s, where):
    """(key, rest) of a mapping line "key: rest" / "key:", or None."""
    if s.startswith('"'):
        end = s.find('"', 1)
        while end > 0 and s[end - 1] == "\\":
            end = s.find('"', end + 1)
        if end < 0 or not s[end + 1:].startswith(":"):
            return None
        key, rest = json.loads(s[:end + 1]), s[end + 2:]
    else:
        m = re.match(r"^([^\s\"#][^\"]*?):(?: |$)", s)
        if not m:
            return None
        key, rest = m.group(1), s[m.end():]
    return key, rest.strip()


def load_yaml(text):
    lines = []
    for n, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw:
            raise SpecError("line %d: a tab" % n)
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        lines.append([len(raw) - len(raw.lstrip(" ")), raw.strip(), n])
    pos = [0]

    def is_item(s):
        return s == "-" or s.startswith("- ")

    def block(indent):
        return seq(indent) if is_item(lines[pos[0]][1]) else mapping(indent)

    def mapping(indent):
        out = {}
        while pos[0] < len(lines) and lines[pos[0]][0] == indent and not is_item(lines[pos[0]][1]):
            _, s, n = lines[pos[0]]
            kv = _key_value(s, "line %d" % n)
            if kv is None:
                raise SpecError("line %d: expected 'key: value': %r" % (n, s))
            key, rest = kv
            if key in out:
                raise SpecError("line %d: %r twice" % (n, key))
            pos[0] += 1
            if rest:
                out[key] = _scalar(rest, "line %d" % n)
            elif pos[0] < len(lines) and (lines[pos[0]][0] > indent or
                                           (lines[pos[0]][0] == indent and is_item(lines[pos[0]][1]))):
                out[key] = block(lines[pos[0]][0])
            else:
                out[key] = None
        if pos[0] < len(lines) and lines[pos[0]][0] > indent:
            raise SpecError("line %d: unexpected indentation" % lines[pos[0]][2])
        return out

    def seq(indent):
        out = []
        while pos[0] < len(lines) and lines[pos[0]][0] == indent and is_item(lines[pos[0]][1]):
            _, s, n = lines[pos[0]]
            content = s[1:].strip()
            if not content:
                pos[0] += 1
                out.append(block(lines[pos[0]][0]))
            elif _key_value(content, "line %d" % n) is not None:
                # "- key: value": a mapping whose keys line up after "- ".
                lines[pos[0]] = [indent + 2, content, n]
                out.append(mapping(indent + 2))
            else:
                out.append(_scalar(content, "line %d" % n))
                pos[0] += 1
        return out

    if not lines:
        return None
    doc = block(lines[0][0])
    if pos[0] != len(lines):
        raise SpecError("line %d: not part of the document" % lines[pos[0]][2])
    return doc


# ---- JSON Schema (the keywords the document uses) ----

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
KNOWN = {"type", "properties", "required", "additionalProperties", "items", "enum", "const",
         "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
         "anyOf", "oneOf", "allOf", "$ref", "description", "example", "examples", "format",
         "title", "default", "deprecated", "readOnly", "writeOnly", "nullable"}


def resolve(spec, ref):
    if not ref.startswith("#/"):
        raise SpecError("only local $ref: %r" % ref)
    node = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def errors(spec, schema, value, where="$"):
    """Why value does not match schema: a list of messages (empty: it does)."""
    if schema is True or schema is None:
        return []
    if schema is False:
        return ["%s: nothing is allowed here" % where]
    unknown = set(schema) - KNOWN
    if unknown:
        raise SpecError("%s: unsupported keywords %s" % (where, sorted(unknown)))
    if "$ref" in schema:
        return errors(spec, resolve(spec, schema["$ref"]), value, where)
    out = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            return ["%s: %r is not %s" % (where, value, " or ".join(types))]
    if "const" in schema and value != schema["const"]:
        out.append("%s: %r is not %r" % (where, value, schema["const"]))
    if "enum" in schema and value not in schema["enum"]:
        out.append("%s: %r is not one of %r" % (where, value, schema["enum"]))
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append("%s: %r does not match %s" % (where, value, schema["pattern"]))
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append("%s: shorter than %d" % (where, schema["minLength"]))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append("%s: longer than %d" % (where, schema["maxLength"]))
    if TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            out.append("%s: %r < %r" % (where, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            out.append("%s: %r > %r" % (where, value, schema["maximum"]))
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for k in schema.get("required") or []:
            if k not in value:
                out.append("%s: %r is missing" % (where, k))
        for k, v in value.items():
            if k in props:
                out += errors(spec, props[k], v, "%s.%s" % (where, k))
            elif "additionalProperties" in schema:
                extra = schema["additionalProperties"]
                if extra is False:
                    out.append("%s: %r is not in the document" % (where, k))
                else:
                    out += errors(spec, extra, v, "%s.%s" % (where, k))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append("%s: fewer than %d items" % (where, schema["minItems"]))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append("%s: more than %d items" % (where, schema["maxItems"]))
        if "items" in schema:
            for i, v in enumerate(value):
                out += errors(spec, schema["items"], v, "%s[%d]" % (where, i))
    for s in schema.get("allOf") or []:
        out += errors(spec, s, value, where)
    if "anyOf" in schema and all(errors(spec, s, value, where) for s in schema["anyOf"]):
        out.append("%s: matches none of anyOf" % where)
    if "oneOf" in schema:
        n = sum(1 for s in schema["oneOf"] if not errors(spec, s, value, where))
        if n != 1:
            out.append("%s: matches %d of oneOf, not 1" % (where, n))
    return out


# ---- replies against the document ----

class Document:
    def __init__(self, path=SPEC_PATH):
        with open(path, encoding="utf-8") as f:
            self.spec = load_yaml(f.read())
        if not str(self.spec.get("openapi", "")).startswith("3.1"):
            raise SpecError("not an OpenAPI 3.1 document")
        self.routes = []
        for template in self.spec.get("paths") or {}:
            literal = "{" not in template
            rx = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
            self.routes.append((not literal, template, re.compile(rx)))
        self.routes.sort()  # literal paths first: they are never an {id}

    def operation(self, method, path):
        """(template, operation or None) of a request path (no query)."""
        method = "get" if method.upper() == "HEAD" else method.lower()
        for _, template, rx in self.routes:
            if rx.match(path):
                return template, (self.spec["paths"][template] or {}).get(method)
        return None, None

    def error_schema(self):
        return {"$ref": "#/components/schemas/Error"}

    def check(self, method, path, status, content_type, body):
        """Problems of one reply: a list of messages (empty when it is as
        documented). Only JSON replies with a body are checked."""
        ctype = (content_type or "").strip()
        if not body or not ctype.startswith("application/json"):
            return []
        try:
            value = json.loads(body.decode("utf-8"))
        except ValueError as exc:
            return ["%s %s -> %d: the body is not JSON: %s" % (method, path, status, exc)]
        template, op = self.operation(method, path)
        if op is None:
            # A path or method the document does not serve: the error shape.
            schema = self.error_schema()
            where = "%s %s -> %d (undocumented path or method)" % (method, path, status)
        else:
            responses = op.get("responses") or {}
            resp = (responses.get(str(status)) or responses.get("%dXX" % (status // 100))
                    or responses.get("default"))
            if resp is None:
                return ["%s %s -> %d: the document gives no %d for %s %s"
                        % (method, path, status, status, method.upper(), template)]
            if "$ref" in resp:
                resp = resolve(self.spec, resp["$ref"])
            content = resp.get("content") or {}
            media = content.get(ctype)
            if media is None:
                norm = {k.replace(" ", ""): v for k, v in content.items()}
                media = norm.get(ctype.replace(" ", ""))
            if media is None:
                return ["%s %s -> %d: %r is not a documented content type (%s)"
                        % (method, path, status, ctype, sorted(content))]
            schema = media.get("schema")
            where = "%s %s -> %d" % (method, path, status)
        return ["%s: %s" % (where, e) for e in errors(self.spec, schema, value)]
