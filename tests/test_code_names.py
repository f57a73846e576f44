"""Production code names no function ``test_*``: pytest would collect one
imported into a test module, and a reader takes it for a test."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_PRODUCTION = {".venv", ".data", "tests", "bench", "node_modules", "staticfiles"}


def _production_modules() -> list[Path]:
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if not NOT_PRODUCTION & set(path.relative_to(ROOT).parts)
    ]


def test_no_production_function_is_named_test():
    modules = _production_modules()
    assert ROOT / "payments" / "services" / "topups.py" in modules
    named_test = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in modules
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    ]
    assert named_test == []
