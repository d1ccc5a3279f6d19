"""Hand edits of a schema file: each mistake is one line naming the file and the key."""

import subprocess
import sys
from pathlib import Path

import pytest

from tabml.data.schema_file import SchemaFileError, read_schema
from testkit import ROOT, tool_env

GOOD = (ROOT / "configs/penguins.schema.yaml").read_text()
MISTAKES = {
    "dtype": (("dtype: float64\n    nullable: true\n    checks:\n      in_range: {min_value: 20",
               "dtype: flaot64\n    nullable: true\n    checks:\n      in_range: {min_value: 20"),
              "columns.bill_length_mm.dtype: data type 'flaot64' not understood"),
    "check name": (("in_range: {min_value: 10.0", "in_rnge: {min_value: 10.0"),
                   "columns.bill_depth_mm.checks.in_rnge: no pandera check is called 'in_rnge'"),
    "check argument": (("max_value: 260.0}", "maximum: 260.0}"),
                       "columns.flipper_length_mm.checks.in_range: in_range() missing required"),
    "check value": (("min_value: 2000.0", "min_value: heavy"),
                    "columns.body_mass_g.checks.in_range: '<' not supported"),
    "isin of one text": (("isin: [Biscoe, Dream, Torgersen]", "isin: Biscoe"),
                         "columns.island.checks.isin: expected a list of values, got 'Biscoe'"),
    "not a flag": (("nullable: false", "nullable: maybe"),
                   "columns.island.nullable: expected true or false, got 'maybe'"),
    "misspelt key": (("    nullable: false\n", "    nulable: false\n"),
                     "columns.island.nulable: not a key or check pandera reads"),
    "check beside checks": (("    nullable: false\n", "    nullable: false\n    isin: [x]\n"),
                            "columns.island.isin: a check beside `checks:`"),
    "flat check": (("    nullable: false\n    checks:\n      isin: [Biscoe, Dream, Torgersen]",
                    "    nullable: false\n    str_length: {min_value: 1}\n"
                    "    in_range: {min_value: 1}"),
                   "columns.island.in_range: in_range() missing required argument"),
    "misspelt section": (("columns:", "colums:"), "colums: not a key pandera reads"),
    "yaml": (("  island:\n", "  island\n"), "not valid YAML at line 14, column 10"),
}  # fmt: skip


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_is_one_line_naming_the_key(tmp_path, mistake):
    (old, new), says = MISTAKES[mistake]
    assert old in GOOD
    path = tmp_path / "x.schema.yaml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(SchemaFileError) as err:
        read_schema(path)
    assert str(err.value).startswith(f"{path}: {says}") and "\n" not in str(err.value)


def test_the_shipped_schema_reads_as_pandera_reads_it(tmp_path):
    import pandera.pandas as pa

    path = ROOT / "configs/penguins.schema.yaml"
    assert read_schema(path) == pa.DataFrameSchema.from_yaml(path)
    written = tmp_path / "flat.schema.yaml"  # pandera's own writer puts checks beside keys
    written.write_text(pa.DataFrameSchema.from_yaml(path).to_yaml())
    assert read_schema(written) == pa.DataFrameSchema.from_yaml(written)


def test_the_validate_stage_stops_on_a_mistake_in_one_line(stage_workspace, raw_penguins):
    # The template workspace (default params: the penguins profile), not the checkout's.
    (stage_workspace / "data/raw").mkdir(parents=True, exist_ok=True)
    raw_penguins.to_csv(stage_workspace / "data/raw/dataset.csv", index=False)
    (old, new), says = MISTAKES["dtype"]
    (stage_workspace / "configs/penguins.schema.yaml").write_text(GOOD.replace(old, new, 1))
    env = {**tool_env(), "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-m", "tabml.stages.validate"],
                            cwd=stage_workspace, env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == f"error: {Path('configs/penguins.schema.yaml')}: {says}\n"
