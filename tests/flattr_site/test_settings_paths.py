"""Every dotted path in the settings that names a module, class or function
of ours resolves: a renamed or deleted class cannot linger in the settings."""

import ast
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILES = [ROOT / "flattr_site" / "settings.py", ROOT / "tests" / "settings.py"]
DOTTED = re.compile(r"[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _ours(first: str) -> bool:
    return (ROOT / first / "__init__.py").is_file()


def _dotted_paths() -> list[str]:
    """The string literals of the settings files that look like a dotted path
    into one of the project's packages (the source, not the values: a path
    that only a later line replaces is still a path someone will read)."""
    found: set[str] = set()
    for path in SETTINGS_FILES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if DOTTED.fullmatch(text) and _ours(text.split(".")[0]):
                    found.add(text)
    return sorted(found)


def _resolve(path: str) -> object:
    try:
        return import_module(path)
    except ImportError:
        pass
    module, _, name = path.rpartition(".")
    if "." not in module and name[:1].isupper() and apps.is_installed(module):
        return apps.get_model(module, name)  # a model label: AUTH_USER_MODEL
    return import_string(path)


def test_the_settings_name_paths_of_ours():
    paths = _dotted_paths()
    # The scan sees the settings: a sample of what it must find.
    assert {
        "flattr_site.urls",
        "core.cache.FailSoftRedisCache",
        "accounts.User",
        "payouts.tasks.payout_sweep",
    } <= set(paths)


@pytest.mark.parametrize("path", _dotted_paths())
def test_every_dotted_path_in_the_settings_resolves(path):
    assert _resolve(path) is not None
