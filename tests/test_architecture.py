"""The package's import graph: one-way layers, no cycles, no private names across modules.

Imports are read from the source (module level and inside functions alike), so a lazy import
that closes a cycle is caught too. Code under ``if __name__ == "__main__":`` and the
``__main__`` modules are entry points: they belong to the CLI layer wherever they sit.
"""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "slimocr_zoo"

# lowest first: a module may import its own layer's modules (without a cycle) and lower layers only
LAYERS = [
    ("base", ["errors", "version", "settings", "files", "logs"]),
    ("registry", ["registry"]),
    ("cache / fetch", ["cache", "archive", "fetch"]),
    ("artifacts", ["artifacts"]),
    ("runtime", ["runtime"]),
    ("ocr", ["ocr"]),
    ("data / metrics", ["data", "metrics"]),
    ("build", ["build"]),
    ("api", ["api", ""]),  # "": the package's __init__, the API's front door
    ("results / devices", ["results", "devices"]),
    ("runners", ["eval", "bench", "doctor", "usermodel"]),
    ("report", ["report"]),
    ("cli", ["cli"]),
]


def modules():
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = list(p.relative_to(PKG).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (p, is_pkg)
    return out


def _is_main_guard(node) -> bool:
    t = node.test if isinstance(node, ast.If) else None
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in t.comparators))


def _walk(tree):
    """Every node, except those under an ``if __name__ == "__main__":``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(c for c in ast.iter_child_nodes(node) if not _is_main_guard(c))


def imports(mods):
    """{module: {imported module: [names imported from it]}}, names relative to the package ('' is the package)."""
    graph = {}
    for mod, (path, is_pkg) in mods.items():
        edges = graph.setdefault(mod, {})
        for node in _walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if mod else []
                    base = base if is_pkg else base[:-1]
                    base = base[:len(base) - (node.level - 1)] + ([node.module] if node.module else [])
                elif node.module and (node.module == "slimocr_zoo" or node.module.startswith("slimocr_zoo.")):
                    base = node.module.split(".")[1:]
                else:
                    continue
                base = ".".join(base)
                for alias in node.names:
                    sub = f"{base}.{alias.name}" if base else alias.name
                    if sub in mods:
                        edges.setdefault(sub, [])
                    else:
                        edges.setdefault(base, []).append(alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("slimocr_zoo."):
                        edges.setdefault(alias.name[len("slimocr_zoo."):], [])
        edges.pop(mod, None)
    return graph


def layer_of(mod: str):
    if mod.endswith("__main__"):
        return len(LAYERS)  # entry points: the CLI layer and above
    for i, (_, names) in enumerate(LAYERS):
        for n in names:
            if mod == n or (n and mod.startswith(n + ".")):
                return i
    return None


GRAPH = imports(modules())


def test_every_module_has_a_layer():
    assert [m for m in GRAPH if layer_of(m) is None] == []


def test_the_analysis_sees_lazy_and_relative_imports():
    # an oracle for the reader itself: api imports ocr.make_stage inside a method, ocr imports runtime lazily
    assert "ocr" in GRAPH["api"] and "runtime" in GRAPH["ocr"]
    assert "cli" in GRAPH["bench.__main__"] and "cli" not in GRAPH["eval"]  # the __main__ guard is an entry point


def test_no_import_cycle():
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == []


def test_imports_go_down_the_layers_only():
    up = [f"{m} ({LAYERS[layer_of(m)][0] if layer_of(m) < len(LAYERS) else 'entry point'}) imports "
          f"{t} ({LAYERS[layer_of(t)][0]})"
          for m, targets in GRAPH.items() for t in targets if layer_of(t) > layer_of(m)]
    assert up == []


def test_no_module_imports_the_package_front_door():
    # slimocr_zoo/__init__ is the API's front door; a module below it that imports it closes a loop
    assert [m for m, t in GRAPH.items() if "" in t and not m.endswith("__main__")] == []


def test_no_private_name_crosses_a_module():
    mods = modules()
    bad = [f"{m} imports {t}.{n}" for m, targets in GRAPH.items() for t, names in targets.items()
           for n in names if n.startswith("_") and not n.startswith("__")]
    for mod, (path, _) in mods.items():  # module._name through an imported module
        tree = ast.parse(path.read_text("utf-8"))
        aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and (node.level or (node.module or "").startswith("slimocr_zoo"))
                   for a in node.names if (a.asname or a.name) in {m.rsplit(".", 1)[-1] for m in mods}}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{mod} uses {node.value.id}.{node.attr}")
    assert bad == []


def test_environment_is_read_in_settings_only():
    readers = [str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
               if "os.environ" in p.read_text("utf-8") and p.name != "settings.py"]
    assert readers == []
