"""Everything the page shows, gathered once: report files, the registry's history, the
experiments, and the links between them (which registry version a logged model tag is).

Versions are named as a reader knows them: the registry version when the model tag belongs
to one (`v1.1.0`), else the tag. Colours follow the order versions first appeared.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from tabml.dashboard.inputs import Reports, read_reports
from tabml.dashboard.registry_events import (
    ProdSpell,
    RegistryEvent,
    VersionInfo,
    prod_spells,
    registered_versions,
    registry_events,
)
from tabml.dashboard.svg import PALETTE, utc
from tabml.errors import TabmlError

RECENT = timedelta(days=7)  # "last week": the 7 days up to the newest window


@dataclass
class Version:
    """One model version: its monitor report (None: no traffic seen) and registry record."""

    tag: str  # the BentoML model tag the logs carry
    name: str  # registry version, else the tag
    color: str
    registry: VersionInfo | None = None
    report: dict | None = None


@dataclass
class Life:
    reports: Reports
    events: list[RegistryEvent] = field(default_factory=list)
    spells: list[ProdSpell] = field(default_factory=list)
    versions: dict[str, Version] = field(default_factory=dict)  # by model tag
    experiments: list = field(default_factory=list)  # tabml.experiments.runs.Experiment
    experiments_note: str | None = None

    def by_registry(self, version: str) -> Version | None:
        return next(
            (v for v in self.versions.values() if v.registry and v.registry.version == version),
            None,
        )

    def newest_window_end(self):
        ends = [
            utc(w["end"]) for v in self.versions.values() if v.report for w in v.report["windows"]
        ]
        return max(ends, default=None)


def _experiments(root: Path) -> tuple[list, str | None]:
    """The last 10 commits and their experiments (`dvc exp show`), or why there are none."""
    from tabml.experiments.runs import parse_exp_show
    from tabml.tools import dvc_json

    try:
        baselines, experiments = parse_exp_show(dvc_json(["exp", "show", "-n", "10"], root))
    except TabmlError as err:
        return [], f"`dvc exp show` failed: {str(err)[:300]}"
    return [*baselines, *experiments], None


def collect(root: Path, experiments: bool = True) -> Life:
    """Read everything under the workspace `root`."""
    root = Path(root)
    reports = read_reports(root)
    events = registry_events(root)
    life = Life(reports=reports, events=events, spells=prod_spells(events))
    monitored = (reports.monitor or {}).get("versions") or {}
    champion = (reports.decision or {}).get("champion") or {}
    # Registered versions first (in registration order), then model tags seen only in the
    # monitor report (in the order they first served).
    found: list[tuple[str, VersionInfo | None]] = [
        (info.model_version or f"{version} (model not in this DVC cache)", info)
        for version, info in registered_versions(root, events).items()
    ]
    known = {tag for tag, _ in found}
    first_seen = sorted(monitored, key=lambda t: [w["start"] for w in monitored[t]["windows"]][:1])
    found += [(tag, None) for tag in first_seen if tag not in known]
    for index, (tag, info) in enumerate(found):
        name = info.version if info else tag
        if info is None and champion.get("model_version") == tag:
            name = champion.get("version") or tag  # registered in another clone
        life.versions[tag] = Version(tag=tag, name=name, color=PALETTE[index % len(PALETTE)],
                                     registry=info, report=monitored.get(tag))  # fmt: skip
    if experiments:
        life.experiments, life.experiments_note = _experiments(root)
    return life
