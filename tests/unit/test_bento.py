"""Packaging helpers: reproducible archives, content versions, the ASGI gate."""

import io
import subprocess
import tarfile
from pathlib import Path

import yaml

from tabml.packaging import bento_build as bento
from tabml.scoring.packaged import archive_tag

ROOT = Path(__file__).resolve().parents[2]


def _archive(
    path: Path, mtime: float, order: list[str], created: str, python: str = "3.11.7"
) -> None:
    files = {
        "./bento.yaml": (
            f"name: s\nversion: v\ncreation_time: '{created}'\ncontext:\n"
            f"  python_version: {python}\n"
        ).encode(),
        "./src/a.py": b"print(1)\n",
    }
    with tarfile.open(path, "w:xz") as tar:
        for name in order:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.uid, info.uname = len(files[name]), mtime, 1000, "me"
            tar.addfile(info, io.BytesIO(files[name]))


def test_repack_is_byte_identical_whatever_the_timestamps(tmp_path):
    _archive(tmp_path / "a.tar.xz", 1.7e9, ["./bento.yaml", "./src/a.py"], "2025-01-01 10:00")
    b_order = ["./src/a.py", "./bento.yaml"]
    _archive(tmp_path / "b.tar.xz", 1.8e9, b_order, "2026-02-02 11:11", python="3.11.2")
    bento.repack_reproducibly(tmp_path / "a.tar.xz", tmp_path / "a.bento")
    bento.repack_reproducibly(tmp_path / "b.tar.xz", tmp_path / "b.bento")
    assert (tmp_path / "a.bento").read_bytes() == (tmp_path / "b.bento").read_bytes()
    with tarfile.open(tmp_path / "a.bento") as tar:
        info = yaml.safe_load(tar.extractfile("./bento.yaml").read())
        assert {m.mtime for m in tar.getmembers()} == {0}
    assert info["creation_time"] == bento.FIXED_CREATION_TIME
    assert info["context"]["python_version"] == "3.11"  # the builder's patch version is dropped
    assert archive_tag(tmp_path / "a.bento") == "s:v"


def test_git_blob_sha_matches_git():
    path = ROOT / "src/tabml/packaging/bento_build.py"
    expected = subprocess.run(
        ["git", "hash-object", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert bento.git_blob_sha(path.read_bytes()) == expected


def test_content_version_is_stable_and_sensitive():
    assert bento.content_version(b"a", b"b") == bento.content_version(b"a", b"b")
    assert bento.content_version(b"a", b"b") != bento.content_version(b"ab")
    assert len(bento.content_version(b"x")) == 16


def test_metadata_drops_none_for_bentoml():
    assert bento._drop_none({"a": None, "b": [{"c": None, "d": 1}]}) == {"b": [{"d": 1}]}
