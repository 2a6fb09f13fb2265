"""The environment Reflex needs to run offline with the project's own bun and node."""

from __future__ import annotations

import os
from collections.abc import Mapping

from credits_app.settings import PROJECT_ROOT

TOOLS_BIN = PROJECT_ROOT / ".tools" / "node_modules" / ".bin"
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"

# Reflex would otherwise download bun with curl from GitHub (unreachable offline),
# probe registry mirrors and send telemetry.
OFFLINE_DEFAULTS = {
    "REFLEX_USE_SYSTEM_BUN": "1",
    "REFLEX_USE_SYSTEM_NODE": "1",
    "NPM_CONFIG_REGISTRY": "https://registry.npmjs.org/",
    "REFLEX_TELEMETRY_ENABLED": "false",
    "TELEMETRY_ENABLED": "false",
}


def reflex_env(base: Mapping[str, str] | None = None, **overrides: str) -> dict[str, str]:
    """Return an environment for `reflex run` with the project toolchain first on PATH.

    Args:
        base: The environment to start from (default: this process's).
        **overrides: Variables to set on top.

    Returns:
        A new environment mapping.
    """
    env = dict(os.environ if base is None else base)
    for name, value in OFFLINE_DEFAULTS.items():
        env.setdefault(name, value)
    paths = [str(TOOLS_BIN), str(VENV_BIN), env.get("PATH", "")]
    env["PATH"] = os.pathsep.join(p for p in paths if p)
    env.update(overrides)
    return env


def reflex_command(*args: str) -> list[str]:
    """Return the command line that runs the Reflex CLI of this interpreter."""
    import sys

    return [sys.executable, "-m", "reflex", *args]


def has_frontend_toolchain() -> bool:
    """Tell whether bun is installed in .tools (what `make setup` does)."""
    return (TOOLS_BIN / "bun").exists()
