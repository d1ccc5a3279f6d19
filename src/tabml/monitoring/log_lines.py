"""A tolerant, fast reader of JSON-lines log directories (request log, feedback log).

pyarrow parses the files (C++, both cores), one call per group of about 32 MiB of log, so
memory stays bounded and a million lines take a few seconds. If pyarrow refuses a group (a
torn last line, a line that is not a JSON object), the files it refuses are cleaned line by
line first with orjson (a declared dependency, as for the request log), and the bad lines
counted.
"""

import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.json as pj

GROUP_BYTES = 32 * 1024 * 1024  # log bytes parsed per pyarrow call


def _parse(blobs: list[bytes]) -> pd.DataFrame:
    """One pyarrow call over JSON-lines bytes (C++, both cores); nested objects flattened."""
    data = blobs[0] if len(blobs) == 1 else b"".join(blobs)
    if not data or data.isspace():  # isspace stops at the first other byte: no copy, no scan
        return pd.DataFrame()
    options = pj.ReadOptions(block_size=1 << 24)
    return pj.read_json(io.BytesIO(data), read_options=options).flatten().to_pandas()


def _good_lines(blob: bytes, keys: tuple[str, ...]) -> tuple[bytes, int]:
    """The lines of `blob` that are JSON objects with `keys`, and how many others there were."""
    good, bad = [], 0
    for line in blob.splitlines():
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict) and all(key in record for key in keys):
            good.append(line)
        else:
            bad += 1
    return b"\n".join(good), bad


def _parse_tolerant(blobs: list[bytes], keys: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    """`_parse`, or (when pyarrow refuses a line) the same after cleaning the bad files."""
    try:
        return _parse(blobs), 0
    except pa.ArrowInvalid:
        pass
    cleaned, skipped = [], 0
    for blob in blobs:
        try:
            _parse([blob])
            cleaned.append(blob)
        except pa.ArrowInvalid:
            good, bad = _good_lines(blob, keys)
            cleaned.append(good)
            skipped += bad
    try:
        return _parse(cleaned), skipped
    except pa.ArrowInvalid:
        # A value's type differs between lines (e.g. a number logged as text somewhere):
        # slower, but every line still counts.
        records = [orjson.loads(line) for blob in cleaned for line in blob.splitlines() if line]
        return pd.json_normalize(records), skipped


def _file_groups(directory: Path) -> Iterator[list[bytes]]:
    """The log files' bytes, in name (time) order, in groups of about `GROUP_BYTES`.

    Each file's bytes end with a newline (a torn last line gets one, so it cannot run into
    the next file's first line).
    """
    group, size = [], 0
    for file in sorted(Path(directory).glob("*.jsonl")):
        try:
            blob = file.read_bytes()
        except OSError:
            continue  # pruned by the writer between listing and reading
        group.append(blob if blob.endswith(b"\n") or not blob else blob + b"\n")
        size += len(blob)
        if size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def read_lines(directory: Path, keys: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    """Every JSON line of `directory/*.jsonl` as a flat frame (`inputs.x` columns); skipped.

    Fast path: one pyarrow parse per group of files (bounded memory: never the whole log's
    bytes at once). If a line is not a JSON object (a torn last line, a stray write), the
    files pyarrow refuses are cleaned line by line first.
    """
    frames, skipped = [], 0
    for group in _file_groups(directory):
        frame, bad = _parse_tolerant(group, keys)
        frames.append(frame)
        skipped += bad
    if not frames:
        return pd.DataFrame(), 0
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), skipped
