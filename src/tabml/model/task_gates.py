"""The metric gates of the active profile's task: `gates` or `regression.gates` in params."""

from tabml.data.profile import DatasetProfile, load_profile
from tabml.params import GatesParams, Params


def active_gates(params: Params, profile: DatasetProfile | None = None) -> GatesParams:
    """`regression.gates` for a regression profile, the top-level `gates` otherwise."""
    task = (profile or load_profile(params.data.profile)).task
    return params.regression.gates if task == "regression" else params.gates
