"""As-of joins of entity tables: against a row-by-row reference, TTL, tie-break, leakage."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from tabml.data.entity_features import with_entity_features
from tabml.scoring.entities import EntityJoin, EntityTable
from tabml.scoring.entity_join import LeakageError, check_no_leakage, join_table, utc_times

START = pd.Timestamp("2024-01-01", tz="UTC")


def _spec(**kw) -> EntityTable:
    base = dict(name="customer", source={"path": "x.csv"}, key="customer_id",
                timestamp="event_time", features=["spend", "segment"])  # fmt: skip
    return EntityTable(**{**base, **kw})


def _random_tables(seed: int, rows: int = 200, entities: int = 300, keys: int = 25):
    rng = np.random.default_rng(seed)
    minutes = lambda n: START + pd.to_timedelta(rng.integers(0, 2000, n), unit="min")  # noqa: E731
    table = pd.DataFrame({
        "customer_id": rng.integers(0, keys, entities).astype(str),
        "event_time": minutes(entities),  # collisions: ties on (key, time) happen
        "created_time": minutes(entities),
        "spend": rng.normal(size=entities).round(3),
        "segment": rng.choice(["a", "b", None], entities),
    })  # fmt: skip
    row_keys = pd.Series(rng.integers(0, keys + 3, rows).astype(str))  # some unknown keys
    return table, row_keys, pd.Series(minutes(rows))


def _reference(keys, times, table, spec):
    """Row by row: the candidates at or before the row within ttl; the latest event time,
    then the latest created time, then the last written."""
    found = []
    for key, time in zip(keys, times, strict=True):
        rows = table[(table.customer_id == key) & (table.event_time <= time)]
        if spec.ttl is not None:
            rows = rows[time - rows.event_time <= spec.ttl]
        if rows.empty:
            found.append((np.nan, None))
            continue
        order = ["event_time"] + (["created_time"] if spec.created else [])
        best = rows.iloc[::-1].sort_values(order, kind="stable", ascending=False).iloc[0]
        found.append((best.spend, best.segment))
    return found


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ttl", [None, timedelta(minutes=90)])
@pytest.mark.parametrize("created", [None, "created_time"])
def test_join_equals_a_row_by_row_reference(seed, ttl, created):
    table, keys, times = _random_tables(seed)
    spec = _spec(ttl=ttl, created=created)
    joined = join_table(keys, times, table, spec)
    expected = _reference(keys, times, table, spec)
    assert list(joined.index) == list(keys.index)
    got = zip(joined.spend, joined.segment, strict=True)
    for (spend, segment), (got_spend, got_segment) in zip(expected, got, strict=True):
        assert (np.isnan(spend) and np.isnan(got_spend)) or spend == got_spend
        assert segment == got_segment or (pd.isna(segment) and pd.isna(got_segment))
    assert joined.spend.notna().sum() > len(keys) // 4  # the join found values, not only misses


def test_equal_times_the_last_written_wins_and_exact_times_join():
    table = pd.DataFrame({
        "customer_id": ["7", "7", "7"],
        "event_time": [START, START, START + timedelta(hours=1)],
        "spend": [1.0, 2.0, 3.0], "segment": ["a", "b", "c"],
    })  # fmt: skip
    times = pd.Series([START, START + timedelta(minutes=59), START + timedelta(hours=1)])
    joined = join_table(pd.Series(["7"] * 3), times, table, _spec())
    assert joined.spend.tolist() == [2.0, 2.0, 3.0]


def test_values_older_than_the_ttl_join_as_missing():
    table = pd.DataFrame({"customer_id": ["1"], "event_time": [START], "spend": [5.0],
                          "segment": ["a"]})  # fmt: skip
    times = pd.Series([START + timedelta(hours=2), START + timedelta(hours=3, seconds=1)])
    joined = join_table(pd.Series(["1", "1"]), times, table, _spec(ttl=timedelta(hours=3)))
    assert joined.spend.tolist()[0] == 5.0 and np.isnan(joined.spend.tolist()[1])


def test_a_value_created_after_its_row_fails_the_leakage_check():
    """A deliberately leaking table: values dated before the rows but written after them."""
    table = pd.DataFrame({
        "customer_id": ["1", "2"], "event_time": [START, START],
        "created_time": [START, START + timedelta(days=1)],  # key 2's value came a day late
        "spend": [1.0, 2.0], "segment": ["a", "b"],
    })  # fmt: skip
    spec = _spec(created="created_time")
    times = pd.Series([START + timedelta(hours=1)] * 2)
    joined = join_table(pd.Series(["1", "2"]), times, table, spec)
    with pytest.raises(LeakageError, match=r"'customer'.*1 rows.*'created_time'.*rows \[1\]"):
        check_no_leakage(times, joined, spec)


def test_a_forward_looking_join_fails_the_leakage_check():
    table, keys, times = _random_tables(3)
    spec = _spec()
    leaking = pd.merge_asof(
        pd.DataFrame({"t": times, "k": keys}).sort_values("t"),
        table.rename(columns={"customer_id": "k"}).assign(t=table.event_time).sort_values("t"),
        on="t", by="k", direction="forward",
    )  # fmt: skip
    with pytest.raises(LeakageError, match="after the row's time"):
        check_no_leakage(leaking.t, leaking, spec)


def test_training_rows_gain_the_features_and_keep_their_columns():
    table, keys, times = _random_tables(4, rows=50)
    rows = pd.DataFrame({"customer_id": keys, "at": times.dt.strftime("%Y-%m-%dT%H:%M:%S%z"),
                         "x": ["1.50"] * 50})  # fmt: skip
    entities = EntityJoin(row_time="at", tables=[_spec()])
    table["event_time"] = utc_times(table.event_time, "table")
    out = with_entity_features(rows, entities, {"customer": table})
    assert list(out.columns) == ["customer_id", "at", "x", "spend", "segment"]
    assert out.x.tolist() == ["1.50"] * 50  # text kept as written
    pd.testing.assert_series_equal(out.spend, join_table(keys, times, table, _spec()).spend)


def test_row_times_with_offsets_compare_in_utc():
    assert utc_times(pd.Series(["2024-01-01T01:00:00+01:00"]), "t")[0] == START
