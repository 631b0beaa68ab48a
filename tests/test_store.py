import json

import h5py
import numpy as np
import pytest

from collective_action import store


def _write(path, value=1.0):
    store.write_h5(path, {"a/x": np.arange(2000, dtype=np.float32) * value, "b": np.array([1, 2, 3])},
                   store.provenance(step="test", config={"k": value}, seeds=[0]), attrs={"meta": {"v": value}})


def test_roundtrip_records_provenance_and_checksum(tmp_path):
    path = tmp_path / "art.h5"
    _write(path)
    art = store.read_h5(path)
    assert art["a/x"][5] == 5.0
    assert art.group("a")["x"].shape == (2000,)
    assert art.attrs["meta"] == {"v": 1.0}
    assert art.provenance["config"] == {"k": 1.0}
    assert art.provenance["code_version"] == store.code_version()
    assert len(art.payload_sha256) == 64


def test_same_content_same_bytes(tmp_path):
    _write(tmp_path / "one.h5")
    _write(tmp_path / "two.h5")
    assert store.sha256_file(tmp_path / "one.h5") == store.sha256_file(tmp_path / "two.h5")


def test_input_checksums_recorded(tmp_path):
    src = tmp_path / "in.h5"
    _write(src)
    prov = store.provenance(step="x", config={}, inputs={"data": src})
    assert prov["inputs"]["data"]["sha256"] == store.sha256_file(src)


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "sub" / "out.h5"
    with pytest.raises(RuntimeError):
        with store.atomic_path(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert not path.exists()
    assert list(path.parent.iterdir()) == []


def test_truncated_file_is_named(tmp_path):
    path = tmp_path / "art.h5"
    _write(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(store.ArtifactError, match="art.h5.*corrupt or truncated"):
        store.read_h5(path)


def test_tampered_payload_is_detected(tmp_path):
    path = tmp_path / "art.h5"
    _write(path)
    with h5py.File(path, "r+") as f:
        f["b"][0] = 99
    with pytest.raises(store.ArtifactError, match="art.h5.*checksum mismatch"):
        store.read_h5(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(store.ArtifactError, match="nope.h5.*does not exist"):
        store.read_h5(tmp_path / "nope.h5")


def test_table_sidecar_detects_edit(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n")
    store.write_sidecar(path, {"step": "table"})
    assert store.read_table(path)["b"].tolist() == [2]
    assert json.loads(store.sidecar_path(path).read_text())["sha256"] == store.sha256_file(path)
    path.write_text("a,b\n1,3\n")
    with pytest.raises(store.ArtifactError, match="t.csv.*modified"):
        store.read_table(path)


def test_write_table_round_trips_through_read_table(tmp_path):
    import pandas as pd

    path = tmp_path / "sub" / "t.csv"
    store.write_table(pd.DataFrame({"a": [1, 2], "x": [1 / 3, 2.0]}), path, {"step": "table"})
    assert path.read_text() == "a,x\n1,0.333333\n2,2\n"  # floats to 6 significant digits
    assert store.read_table(path)["a"].tolist() == [1, 2]
    assert json.loads(store.sidecar_path(path).read_text())["step"] == "table"
    assert sorted(p.name for p in path.parent.iterdir()) == ["t.csv", "t.csv.prov.json"]  # no temporary left
