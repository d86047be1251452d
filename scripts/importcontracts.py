"""A contract type for import-linter (pyproject.toml, [tool.importlinter]): which modules may
import given submodules of an installed package, e.g. PySide6.QtWidgets.

import-linter's own contracts see an installed package only as a whole (PySide6, never
PySide6.QtWidgets): its import graph stops at the package's name. This contract takes from the
graph the modules that import the package, and reads their source for which of its submodules
they import, lazily imported ones (inside a function) included.

    [[tool.importlinter.contracts]]
    type = "external_submodules"
    protected_modules = ["PySide6.QtWidgets"]
    allowed_importers = ["hallclient.ui"]  # with the modules under it
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True, slots=True)
class IllegalImport:
    importer: str
    imported: str
    line: int


class ExternalSubmodulesContract(Contract):
    type_name = "external_submodules"

    protected_modules = fields.ListField(subfield=fields.StringField())
    allowed_importers = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        protected: list[str] = list(self.protected_modules)
        allowed: list[str] = list(self.allowed_importers)
        illegal: list[IllegalImport] = []
        for package in sorted({name.split(".")[0] for name in protected}):
            if package not in graph.modules:
                continue  # nothing imports it at all
            for importer in sorted(graph.find_modules_that_directly_import(package)):
                if _is_within(importer, allowed):
                    continue
                lines: dict[int, str] = {}  # one per import statement: its first match
                for line, name in _imported_modules(importer):
                    if _is_within(name, protected):
                        lines.setdefault(line, name)
                illegal += [IllegalImport(importer, name, line) for line, name in lines.items()]
        return ContractCheck(kept=not illegal, metadata={"illegal_imports": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for found in check.metadata["illegal_imports"]:
            output.print_error(f"{found.importer} -> {found.imported} (l.{found.line})",
                               bold=False)
            output.new_line()


def _is_within(module: str, packages: list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _source(module: str) -> Path:
    """The file of one of the linted packages' modules, found without importing it (only its
    top-level package is imported)."""
    top, *rest = module.split(".")
    spec = find_spec(top)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"cannot find the package {top}")
    path = Path(spec.origin).parent.joinpath(*rest)
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _imported_modules(module: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in the module: for `from a.b import c`, both
    a.b and a.b.c, since c may be a submodule."""
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found
