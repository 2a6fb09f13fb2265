"""The dev server on the page's port: the security headers, and /api passed to the backend.

In dev mode the pages come from Vite (port 3000) and the API from the backend (port 8000).
The original system's commands call the API on the page's port (`curl .../api/billing/
sync-prices`, `stripe listen --forward-to localhost:3000/api/webhooks/stripe`), so the dev
server proxies `/api` and `/api/...` to the backend, byte for byte (webhook signatures hold).
It also sends the headers production sends (credits_app/api/security_headers.py).

Reflex writes `.web/vite.config.js` from one template and has no setting for the dev
server's proxy or headers, so this Reflex plugin writes a small Vite plugin next to it and
adds it to the config's plugin list. It wraps the template function itself, because Reflex
writes the file from two places (`reflex init` and AppHarness skip our compile hook): were
the two versions to differ, every such write would restart a running dev server. The Vite
plugin reads the backend's address from `.web/env.json` when the dev server starts, so it
follows the backend's port (also under AppHarness).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from reflex.compiler import templates
from reflex.plugins import Plugin

from credits_app.api.security_headers import COMMON_HEADERS, page_policy

VITE_CONFIG = "vite.config.js"
VITE_PLUGIN_FILE = "vite-plugin-credits-dev-server.js"
IMPORT_LINE = f'import creditsDevServer from "./{VITE_PLUGIN_FILE}";\n'
# The plugin list of Reflex 0.10's vite.config.js template; ours goes right after.
ANCHOR = "    safariCacheBustPlugin(),\n"
BACKEND_MARKER = "{backend}"

VITE_PLUGIN_SOURCE = """\
// Written by credits_app/runtime/dev_server.py on every compile: edit that file instead.
import { readFileSync } from "node:fs";

const HEADERS = %(headers)s;
const POLICY = %(policy)s;

function backendOrigin() {
  const env = JSON.parse(readFileSync(new URL("./env.json", import.meta.url), "utf8"));
  return new URL(env.PING).origin;
}

export default function creditsDevServer() {
  let headers = HEADERS;
  return {
    name: "credits-dev-server",
    apply: "serve",
    config(_config, { isPreview }) {
      if (isPreview) return; // react-router's prerender of a production build
      const backend = backendOrigin();
      const sockets = backend.replace(/^http/, "ws");
      const policy = POLICY.replace(%(marker)s, `${backend} ${sockets}`);
      headers = { ...HEADERS, "Content-Security-Policy": policy };
      // The backend listens on IPv4; "localhost" may resolve to ::1 first.
      const target = backend.replace("://localhost:", "://127.0.0.1:");
      return { server: { proxy: { "^/api(?:[/?]|$)": { target, changeOrigin: false } } } };
    },
    configureServer(server) {
      server.middlewares.use((_req, res, next) => {
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
        next();
      });
    },
  };
}
"""


class ReflexTemplateChanged(RuntimeError):
    """Raised when vite.config.js no longer has the plugin list this module extends."""


def vite_plugin_source() -> str:
    """The Vite plugin's JavaScript: the headers, and the proxy of /api to the backend."""
    return VITE_PLUGIN_SOURCE % {
        "headers": json.dumps(COMMON_HEADERS, indent=2),
        "policy": json.dumps(page_policy([BACKEND_MARKER])),
        "marker": json.dumps(BACKEND_MARKER),
    }


def add_to_vite_config(config: str) -> str:
    """Import the Vite plugin in Reflex's vite.config.js and add it to the plugin list.

    Raises:
        ReflexTemplateChanged: When the config has no plugin list where Reflex 0.10 puts it,
            rather than silently serving pages without their headers.
    """
    if IMPORT_LINE in config:
        return config
    if ANCHOR not in config:
        raise ReflexTemplateChanged(
            f"{VITE_CONFIG} has no '{ANCHOR.strip()}' line: update credits_app/runtime/"
            "dev_server.py for this Reflex version"
        )
    config = config.replace(ANCHOR, f"{ANCHOR}    creditsDevServer(),\n", 1)
    return IMPORT_LINE + config


def _install_in_template() -> None:
    """Make Reflex's vite.config.js template include our plugin wherever it is rendered."""
    render = templates.vite_config_template
    if getattr(render, "credits_dev_server", False):
        return

    @functools.wraps(render)
    def render_with_dev_server(*args: Any, **kwargs: Any) -> str:
        return add_to_vite_config(render(*args, **kwargs))

    render_with_dev_server.credits_dev_server = True  # type: ignore[attr-defined]
    templates.vite_config_template = render_with_dev_server


class DevServerPlugin(Plugin):
    """Reflex plugin giving the Vite dev server the app's headers and the /api proxy."""

    def __init__(self) -> None:
        _install_in_template()

    def get_static_assets(self, **context: Any) -> list[tuple[Path, str]]:
        """Write the Vite plugin into .web on every compile."""
        return [(Path(VITE_PLUGIN_FILE), vite_plugin_source())]

    def pre_compile(self, **context: Any) -> None:
        """Patch vite.config.js once Reflex has rendered it (a no-op when already there)."""
        context["add_modify_task"](VITE_CONFIG, add_to_vite_config)
