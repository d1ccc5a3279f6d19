"""`make dashboard`: gather the reports and the registry, write `reports/site/index.html`.

The same inputs give the same bytes: no build time on the page, every list in a fixed
order, numbers formatted to fixed decimals.
"""

from pathlib import Path

from tabml import atomic, yaml_io
from tabml.dashboard.collect import collect
from tabml.dashboard.page import render

SITE_DIR = Path("reports/site")


def _title(root: Path) -> str:
    params = (
        yaml_io.load((root / "params.yaml").read_text()) if (root / "params.yaml").exists() else {}
    )
    profile = ((params or {}).get("data") or {}).get("profile") or "model"
    return f"Model dashboard: {profile}"


def build_site(root: Path = Path("."), out_dir: Path = SITE_DIR, experiments: bool = True) -> Path:
    """Write the page into `out_dir` (relative to `root` unless absolute); return its path."""
    root = Path(root)
    life = collect(root, experiments=experiments)
    target = (
        (root / out_dir / "index.html")
        if not Path(out_dir).is_absolute()
        else Path(out_dir) / "index.html"
    )
    return atomic.write_text(target, render(life, _title(root)))
