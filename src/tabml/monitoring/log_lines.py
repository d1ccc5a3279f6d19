"""The one reader of JSON-lines log directories (request log, feedback log): tolerant, fast.

Used by `make monitor`, `make drift`, `make harvest` and `make retrain` (through `sources`).
It never raises on what a log holds; it skips and counts every entry it cannot use:

- a `*.jsonl` entry that is not a regular file (a directory, a symlink, a pipe) or cannot be
  read (it is never followed or opened for more than what it is);
- a line that is not a JSON object (a torn last line, random bytes), a line longer than
  `MAX_LINE_BYTES`, a line without one of the required keys, or with a required key of the
  wrong kind (`"inputs": null`, `"timestamp": 5`).

pyarrow parses the files (C++, both cores), one call per group of about 32 MiB of log, so
memory stays bounded (a larger file is cut at line ends) and a million lines take a few
seconds. If pyarrow refuses a group, the files it refuses are cleaned line by line first with
orjson (a declared dependency, as for the request log).
"""

import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

GROUP_BYTES = 32 * 1024 * 1024  # log bytes parsed per pyarrow call
MAX_LINE_BYTES = GROUP_BYTES  # a longer line is skipped (a logged record is ~300 bytes)
# What a required key must hold: any non-null value, a JSON object or a text.
ANY, OBJECT, TEXT = "any", "object", "text"
_PYTHON = {ANY: object, OBJECT: dict, TEXT: str}


def _arrow_kind(kind: str, type_: pa.DataType) -> bool:
    if kind == OBJECT:
        return pa.types.is_struct(type_)
    if kind == TEXT:  # pyarrow may read ISO times as timestamps
        text = (pa.types.is_string, pa.types.is_large_string, pa.types.is_timestamp)
        return any(is_kind(type_) for is_kind in text)
    return True


def _blank(data: bytes | memoryview) -> bool:
    """Nothing but whitespace (a log's first byte is `{`: no scan of the rest then)."""
    return not len(data) or (bytes(data[:1]).isspace() and bytes(data).isspace())


def _parse(blobs: list[bytes | memoryview], keys: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """One pyarrow call over JSON-lines bytes; rows without the `keys` (of their kind) are
    dropped and counted; nested objects flattened."""
    data = blobs[0] if len(blobs) == 1 else b"".join(blobs)
    if _blank(data):
        return pd.DataFrame(), 0
    source = pa.BufferReader(pa.py_buffer(data))  # no copy of the group's bytes
    table = pj.read_json(source, read_options=pj.ReadOptions(block_size=1 << 24))
    keep = None
    for key, kind in keys.items():
        if key not in table.column_names or not _arrow_kind(kind, table.column(key).type):
            return pd.DataFrame(), table.num_rows  # no line has it as it must be
        present = table.column(key).is_valid()
        keep = present if keep is None else pc.and_(keep, present)
    dropped = 0
    if keep is not None and not pc.all(keep).as_py():
        dropped = table.num_rows - pc.sum(keep).as_py()
        table = table.filter(keep)
    return table.flatten().to_pandas(), dropped


def _is_record(record: object, keys: dict[str, str]) -> bool:
    return isinstance(record, dict) and all(
        isinstance(record.get(key), _PYTHON[kind]) for key, kind in keys.items()
    )


def _good_lines(blob: bytes, keys: dict[str, str]) -> tuple[bytes, int]:
    """The lines of `blob` that are JSON objects with `keys` of their kind, and how many
    others there were."""
    good, bad = [], 0
    for line in blob.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            record = None
        if _is_record(record, keys):
            good.append(line)
        else:
            bad += 1
    return b"\n".join(good), bad


def _parse_tolerant(
    data: memoryview, ends: list[int], keys: dict[str, str]
) -> tuple[pd.DataFrame, int]:
    """`_parse`, or (when pyarrow refuses a line) the same after cleaning the bad files
    (`data` holds the group's files end to end; `ends`: where each ends)."""
    try:
        return _parse([data], keys)
    except pa.ArrowInvalid:
        pass
    blobs = [bytes(data[start:end]) for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    cleaned, skipped = [], 0
    for blob in blobs:
        try:
            _parse([blob], keys)
            cleaned.append(blob)
        except pa.ArrowInvalid:
            good, bad = _good_lines(blob, keys)
            cleaned.append(good)
            skipped += bad
    try:
        frame, dropped = _parse(cleaned, keys)
        return frame, skipped + dropped
    except pa.ArrowInvalid:
        # A value's type differs between lines (e.g. a number logged as text somewhere), or
        # a line is longer than pyarrow's block: slower, but every line still counts.
        lines = [line for blob in cleaned for line in blob.split(b"\n") if line.strip()]
        records = [r for r in map(orjson.loads, lines) if _is_record(r, keys)]
        return pd.json_normalize(records), skipped + len(lines) - len(records)


def _open_log_file(entry: os.DirEntry) -> int | None:
    """A file descriptor of a regular log file, or None for anything else (not followed)."""
    try:
        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # a symlink (O_NOFOLLOW), pruned meanwhile, no permission
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _file_pieces(fd: int) -> Iterator[bytes | None]:
    """The file's bytes in pieces of about GROUP_BYTES that end at a line end (the last one
    gets a newline). None for each line longer than MAX_LINE_BYTES, which is left out."""
    # Reads of the file's size (a log file is ~6 MB): a read of GROUP_BYTES would allocate
    # 32 MiB per file, and their page faults cost more than the parse of a small file.
    size = min(GROUP_BYTES, os.fstat(fd).st_size + 1)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        rest, skipping = b"", False
        while block := handle.read(size):
            data = rest + block
            if skipping:  # inside a line too long to keep: drop it up to its end
                end = data.find(b"\n")
                if end == -1:
                    rest = b""
                    continue
                data, skipping = data[end + 1 :], False
            end = data.rfind(b"\n")
            if end == -1 and len(data) > MAX_LINE_BYTES:
                yield None
                rest, skipping = b"", True
                continue
            if end != -1:
                yield data[: end + 1]
            rest = data[end + 1 :]
        if rest and not skipping:
            yield rest + b"\n"  # a torn last line cannot run into the next file's first


def _read_into(fd: int, buffer: bytearray, at: int) -> int:
    """The whole file appended to `buffer` from `at` (grown when needed), and a newline
    if its last line is torn; the new end. The buffer is reused group after group: reading
    ten million lines into fresh bytes and joining them cost page faults of 10 GB."""
    with os.fdopen(fd, "rb", buffering=0) as handle:
        view = memoryview(buffer)
        while True:
            if at == len(buffer):  # the file grew (or the buffer was small): more room
                view.release()
                buffer.extend(bytes(max(len(buffer), 1 << 20)))
                view = memoryview(buffer)
            read = handle.readinto(view[at:])
            if not read:
                break
            at += read
        view.release()
    if at and buffer[at - 1] != ord("\n"):
        if at == len(buffer):
            buffer.append(0)
        buffer[at] = ord("\n")  # a torn last line cannot run into the next file's first
        at += 1
    return at


def _file_groups(directory: Path) -> Iterator[tuple[memoryview, list[int], int]]:
    """The log files' bytes in name (time) order, in groups of about `GROUP_BYTES`: each
    a view of one reused buffer, where its files end, and the entries skipped since the
    last group (not regular files, overlong lines). A file larger than a group is cut at
    line ends into groups of its own (`_file_pieces`)."""
    try:
        entries = sorted(
            (e for e in os.scandir(directory) if e.name.endswith(".jsonl")), key=lambda e: e.name
        )
    except OSError:  # no log directory yet (or it is not one): nothing logged
        return
    buffer = bytearray(1 << 20)  # grows to what a group holds (< 2 * GROUP_BYTES), once
    size, ends, skipped = 0, [], 0
    for entry in entries:
        fd = _open_log_file(entry)
        if fd is None:
            skipped += 1 if os.path.lexists(entry.path) else 0  # pruned meanwhile: not bad
            continue
        if os.fstat(fd).st_size < min(GROUP_BYTES, MAX_LINE_BYTES):  # no line too long
            size = _read_into(fd, buffer, size)
            if not ends or size > ends[-1]:  # an empty file adds nothing
                ends.append(size)
            if size >= GROUP_BYTES:
                yield memoryview(buffer)[:size], ends, skipped
                size, ends, skipped = 0, [], 0
            continue
        for piece in _file_pieces(fd):  # a file larger than a group
            if piece is None:
                skipped += 1
                continue
            if size:
                yield memoryview(buffer)[:size], ends, skipped
                size, ends, skipped = 0, [], 0
            yield memoryview(piece), [len(piece)], skipped
            skipped = 0
    if size or skipped:
        yield memoryview(buffer)[:size], ends, skipped


def _parsed_groups(directory: Path, keys: dict[str, str]) -> Iterator[tuple[pd.DataFrame, int]]:
    for data, ends, bad_entries in _file_groups(directory):
        frame, bad = _parse_tolerant(data, ends, keys) if len(data) else (pd.DataFrame(), 0)
        data.release()  # the buffer is refilled for the next group
        yield frame, bad + bad_entries


_DONE = object()


def read_frames(directory: Path, keys: dict[str, str]) -> Iterator[tuple[pd.DataFrame, int]]:
    """`read_lines` a group of about `GROUP_BYTES` at a time: each group's flat frame and the
    entries it skipped, so a caller can shrink each group before the next is parsed.

    The next group is read and parsed in a second thread while the caller works on this one
    (file reads and pyarrow's parser release the GIL): on two cores the parse, most of the
    monitor's time at ten million rows, overlaps the caller's compaction. One group ahead
    at most, so memory stays bounded."""
    groups = _parsed_groups(directory, keys)
    with ThreadPoolExecutor(1, thread_name_prefix="log-parse") as ahead:
        step = ahead.submit(next, groups, _DONE)
        while (found := step.result()) is not _DONE:
            step = ahead.submit(next, groups, _DONE)
            yield found
            del found  # the caller's copy only: a group is not held past its turn


def read_lines(directory: Path, keys: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """Every JSON line of `directory/*.jsonl` as a flat frame (`inputs.x` columns), and the
    number of entries skipped (files and lines that are not log records with `keys`).

    `keys` maps each required key to what it must hold (ANY, OBJECT, TEXT).
    """
    frames, skipped = [], 0
    for frame, bad in read_frames(directory, keys):
        frames.append(frame)
        skipped += bad
    frames = [f for f in frames if len(f.columns)] or [pd.DataFrame()]
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), skipped
