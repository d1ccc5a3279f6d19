import gzip
import zipfile

import pytest

from tabml.data.ingest import ChecksumError, materialise, verify_checksum
from tabml.data.profile import ProfileError, Source, load_profile
from tabml.tables import sha256_of


def test_package_source_resolves_without_import(profile):
    path = profile.source.resolve()
    assert path.name == "penguins.csv"
    assert sha256_of(path) == profile.source.sha256


def test_materialise_copies_bytes(profile, tmp_path):
    out = materialise(profile.source, tmp_path / "raw" / "dataset.csv")
    assert out.read_bytes() == profile.source.resolve().read_bytes()


def test_checksum_mismatch_is_refused(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ChecksumError, match=r"source\.sha256"):
        verify_checksum(path, "0" * 64)
    destination = tmp_path / "out.csv"
    with pytest.raises(ChecksumError):
        materialise(Source(path=str(path), sha256="0" * 64), destination)
    assert not destination.exists()


@pytest.mark.parametrize("kind", ["zip", "gz"])
def test_compressed_sources_are_unpacked(tmp_path, kind):
    content = b"a,b\n1,2\n"
    if kind == "zip":
        path = tmp_path / "data.csv.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data.csv", content)
    else:
        path = tmp_path / "data.csv.gz"
        path.write_bytes(gzip.compress(content, mtime=0))
    out = materialise(Source(path=str(path), sha256=sha256_of(path)), tmp_path / "o.csv")
    assert out.read_bytes() == content


def test_missing_package_is_a_clear_error():
    with pytest.raises(ProfileError, match="not installed"):
        Source(package="no_such_package_xyz", path="x.csv").resolve()


def test_unknown_profile_lists_known_ones():
    with pytest.raises(ProfileError, match="penguins"):
        load_profile("no_such_dataset")


def test_profile_rejects_target_listed_as_feature(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "name: bad\nsource: {path: x.csv}\ntarget: y\nfeatures: {numeric: [y, x]}\n"
    )
    with pytest.raises(ProfileError, match="also listed as a feature"):
        load_profile("bad", tmp_path)
