"""The edge bundle's commands: `edge` (what `make edge` runs) and `edge-demo`."""

from pathlib import Path
from typing import Annotated

import typer

from tabml.cli import command

RUNTIME = Path("edge/node_modules/onnxruntime-web/dist")


@command()
def edge(
    out: Annotated[Path, typer.Option(help="folder to write the bundle into")] = Path("dist/edge"),
    scorer: Annotated[Path, typer.Option(help="the ES module scorer's sources")] = Path("edge/src"),
    runtime: Annotated[Path, typer.Option(help="onnxruntime-web's dist folder")] = RUNTIME,
) -> None:
    """Write the edge bundle: model.onnx, rules.json, the JS scorer and the WASM runtime;
    then score the test split with it in Node and compare with the Python runtime."""
    import json
    import shutil

    import pandas as pd

    from tabml import paths
    from tabml.packaging.edge_bundle import gzipped_size, write_bundle
    from tabml.packaging.edge_parity import check_edge_parity
    from tabml.scoring.model import load_packaged

    model = load_packaged(paths.ONNX_MODEL, paths.BENTO_ARCHIVE)
    files = write_bundle(model, paths.ONNX_MODEL.read_bytes(), scorer, runtime, out)
    total = sum(f.stat().st_size for f in files)
    typer.echo(
        f"edge: {model.version} -> {out}/ ({len(files)} files, {total / 1e6:.1f} MB, "
        f"{gzipped_size(files) / 1e6:.2f} MB gzipped)"
    )
    if not paths.TEST_DATA.exists():
        typer.echo(f"edge: parity not checked: no {paths.TEST_DATA} (run `make repro`)")
        return
    test = pd.read_parquet(paths.TEST_DATA, columns=model.input_rules.features)
    records = json.loads(test.to_json(orient="records"))
    try:
        parity = check_edge_parity(model, out, records)
    except Exception:
        shutil.rmtree(out, ignore_errors=True)  # never leave a bundle that disagrees
        raise
    typer.echo(
        f"edge: parity with the Python runtime ok in Node on {parity.rows} test rows "
        f"(max |difference| {parity.max_abs_diff:.1e}), {parity.refused} refused by both"
    )


@command("edge-demo")
def edge_demo(
    folder: Annotated[Path, typer.Option(help="the bundle (make edge)")] = Path("dist/edge"),
    port: Annotated[int, typer.Option(help="port on 127.0.0.1 (0: a free one)")] = 0,
) -> None:
    """Serve the bundle's static files on 127.0.0.1: the demo page scores in the browser."""
    from tabml.packaging.edge_demo import serve_folder

    server = serve_folder(folder, port)
    typer.echo(f"edge-demo: http://127.0.0.1:{server.server_port}/ (Ctrl-C stops it)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
