"""Bounded schemathesis runs against the live server's OpenAPI: no request may get a 5xx.

Fixed seed, capped examples (and time), 127.0.0.1 only. The quick run is part of the default
suite (~10 s); the long one (2 minutes of fuzzing) is slow-marked: `make fuzz-serve`.
"""

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest


def predict_counts(server: str) -> dict[str, float]:
    """Requests to /predict so far, by HTTP status, from the server's /metrics."""
    counts = {}
    for line in httpx.get(f"{server}/metrics").text.splitlines():
        if line.startswith("bentoml_service_request_total{") and 'endpoint="/predict"' in line:
            status = re.search(r'http_response_code="(\d+)"', line).group(1)
            counts[status] = float(line.rsplit(" ", 1)[1])
    return counts


@pytest.mark.parametrize(
    "budget",
    [
        pytest.param(["--max-examples", "200"], id="quick"),
        pytest.param(["--max-examples", "1000", "--max-time", "120"], id="long",
                     marks=pytest.mark.slow),
    ],
)  # fmt: skip
def test_no_generated_request_gets_a_server_error(server, tmp_path, budget):
    before = predict_counts(server)
    schemathesis = Path(sys.executable).parent / "schemathesis"
    result = subprocess.run(
        [
            str(schemathesis), "run", f"{server}/docs.json", *budget,
            "--checks", "not_a_server_error",
            "--phases", "coverage,fuzzing",
            "--seed", "20240601",
            "--workers", "1",
            "--generation-database", "none",
            "--request-timeout", "10",
            "--no-color",
        ],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    after = predict_counts(server)
    grew = {s: after.get(s, 0) - before.get(s, 0) for s in after}
    # The run really exercised /predict with both valid and invalid bodies, and no 5xx.
    assert grew.get("200", 0) > 0 and grew.get("400", 0) > 0, grew
    assert not any(s.startswith("5") and n > 0 for s, n in grew.items()), grew
