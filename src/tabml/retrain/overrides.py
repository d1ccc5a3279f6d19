"""`make retrain SET="key.sub=value ..."`: params.yaml overrides for the challenger.

Each value is read as YAML, like `dvc exp run -S`, and written in place of the old value's
text on its line: every other byte of params.yaml (comments, `null`s, layout) stays as it
was, so the challenger's commit shows exactly the overrides. A key whose value spans
several lines (a block list or mapping) is refused: edit params.yaml for that.
"""

from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase

from tabml.errors import TabmlError


class OverrideError(TabmlError, ValueError):
    """An override names no params.yaml key, or one it cannot set in place."""


def _flow(value) -> str:
    """A value as one line of YAML (`0.5`, `random_forest`, `null`, `[1, 2]`)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=float("inf"))
    return text.removesuffix("...\n").strip()


def _set_one(text: str, assignment: str) -> str:
    key, sep, raw = assignment.partition("=")
    *parents, leaf = key.strip().split(".")
    section = YAML().load(text)
    for part in [*parents, leaf][:-1]:
        if not sep or not isinstance(section, dict) or part not in section:
            raise OverrideError(f"--set {assignment!r}: no params.yaml key {key!r}")
        section = section[part]
    if not isinstance(section, dict) or leaf not in section:
        raise OverrideError(f"--set {assignment!r}: no params.yaml key {key!r}")
    old = section[leaf]
    if isinstance(old, CommentedBase) and not old.fa.flow_style():
        raise OverrideError(
            f"--set {assignment!r}: {key} spans several lines in params.yaml; edit it there"
        )
    line, column = section.lc.value(leaf)
    lines = text.splitlines(keepends=True)
    current = lines[line]
    end = len(current.rstrip("\r\n"))
    comment = (section.ca.items.get(leaf) or [None, None, None])[2]
    if comment is not None and comment.start_mark.line == line:
        end = comment.start_mark.column
    old_text = current[column:end].rstrip()
    value = yaml.safe_load(raw)
    new_text = _flow(value) if old_text else f" {_flow(value)}"
    if comment is not None and comment.start_mark.line == line:
        new_text = new_text.ljust(len(old_text))  # the comment keeps its column
    lines[line] = current[:column] + new_text + current[column + len(old_text) :]
    result = "".join(lines)
    expected = yaml.safe_load(text)
    target = expected
    for part in parents:
        target = target[part]
    target[leaf] = value
    if yaml.safe_load(result) != expected:
        raise OverrideError(f"--set {assignment!r}: cannot set {key} in place; edit params.yaml")
    return result


def set_params(params_file: Path, assignments: list[str]) -> None:
    """Apply `key.sub=value` overrides to `params_file`, changing only their values' text."""
    text = params_file.read_text()
    for assignment in assignments:
        text = _set_one(text, assignment)
    params_file.write_text(text)
