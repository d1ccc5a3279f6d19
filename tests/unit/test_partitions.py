"""Planning a CSV into partitions, against one pyarrow scan of the whole file."""

import hashlib
import itertools
import random

import pytest

from tabml.tables import plan_table
from tabml.tables._csv_rows import scan_rows


@pytest.fixture(scope="module")
def awkward_csv(tmp_path_factory):
    """Quoted newlines, short and long rows, no newline at the end."""
    rng = random.Random(1)
    lines = ["a,b,c"]
    for i in range(3_000):
        r = rng.random()
        if r < 0.05:
            lines.append(f'{i},"multi\nline {i}",x')
        elif r < 0.08:
            lines.append(f"{i},short")
        elif r < 0.1:
            lines.append(f"{i},1,2,3")
        else:
            lines.append(f"{i},{r:.5f},y")
    path = tmp_path_factory.mktemp("plan") / "awkward.csv"
    path.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize("partition_bytes", [40, 997, 5_000, 10**7])
def test_partitions_cover_the_file_at_row_ends(awkward_csv, partition_bytes):
    data = awkward_csv.read_bytes()
    rows, ragged, _ = scan_rows(data)
    sha = hashlib.sha256(data).hexdigest()
    plan = plan_table(awkward_csv, [], partition_bytes)
    parts = plan.partitions
    assert (plan.rows, plan.sha256, plan.size) == (rows, sha, len(data))
    assert b"".join(data[p.start : p.end] for p in parts) == data
    assert [p.index for p in parts] == list(range(len(parts)))
    assert all(p.start == q.end for q, p in itertools.pairwise(parts))
    firsts = [sum(q.rows for q in parts[:i]) for i in range(len(parts))]
    assert [p.first_row for p in parts] == firsts
    # What reading a partition checks: the sha256 of the bytes it parses.
    for p in parts:
        assert p.sha256 == hashlib.sha256(p.header + data[p.start : p.end]).hexdigest()
    # Each later partition, read with the header in front, holds whole rows only.
    for p in parts[1:]:
        assert p.header == data[: data.index(b"\n") + 1]
        assert scan_rows(p.header + data[p.start : p.end])[0] == p.rows
    found = {p.first_row + row: why for p in parts for row, why in p.ragged.items()}
    assert found == ragged
    if partition_bytes < 1_000:
        assert len(parts) > 20  # many cuts, some next to quoted newlines
