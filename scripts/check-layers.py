#!/usr/bin/python3
"""Check the architecture of src/ (src/README.md): layers, the engine's order, one home for HDF5.

    scripts/check-layers.py            # prints each violation; exit status 1 if any

1. Layers. A file of src/LAYER/ may include, and call functions defined in, only its own layer
   and the layers below it:  util < scenario < engine < io < run < analysis < cli.
   Public headers (include/trustsim/NAME.h) belong to the layer whose folder implements them.
2. The engine has no circle. Its modules (a .c file and its .h) are ranked in ENGINE_ORDER;
   a module may call and include only modules ranked below it, so the steps of a tick never
   call back into the loop that orders them.
3. Only src/io/ speaks HDF5: no other file calls an H5 function (the reader and the writer of
   result files live there).

Dependencies are read from the text: #include lines, and calls of ts_ functions matched
against the non-static functions each file defines (and static inline ones in headers).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INCLUDE = os.path.join(ROOT, "include", "trustsim")

LAYERS = ["util", "scenario", "engine", "io", "run", "analysis", "cli"]

# Public headers with no .c file of the same name: the layer they belong to.
HEADER_LAYER = {"result": "engine"}
# Public headers of types that the engine's bottom module holds (sim.h declares the opaque
# ts_sim that engine/state.h defines): including them is not a use of the module on top.
HEADER_MODULE = {"result": "state", "sim": "state"}

# The engine's modules from the bottom up: each may use only those before it.
ENGINE_ORDER = ["fading", "beliefs", "model", "metrics", "state", "stages", "trust", "faith", "observe",
                "acts", "events", "sim"]

CALL = re.compile(r"\b(ts_[A-Za-z0-9_]+)\s*\(")
DEFN = re.compile(r"^(?!static\b)(?:[A-Za-z_][\w \t\*]*?[\s\*])(ts_[A-Za-z0-9_]+)\s*\(", re.M)
INLINE = re.compile(r"^static inline [\w \t\*]*?[\s\*](ts_[A-Za-z0-9_]+)\s*\(", re.M)
INCL = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
H5CALL = re.compile(r"\bH5[A-Z][A-Za-z]*_?[A-Za-z0-9_]*\s*\(")


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def strip_strings(text):
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def sources():
    for layer in LAYERS:
        folder = os.path.join(SRC, layer)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if name.endswith((".c", ".h")):
                yield layer, os.path.join(folder, name)


def module_of(layer, path):
    return (layer, os.path.splitext(os.path.basename(path))[0])


def main():
    problems = []
    public = {}  # header stem -> layer
    impl = {(layer, os.path.splitext(os.path.basename(p))[0]) for layer, p in sources()}
    for name in sorted(os.listdir(INCLUDE)):
        stem = name[:-2]
        layers = [layer for layer, mod in impl if mod == stem and layer != "cli"]
        layer = HEADER_LAYER.get(stem) or (layers[0] if len(layers) == 1 else None)
        if layer is None:
            problems.append(f"include/trustsim/{name}: no layer (add it to HEADER_LAYER)")
            continue
        public[stem] = layer

    texts, defined = {}, {}
    for layer, path in sources():
        text = strip_comments(open(path, encoding="utf-8").read())
        texts[path] = (layer, text)
        text = strip_strings(text)
        pattern = INLINE if path.endswith(".h") else DEFN
        for fn in pattern.findall(text):
            defined.setdefault(fn, module_of(layer, path))
    for name in os.listdir(INCLUDE):  # inline functions of public headers
        text = strip_comments(open(os.path.join(INCLUDE, name), encoding="utf-8").read())
        for fn in INLINE.findall(text):
            defined.setdefault(fn, (public.get(name[:-2], "util"), name[:-2]))
        # public headers among themselves
        for inc in INCL.findall(text):
            if inc.startswith("trustsim/") and name[:-2] in public:
                a, b = public[name[:-2]], public.get(inc[9:-2])
                if b and LAYERS.index(b) > LAYERS.index(a):
                    problems.append(f"include/trustsim/{name}: includes {inc} of layer {b}")

    engine_rank = {m: i for i, m in enumerate(ENGINE_ORDER)}
    for path, (layer, text) in sorted(texts.items()):
        rel = os.path.relpath(path, ROOT)
        me = module_of(layer, path)
        uses = set()
        for inc in INCL.findall(text):
            if inc.startswith("trustsim/"):
                stem = inc[9:-2]
                if stem in public:
                    mod = HEADER_MODULE.get(stem, stem)
                    uses.add(((public[stem], mod), f"includes {inc}"))
            elif "/" in inc:
                lay, stem = inc.split("/", 1)
                uses.add(((lay, os.path.splitext(stem)[0]), f"includes {inc}"))
        code = strip_strings(text)
        for fn in set(CALL.findall(code)):
            target = defined.get(fn)
            if target and target != me:
                uses.add((target, f"calls {fn}"))
        for (lay, mod), how in sorted(uses):
            if lay not in LAYERS:
                continue
            if LAYERS.index(lay) > LAYERS.index(layer):
                problems.append(f"{rel}: {how}, of the higher layer {lay}")
            elif layer == "engine" and lay == "engine" and mod != me[1]:
                if me[1] not in engine_rank or mod not in engine_rank:
                    unranked = me[1] if me[1] not in engine_rank else mod
                    problems.append(f"{rel}: engine module '{unranked}' is not in ENGINE_ORDER")
                elif engine_rank[mod] > engine_rank[me[1]]:
                    problems.append(f"{rel}: {how}, of engine module '{mod}' above it")
        if layer != "io" and H5CALL.search(code):
            problems.append(f"{rel}: calls HDF5 ({H5CALL.search(code).group(0)}...), "
                            "which only src/io/ may do")

    for p in problems:
        print(p)
    n = len(texts)
    print(f"check-layers: {len(problems)} problem(s) in {n} files", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
