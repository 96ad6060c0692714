"""The package's shape (docs/architecture.md): layers that never import upwards, a small
package root, a cheap ``import nmfbio`` with every namespace reachable, an instant
``nmfbio --help``, and the old import paths kept working."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "nmfbio"

#: layer of each top-level part of the package (a lower layer never imports a higher one)
LAYERS = {
    "errors": 0, "_keys": 0, "_atomic": 0, "_progress": 0, "_warn": 0, "_validation": 0,
    "_store": 0, "solver": 1, "data": 2, "io": 2, "datasets": 2, "model_selection": 3,
    "signatures": 4, "assemblies": 4, "programs": 4, "plot": 5, "report": 5, "cli": 6,
}
FACES = {"plot", "report", "cli"}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        if rel.parts[0] in ("__init__", "__main__"):
            continue
        yield rel.parts[0], path


def _imports(path: Path, *, module_level: bool):
    """The nmfbio parts (first name after 'nmfbio.') that a file imports, with line numbers;
    only the statements at module level when asked (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if module_level else list(ast.walk(tree))
    if module_level:  # also imports under module-level if/try blocks
        nodes = [n for top in tree.body for n in ast.walk(top)
                 if not isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "nmfbio":
                names = [f"nmfbio.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "nmfbio" and len(parts) > 1:
                yield parts[1], node.lineno


def test_no_layer_imports_a_higher_one_at_module_level():
    bad = []
    for part, path in _modules():
        for target, line in _imports(path, module_level=True):
            if target in LAYERS and LAYERS[target] > LAYERS[part]:
                bad.append(f"{path.relative_to(PKG.parent)}:{line} ({part} imports {target})")
    assert not bad, "\n".join(bad)


def test_below_the_faces_plot_report_cli_are_imported_only_inside_functions():
    """Result objects' .plot_*() accessors import nmfbio.plot when called (pandas' pattern);
    nothing below the faces imports report/ or cli/ at all, and report/ never imports cli/."""
    bad = []
    for part, path in _modules():
        for target, line in _imports(path, module_level=False):
            if part not in FACES and target in {"report", "cli"}:
                bad.append(f"{path.relative_to(PKG.parent)}:{line} ({part} imports {target})")
            if part == "report" and target == "cli":
                bad.append(f"{path.relative_to(PKG.parent)}:{line} (report imports cli)")
    assert not bad, "\n".join(bad)


def test_solver_knows_only_arrays():
    """No anndata anywhere in solver/, pandas only inside NMFResult's table accessors
    (W_frame/H_frame, imported when called, like the plot accessors)."""
    bad = []
    for path in sorted((PKG / "solver").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                first = name.split(".")[0]
                if first == "anndata" or (first == "pandas" and id(node) in top):
                    bad.append(f"{path.name}:{node.lineno} imports {name}")
    assert not bad, "\n".join(bad)


def test_package_root_is_small_and_cli_has_its_own_package():
    root = sorted(p.name for p in PKG.glob("*.py"))
    assert len(root) <= 12, root
    assert not [name for name in root if name.startswith("_cli")]
    assert (PKG / "cli" / "__init__.py").is_file()
    assert (PKG / "model_selection" / "__init__.py").is_file()


def test_test_files_have_unique_names():
    # the tests folders are not packages: pytest's default import mode collects two test
    # files of one basename as one module and stops with "import file mismatch"
    tests = Path(__file__).resolve().parent
    seen: dict[str, Path] = {}
    for path in sorted(tests.rglob("test_*.py")):
        assert path.name not in seen, f"{path} and {seen[path.name]} share a name"
        seen[path.name] = path


def _python(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


NAMESPACES = ["io", "signatures", "assemblies", "programs", "plot", "report", "datasets",
              "model_selection", "solver"]


def test_import_nmfbio_loads_nothing_heavy_and_reaches_every_namespace():
    out = _python(
        "import sys, types, nmfbio\n"
        "print(sorted(m for m in ('numba', 'matplotlib', 'anndata', 'pandas') "
        "if m in sys.modules))\n"
        f"for name in {NAMESPACES!r}:\n"
        "    assert isinstance(getattr(nmfbio, name), types.ModuleType), name\n"
        "print(callable(nmfbio.fit), callable(nmfbio.consensus), callable(nmfbio.select_rank),"
        " nmfbio.anchors.__name__, nmfbio.NMFResult.__name__)\n")
    first, second = out.splitlines()
    assert first == "[]"
    assert second == "True True True nmfbio.model_selection.anchors NMFResult"


def test_help_loads_no_command_module():
    out = _python(
        "import sys, contextlib, io\n"
        "from nmfbio.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as text:\n"
        "    code = main(['--help'])\n"
        "assert code == 0 and 'signatures' in text.getvalue()\n"
        "print(sorted(m for m in sys.modules if m.startswith('nmfbio.cli.')))\n"
        "print([m for m in ('numba', 'matplotlib', 'anndata', 'pandas') if m in sys.modules])\n")
    assert out.splitlines() == ["['nmfbio.cli._common']", "[]"]


@pytest.mark.parametrize("old, new, name", [
    ("nmfbio.consensus", "nmfbio.model_selection.consensus", "ConsensusResult"),
    ("nmfbio.rank", "nmfbio.model_selection.rank", "RankSelection"),
    ("nmfbio.anchors", "nmfbio.model_selection.anchors", "separability"),
    ("nmfbio.matching", "nmfbio.model_selection.matching", "cosine_matrix"),
    ("nmfbio.shards", "nmfbio.model_selection._shards", "consensus_runs"),
])
def test_old_import_paths_keep_working(old, new, name):
    import importlib

    import nmfbio

    obj = getattr(importlib.import_module(old), name)
    assert obj is getattr(importlib.import_module(new), name)
    assert importlib.import_module(old) is importlib.import_module(new)
    assert callable(nmfbio.consensus) and callable(nmfbio.select_rank)  # not the modules
    assert importlib.import_module(new).__spec__.name == new
