"""The layers of the package, checked on every import statement (lazy ones inside functions too).

Bottom up (README, "Design"):
    errors, atomic, plain, assets/, validate, native_log | face/, vocab/, audio/io   the shared ground
    render/, export/, audio/, text/                            media and encoders
    model/                                                     the style generator, knows nothing of data
    pipeline, head_motion, style_control, stream               inference: the one generation path, streaming
    data/, eval/, train, distributed, train_stream             the data engine, evaluation, training
    animate, server, commands/, cli                            the user's entry points
A module may import its own layer and the ones below, with the exceptions listed here.
"""
from __future__ import annotations

import ast
from pathlib import Path

import talkstyle

ROOT = Path(talkstyle.__file__).parent

LAYERS = [
    {"errors", "atomic", "plain", "assets", "validate", "native_log", "face", "vocab", "audio.io", "__init__"},
    {"render", "export", "audio", "text"},
    {"model"},
    {"pipeline", "head_motion", "style_control", "stream", "stream_onnx"},
    {"data", "eval", "train", "distributed", "train_stream"},
    {"animate", "server", "web", "commands", "cli", "__main__"},
]

# Within a layer, who may not import whom.
FORBIDDEN = {
    "data": ("eval", "train"),             # the engine makes datasets; it does not evaluate or train on them
    "face": ("audio", "vocab"),
    "vocab": ("face", "audio"),
    "audio.io": ("face", "vocab"),
    "assets": ("errors", "atomic", "plain", "face", "vocab", "audio.io"),   # the locator stands alone: everyone uses it
}

# Where a lower layer imports a higher one, and why it must.
ALLOWED = {
    # The data engine's training-data packing turns records into model batches: it needs the
    # model's batch type and its attribute encoding.
    ("data.pack", "model"),
}


def _unit(module: str) -> str:
    """The layer unit of a module path: 'audio.io' or a top-level package / module name."""
    if module.startswith("audio.io"):
        return "audio.io"
    return module.split(".")[0]


def _layer(unit: str) -> int:
    for i, layer in enumerate(LAYERS):
        if unit in layer:
            return i
    raise AssertionError(f"{unit} is in no layer: add it to LAYERS in {__file__}")


def _imports(path: Path) -> list[str]:
    """Every talkstyle module `path` imports, as paths relative to the package ('model.config')."""
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []))]
                if not node.module:                 # `from . import x`: x is a module of the package
                    names = [".".join(base + [a.name]) for a in node.names]
            elif node.module and node.module.startswith("talkstyle"):
                names = [node.module.removeprefix("talkstyle").lstrip(".")]
            else:
                continue
            out += names
        elif isinstance(node, ast.Import):
            out += [a.name.removeprefix("talkstyle").lstrip(".") for a in node.names if a.name.startswith("talkstyle")]
    return [m for m in out if m]


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_layers_point_down():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        module = _module(path)
        unit = _unit(module)
        for target in _imports(path):
            tunit = _unit(target)
            if tunit == unit:
                continue
            allowed = any(module.startswith(m) and target.startswith(t) for m, t in ALLOWED)
            upward = _layer(tunit) > _layer(unit)
            sideways = tunit in FORBIDDEN.get(unit, ())
            if (upward or sideways) and not allowed:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_model_knows_nothing_of_data_and_inference_nothing_of_the_engine():
    # The two rules the layers exist for, spelled out so that a change of LAYERS cannot drop them.
    for path in sorted(ROOT.rglob("*.py")):
        module = _module(path)
        if _unit(module) in ("model", "pipeline", "head_motion", "style_control", "text", "audio", "face", "vocab"):
            bad = [t for t in _imports(path) if _unit(t) in ("data", "eval", "train", "distributed", "commands", "cli", "animate")
                   and not any(module.startswith(m) and t.startswith(x) for m, x in ALLOWED)]
            assert not bad, f"{module} imports {bad}"


def _module_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (lazy imports too; `from pkg import name` counts
    as importing pkg, or pkg.name where that is a module)."""
    paths = {_module(p).removesuffix(".__init__"): p for p in ROOT.rglob("*.py")}
    graph = {}
    for module, path in paths.items():
        targets = set()
        for t in _imports(path):
            t = t.removesuffix(".__init__")
            while t and t not in paths:
                t = t.rpartition(".")[0]
            if t and t != module:
                targets.add(t)
        graph[module] = targets
    return graph


def test_no_import_cycles():
    # Between modules, lazy imports included: a cycle hidden inside a function is still a cycle.
    graph, state, cycles = _module_graph(), {}, []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                cycles.append(" -> ".join(stack[stack.index(t):] + [m, t]) if t in stack else f"{m} -> {t}")
            elif t not in state:
                visit(t, stack + [m])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_packaged_files_are_found_through_the_one_locator():
    # `Path(__file__)...` and importlib.resources lookups of assets live only in talkstyle/assets.
    for path in sorted(ROOT.rglob("*.py")):
        if _module(path) == "assets.__init__":
            continue
        text = path.read_text()
        assert "resources.files" not in text and '/ "assets"' not in text, f"{_module(path)}: use talkstyle.assets.path"


def test_commands_do_not_import_the_cli():
    for path in sorted((ROOT / "commands").glob("*.py")):
        assert "cli" not in {_unit(t) for t in _imports(path)}, path.name
