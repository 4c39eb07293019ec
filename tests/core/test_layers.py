"""The pure core and the dialogs load no database, channel, web or file-format library: imported in a fresh
interpreter, none of those packages may appear in `sys.modules` (import-linter checks the same statically)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "telegram", "twilio", "starlette", "uvicorn", "matplotlib", "openpyxl")


def _modules(package: str) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


PURE = [*_modules("domain"), *_modules("bot/dialogs"), *_modules("bot/texts")]


def _loaded_after_import(*modules: str) -> list[str]:
    """The heavy packages in `sys.modules` of a fresh interpreter after importing `modules`."""
    probe = (
        f"import importlib, json, sys; [importlib.import_module(m) for m in {list(modules)!r}]; "
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))))"
    )
    command = [sys.executable, "-c", probe]  # our own interpreter and a fixed probe
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    return list(json.loads(done.stdout))


def test_every_pure_module_is_listed() -> None:
    assert {"domain.rules", "bot.dialogs.dialog", "bot.dialogs.admin", "bot.texts"} <= set(PURE)


def test_pure_modules_load_no_heavy_library() -> None:
    loaded = _loaded_after_import(*PURE)
    culprits = {module: heavy for module in PURE if loaded and (heavy := _loaded_after_import(module))}
    assert loaded == [], f"loaded by: {culprits}"


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a module that does load SQLAlchemy is caught."""
    assert "sqlalchemy" in _loaded_after_import("domain.rules", "storage.models")
