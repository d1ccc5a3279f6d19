"""A static file server for the edge bundle's demo page, on 127.0.0.1 only.

The page answers in the browser (edge/src/demo.mjs): the server hands out the bundle's files
and nothing else, with the content types browsers require of ES modules and WebAssembly.
"""

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from tabml.packaging.edge_bundle import EdgeBundleError

TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
         ".json": "application/json", ".onnx": "application/octet-stream"}  # fmt: skip


class BundleFiles(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def log_message(self, format, *args):
        return None  # a demo: no access log on the terminal


def serve_folder(folder: Path, port: int = 0) -> ThreadingHTTPServer:
    """A server (not yet serving) of `folder` on 127.0.0.1:`port` (0: a free port)."""
    if not (Path(folder) / "index.html").is_file():
        raise EdgeBundleError(f"no edge bundle in {folder}: run `make edge`")
    handler = functools.partial(BundleFiles, directory=str(folder))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)
