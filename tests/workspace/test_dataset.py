"""Checks of the dataset the workspace holds: whatever `params.yaml` selects, penguins or yours.

Every other test runs in a hermetic workspace (tests/conftest.py) and never sees the
checkout's params, data or model. These few read the checkout on purpose, so that after
`make bootstrap` and `make repro` on your own CSV, `make test` also checks your project: the
params and the profile parse, the schema accepts the data it describes, and the packaged model
answers its test rows the same online (a real server) and in batch (the real CLI). Checks that
need pipeline outputs skip, saying so, until `make repro` has written them.
"""

import json
import sqlite3

import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

from tabml import paths
from tabml.data.profile import load_profile
from tabml.data.schema import load_schema
from tabml.data.validation import derive_target, read_raw, validate_raw
from tabml.params import Params, load_params
from testkit import ROOT, git, run
from tests.service.server import start_server

pytestmark = pytest.mark.integration

# What `make bootstrap` tells a user to set for their dataset (docs/own-data.md).
DATASET_KEYS = {"data.profile", "sources", "train.model"}


@pytest.fixture(scope="module")
def params():
    return load_params(ROOT / paths.PARAMS)


@pytest.fixture(scope="module")
def workspace_profile(params):
    return load_profile(params.data.profile, ROOT / paths.CONFIGS)


def _needs(*files) -> None:
    missing = [str(f) for f in files if not (ROOT / f).exists()]
    if missing:
        pytest.skip(f"no {', '.join(missing)} in the workspace yet: run `make repro`")


def _flat(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def test_params_yaml_names_every_key_the_code_knows():
    raw = yaml.safe_load((ROOT / paths.PARAMS).read_text())
    dumped = Params().model_dump(by_alias=True)
    assert set(raw) == set(dumped)
    for section, values in raw.items():
        if isinstance(values, dict):
            assert set(values) == set(dumped[section]), section


def test_committed_params_keep_the_code_defaults_beside_the_dataset_choice(tmp_path):
    # The template's params.yaml shows the defaults the code uses; a user's differs only in
    # what bootstrap asks them to set (the profile, its source file, a regression family).
    # The committed file: an experiment's `dvc exp run -S` in the workspace is no change.
    committed = tmp_path / "params.yaml"
    committed.write_text(git("show", f"HEAD:{paths.PARAMS}", cwd=ROOT))
    params = load_params(committed)
    written = _flat(params.model_dump(mode="json", by_alias=True))
    defaults = _flat(Params().model_dump(mode="json", by_alias=True))
    differ = {k for k in written.keys() | defaults.keys() if written.get(k) != defaults.get(k)}
    assert differ <= DATASET_KEYS, {k: (written.get(k), defaults.get(k)) for k in differ}


def test_the_profile_and_its_schema_parse_and_agree(workspace_profile):
    schema = load_schema(workspace_profile, ROOT / paths.CONFIGS)  # covers target + features
    assert workspace_profile.features.all
    assert set(workspace_profile.features.all) <= set(schema.columns)


def test_the_schema_accepts_the_data_it_describes(params, workspace_profile):
    _needs(paths.RAW_DATA)
    raw = derive_target(
        read_raw(ROOT / paths.RAW_DATA), workspace_profile.target, workspace_profile.target_rule
    )
    schema = load_schema(workspace_profile, ROOT / paths.CONFIGS)
    clean, report = validate_raw(raw, schema, workspace_profile.target, params.validate_.min_rows)
    assert report.ok, report.to_dict()["failures"][:5]
    assert len(clean) == report.rows_valid >= params.validate_.min_rows


def test_the_packaged_model_answers_its_test_rows_alike_online_and_in_batch(
    workspace_profile, tmp_path
):
    _needs(paths.BENTO_ARCHIVE, paths.ONNX_MODEL, paths.TEST_DATA)
    test = pd.read_parquet(ROOT / paths.TEST_DATA)[workspace_profile.features.all].head(300)
    source = tmp_path / "test_rows.parquet"
    test.to_parquet(source)
    records = json.loads(test.to_json(orient="records", date_format="iso"))
    server = start_server(ROOT, tmp_path / "server")
    try:
        response = httpx.post(f"{server.url}/predict", json={"records": records}, timeout=60)
    finally:
        server.stop()
    assert response.status_code == 200, response.text[:2000]
    online = response.json()
    db = tmp_path / "batch.db"
    batch = run(["python", "-m", "tabml.cli", "batch", str(source), "--db", f"sqlite:///{db}"],
                ROOT)  # fmt: skip
    assert f"{len(test)} predictions, 0 rejects" in batch.stdout
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM predictions ORDER BY input_row")]
    target = workspace_profile.target
    assert len(rows) == len(online) == len(test)
    if workspace_profile.task == "regression":
        served = np.array([[a[target], *a["interval"]] for a in online])
        scored = np.array([[r["prediction"], r["interval_low"], r["interval_high"]] for r in rows])
        np.testing.assert_array_equal(scored, served)
        return
    from tabml.scoring.task import proba_column

    assert [r["label"] for r in rows] == [a[target] for a in online]
    classes = list(online[0]["probabilities"])
    served = np.array([[a["probabilities"][c] for c in classes] for a in online])
    scored = np.array([[r[proba_column(c)] for c in classes] for r in rows])
    np.testing.assert_allclose(scored, served, rtol=0, atol=1e-6)  # float32 outputs
