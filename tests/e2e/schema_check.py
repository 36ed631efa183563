"""A small JSON Schema validator in plain Python for the keywords docs/hvrun-results.schema.json
uses (type, const, enum, required, properties, additionalProperties, items, minimum, maximum,
exclusiveMinimum, pattern). A keyword it does not know is an error, so a schema that grows a
new keyword cannot pass unchecked."""

import re

ANNOTATIONS = {"$schema", "$id", "title", "description"}
KNOWN = ANNOTATIONS | {"type", "const", "enum", "required", "properties", "additionalProperties",
                       "items", "minimum", "maximum", "exclusiveMinimum", "pattern"}


def type_ok(value, name):
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise ValueError("unknown type %r in the schema" % name)


def same(a, b):
    """JSON equality: 1 and True differ, 1 and 1.0 do not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def errors(value, schema, where="$"):
    """Every way value violates schema, as 'PATH: what' strings (empty when valid)."""
    unknown = set(schema) - KNOWN
    if unknown:
        raise ValueError("%s: schema keywords this checker does not know: %s"
                         % (where, ", ".join(sorted(unknown))))
    out = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(type_ok(value, n) for n in names):
            return ["%s: %r is not of type %s" % (where, value, "/".join(names))]
    if "const" in schema and not same(value, schema["const"]):
        out.append("%s: %r is not %r" % (where, value, schema["const"]))
    if "enum" in schema and not any(same(value, e) for e in schema["enum"]):
        out.append("%s: %r is not one of %r" % (where, value, schema["enum"]))
    numeric = type_ok(value, "number")
    if numeric and "minimum" in schema and value < schema["minimum"]:
        out.append("%s: %r is below the minimum %r" % (where, value, schema["minimum"]))
    if numeric and "maximum" in schema and value > schema["maximum"]:
        out.append("%s: %r is above the maximum %r" % (where, value, schema["maximum"]))
    if numeric and "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        out.append("%s: %r is not above %r" % (where, value, schema["exclusiveMinimum"]))
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        out.append("%s: %r does not match /%s/" % (where, value, schema["pattern"]))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                out.append("%s: lacks the required key %r" % (where, key))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            path = "%s.%s" % (where, key)
            if key in props:
                out += errors(item, props[key], path)
            elif extra is False:
                out.append("%s: key not allowed by the schema" % path)
            elif isinstance(extra, dict):
                out += errors(item, extra, path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            out += errors(item, schema["items"], "%s[%d]" % (where, i))
    return out


def self_test():
    """The checker rejects what it must (run by the e2e case before it trusts a pass)."""
    schema = {"type": "object", "required": ["a"], "additionalProperties": False,
              "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 3},
                             "b": {"type": ["string", "null"], "pattern": "^x"},
                             "c": {"type": "array", "items": {"enum": [1, 2]}},
                             "d": {"type": "object", "additionalProperties": {"type": "integer"}},
                             "e": {"const": "k"}, "f": {"type": "number", "exclusiveMinimum": 0}}}
    good = {"a": 1, "b": None, "c": [1, 2], "d": {"x": 1}, "e": "k", "f": 0.5}
    bad = [{}, {"a": True}, {"a": 4}, {"a": -1}, {"a": 1, "b": "y"}, {"a": 1, "c": [3]},
           {"a": 1, "d": {"x": "1"}}, {"a": 1, "e": "j"}, {"a": 1, "f": 0}, {"a": 1, "z": 0},
           {"a": 1.5}, []]
    if errors(good, schema):
        return "schema_check rejects a valid document: %s" % errors(good, schema)
    for doc in bad:
        if not errors(doc, schema):
            return "schema_check accepts the invalid document %r" % doc
    try:
        errors({}, {"oneOf": []})
    except ValueError:
        return None
    return "schema_check accepts an unknown keyword"
