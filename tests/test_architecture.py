"""The shape of the code, checked: `core` never reaches for the console, and no module of `core`
depends on itself through others — counting imports made inside functions, which exist only to
dodge a cycle the graph would otherwise show."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: str) -> dict[str, set[str]]:
    """Every module of `package` and the modules of `package` it imports, anywhere in its body."""
    modules = {module_name(path): path for path in (ROOT / package).rglob("*.py")
               if "migrations" not in path.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_core_has_no_import_cycle():
    assert cycles(import_graph("core")) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_core_never_imports_the_console():
    for module, path in ((module_name(p), p) for p in (ROOT / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {name for name in names if name.split(".")[0] in ("tui", "textual")}, module


def test_the_import_contracts_hold():
    """pyproject.toml's contracts: core never imports the console or Textual, the layers go one way
    (entry point, console, core), and the production sync never loads the demo store."""
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    result = subprocess.run([linter, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_channel_settings_are_read_in_the_configuration_module_only():
    """A channel's stored settings are parsed by core.config alone; everyone else gets a ChannelConfig."""
    for path in (ROOT / "core").rglob("*.py"):
        if path.name == "config.py":
            continue
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            assert not ("settings_json" in line and ("json.loads" in line or "validate_json" in line)), \
                f"{path.relative_to(ROOT)}: {line.strip()}"


# Where outside text could become markup: the widgets and calls that read a str as markup.
MARKUP_READERS = {"Static", "Label", "DataTable"}
MARKUP_CALLS = {"from_markup"}
PLAIN_TEXT_HOMES = {"tui/plain.py", "tui/widgets/line.py", "tui/widgets/plain_table.py"}


def markup_doors(source: str) -> list[str]:
    """The places in a console module where a str could be read as markup."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("textual.widgets"):
            found += [f"imports {alias.name}" for alias in node.names if alias.name in MARKUP_READERS]
        elif isinstance(node, ast.Attribute) and node.attr in MARKUP_CALLS:
            found.append(f"calls {node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Option"
              and node.args and not (isinstance(node.args[0], ast.Call) and isinstance(node.args[0].func, ast.Name)
                                     and node.args[0].func.id in ("plain", "_"))):
            found.append("makes an Option of a str that is neither plain() nor the console's own _()")
        elif isinstance(node, ast.keyword) and node.arg == "markup" and not (
                isinstance(node.value, ast.Constant) and node.value.value is False):
            found.append("passes markup=")
    return found


def test_outside_text_reaches_the_screen_one_way():
    """Words on screen go through tui.widgets.line.Line, tables through PlainTable, and styled
    text through tui.plain.styled: no other console module may hold a widget or a call that reads
    a str as markup (querying for a DataTable by type is fine: it finds a PlainTable)."""
    doors = {}
    for path in sorted((ROOT / "tui").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in PLAIN_TEXT_HOMES:
            continue
        found = [door for door in markup_doors(path.read_text(encoding="utf-8")) if door != "imports DataTable"]
        source = path.read_text(encoding="utf-8")
        if "DataTable(" in source.replace("PlainTable(", ""):
            found.append("makes a DataTable")
        if found:
            doors[relative] = found
    assert not doors, doors


def test_the_markup_door_finder_finds_doors():
    source = ("from textual.widgets import Static\nx = Text.from_markup(name)\nOption(name, markup=True)\n")
    assert sorted(markup_doors(source)) == sorted([
        "imports Static", "calls from_markup", "passes markup=",
        "makes an Option of a str that is neither plain() nor the console's own _()"])
    assert markup_doors("Option(plain(name))\nOption(_('Keys'))\n") == []
