#!/usr/bin/env python3
"""Writes the job spec's field reference in docs/spec.md from openapi/openapi.json.

    python3 docs/spec_reference.py          rewrite the generated section in place
    python3 docs/spec_reference.py --check  exit 1 if the section is out of date (CI)

It starts at the `JobSpec` schema, follows every `$ref` (through properties, items, maps,
`oneOf`, `anyOf` and `allOf`) and renders one table per object schema (field, type, required,
description), one per variant of a tagged union such as `Step`, and one table of the value
types (enums and unions of plain values). Python 3 standard library only; the output depends
only on the OpenAPI document.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi" / "openapi.json"
DOC = ROOT / "docs" / "spec.md"
ROOT_SCHEMA = "JobSpec"
BEGIN = "<!-- BEGIN GENERATED: spec fields -->"
END = "<!-- END GENERATED: spec fields -->"
REF_PREFIX = "#/components/schemas/"


def ref_name(schema):
    ref = schema.get("$ref", "")
    return ref[len(REF_PREFIX):] if ref.startswith(REF_PREFIX) else None


def children(schema):
    """The sub-schemas of `schema`, in document order."""
    if not isinstance(schema, dict):
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, []):
            yield sub
    for sub in schema.get("properties", {}).values():
        yield sub
    for key in ("items", "additionalProperties"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            yield sub


def reachable(schemas, root):
    """Schema names reachable from `root`, breadth first, in order of first reference."""
    order, queue, seen = [], [root], {root}
    while queue:
        name = queue.pop(0)
        order.append(name)
        stack = [schemas[name]]
        found = []
        while stack:
            schema = stack.pop(0)
            target = ref_name(schema)
            if target is not None:
                found.append(target)
            stack[:0] = list(children(schema))
        for target in found:
            if target not in seen:
                if target not in schemas:
                    sys.exit(f"{OPENAPI}: {name} refers to a missing schema {target!r}")
                seen.add(target)
                queue.append(target)
    return order


def is_object(schema):
    return "properties" in schema


def is_tagged_union(schema):
    variants = schema.get("oneOf", [])
    return bool(variants) and all(is_object(v) for v in variants)


def tag_of(variant):
    """The property whose value names the variant (an enum of one value), and that value."""
    for field, sub in variant.get("properties", {}).items():
        values = sub.get("enum")
        if isinstance(values, list) and len(values) == 1:
            return field, values[0]
    return None, None


def anchor(name):
    return name.lower()


def code(value):
    return "`" + (value if isinstance(value, str) else json.dumps(value)) + "`"


def bounds(schema):
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f" {low}–{high}"
    if low is not None:
        return f" ≥ {low}"
    if high is not None:
        return f" ≤ {high}"
    return ""


def type_of(schema, links):
    """A short type for people, e.g. `array of [Step](#step)`, `map of string → string`."""
    name = ref_name(schema)
    if name is not None:
        return f"[{name}](#{links[name]})"
    variants = [v for v in schema.get("oneOf", schema.get("anyOf", [])) if v.get("type") != "null"]
    nullable = len(variants) < len(schema.get("oneOf", schema.get("anyOf", [])))
    if variants:
        text = " or ".join(type_of(v, links) for v in variants)
        return text + (" or null" if nullable else "")
    if "allOf" in schema:
        return " and ".join(type_of(v, links) for v in schema["allOf"])
    if "enum" in schema:
        return ", ".join(code(v) for v in schema["enum"])
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    nullable = "null" in kinds
    kinds = [k for k in kinds if k != "null"] or ["null"]
    parts = []
    for kind in kinds:
        if kind == "array" and isinstance(schema.get("items"), dict):
            parts.append("array of " + type_of(schema["items"], links))
        elif kind == "object" and isinstance(schema.get("additionalProperties"), dict):
            parts.append("map of string → " + type_of(schema["additionalProperties"], links))
        elif kind in ("integer", "number"):
            parts.append(kind + bounds(schema))
        else:
            parts.append(kind)
    text = " or ".join(parts)
    return text + (" or null" if nullable else "")


def cell(text):
    """Text fit for one table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def description(schema):
    """The field's own description, or its `$ref` wrapper's, plus its default."""
    text = schema.get("description", "")
    if not text:
        for sub in schema.get("oneOf", []) + schema.get("allOf", []):
            if sub.get("description"):
                text = sub["description"]
                break
    if "default" in schema:
        text = (text + " " if text else "") + f"Default {code(schema['default'])}."
    return cell(text)


def field_table(schema, links):
    required = set(schema.get("required", []))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for field, sub in schema.get("properties", {}).items():
        rows.append(
            f"| `{field}` | {cell(type_of(sub, links))} | {'yes' if field in required else 'no'} "
            f"| {description(sub)} |"
        )
    return rows


def inline_variants(schemas):
    """A discriminated union's variants are schemas of their own in the document (for
    generated clients); the reference shows them under the union, as before."""
    for schema in schemas.values():
        if "discriminator" in schema:
            schema["oneOf"] = [schemas.get(ref_name(v), v) for v in schema["oneOf"]]


def render(document):
    schemas = document.get("components", {}).get("schemas", {})
    inline_variants(schemas)
    if ROOT_SCHEMA not in schemas:
        sys.exit(f"{OPENAPI}: no components.schemas.{ROOT_SCHEMA}")
    names = reachable(schemas, ROOT_SCHEMA)
    values = sorted(n for n in names if not is_object(schemas[n]) and not is_tagged_union(schemas[n]))
    links = {n: ("value-types" if n in values else anchor(n)) for n in names}
    out = [
        "Generated from `openapi/openapi.json` by `python3 docs/spec_reference.py`; do not edit",
        "by hand. A field that is not required may be left out; a type that ends in `or null` also",
        "takes `null`, which means the same as leaving the field out.",
        "",
    ]
    for name in names:
        schema = schemas[name]
        if name in values:
            continue
        out.append(f"### {name}")
        out.append("")
        if schema.get("description"):
            out += [cell(schema["description"]), ""]
        if is_tagged_union(schema):
            for variant in schema["oneOf"]:
                tag, value = tag_of(variant)
                label = f"`{tag}: {value}`" if tag else "variant"
                out.append(f"#### {name} {label}")
                out.append("")
                if variant.get("description"):
                    out += [cell(variant["description"]), ""]
                out += field_table(variant, links)
                out.append("")
        else:
            if schema.get("additionalProperties") is False:
                out += ["Unknown fields are refused.", ""]
            out += field_table(schema, links)
            out.append("")
    if values:
        out += ["### Value types", "", "| type | values | description |", "|---|---|---|"]
        for name in values:
            schema = schemas[name]
            out.append(f"| `{name}` | {cell(type_of(schema, links))} | {cell(schema.get('description', ''))} |")
        out.append("")
    return "\n".join(out)


def splice(text, section):
    """`text` with the part between the markers replaced by `section`."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        sys.exit(f"{DOC}: expected the markers {BEGIN!r} and then {END!r}")
    return text[: start + len(BEGIN)] + "\n\n" + section + "\n" + text[end:]


def main(argv):
    check = argv[1:] == ["--check"]
    if argv[1:] and not check:
        sys.exit(__doc__)
    with open(OPENAPI, encoding="utf-8") as f:
        document = json.load(f)
    current = DOC.read_text(encoding="utf-8")
    wanted = splice(current, render(document))
    if check:
        if wanted != current:
            print(
                f"{DOC.relative_to(ROOT)} is out of date with {OPENAPI.relative_to(ROOT)}: "
                "run `python3 docs/spec_reference.py` and commit the result",
                file=sys.stderr,
            )
            return 1
        print(f"{DOC.relative_to(ROOT)}: the spec field reference is up to date")
        return 0
    if wanted != current:
        DOC.write_text(wanted, encoding="utf-8")
        print(f"rewrote the spec field reference in {DOC.relative_to(ROOT)}")
    else:
        print(f"{DOC.relative_to(ROOT)}: already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
