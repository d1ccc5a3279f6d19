"""Shadow and canary models beside the champion, in one server (docs/serving.md, "Shadow and
canary").

`make serve SHADOW=v1.1.0[:share] CANARY=v1.2.0:share` exports each version's bento and
passes it to the workers in the environment (`TABML_SHADOW=<archive>|<share>|<name>`,
`TABML_CANARY=...`). In each worker:

- a **shadow** model scores a share of requests after their answer is produced
  (`off_path.OffPathScorer`): the client's answer is the champion's, byte for byte;
- a **canary** model answers a share of records itself; the champion then scores those
  records off the answer's path, so both models have a prediction for every canary record.

Which records: the first `share` of a hash of the record's prediction id, or of the
client's entity key (header `X-Entity-Key`) when given, so an entity always gets the same
model. A challenger that fails to load, errors or times out is counted (Prometheus
`tabml_challenger_rows`, and `logs/challengers/status/<pid>.json`, which `make monitor`
reports) and never changes the champion's answers. Challenger predictions are logged to
`logs/challengers/` (request log lines with `"role"` and no inputs).
"""

import hashlib
import json
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from tabml import atomic
from tabml.errors import TabmlError
from tabml.scoring.model import PackagedModel
from tabml.scoring.packaged import read_model
from tabml.scoring.prediction_ids import new_ids
from tabml.serving.off_path import OUTCOMES, OffPathScorer
from tabml.serving.request_log import RequestLogger, logging_enabled

SHADOW_ENV, CANARY_ENV = "TABML_SHADOW", "TABML_CANARY"
LOG_DIR_ENV = "TABML_CHALLENGER_LOG_DIR"
TIMEOUT_ENV = "TABML_CHALLENGER_TIMEOUT_S"
DEFAULT_LOG_DIR = Path("logs/challengers")
STATUS = "status"  # per-process count files, under the challenger log


Score = Callable[[list[dict]], Awaitable[list[dict]]]


class ChallengerError(TabmlError, ValueError):
    """A SHADOW= or CANARY= setting that cannot be used."""


@dataclass(frozen=True)
class Challenger:
    """One challenger as the launcher hands it to the workers."""

    archive: Path  # its exported bento
    share: float  # of records, in (0, 1]
    name: str  # the registry version (or the archive's name)

    def encode(self) -> str:
        return f"{self.archive}|{self.share!r}|{self.name}"

    @classmethod
    def decode(cls, text: str) -> "Challenger":
        archive, share, name = text.split("|", 2)
        return cls(Path(archive), float(share), name)


def parse_share(text: str, what: str) -> float:
    """A share of records: a number in (0, 1]."""
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0:
        raise ChallengerError(f"{what}: share {text!r} must be a number in (0, 1], e.g. 0.1")
    return share


def in_share(key: str, share: float) -> bool:
    """Whether `key` falls in the first `share` of the hash space (the same on every worker,
    machine and run: blake2b, not Python's salted `hash`)."""
    if share >= 1.0:
        return True
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share * 2**64


def log_dir() -> Path:
    return Path(os.environ.get(LOG_DIR_ENV) or DEFAULT_LOG_DIR)


def configured(env: str) -> Challenger | None:
    text = os.environ.get(env)
    return Challenger.decode(text) if text else None


def load(challenger: Challenger) -> PackagedModel:
    info, onnx_bytes = read_model(challenger.archive)
    return PackagedModel(onnx_bytes, info["metadata"], f"{info['name']}:{info['version']}")


class Challengers:
    """The worker's shadow and canary models, their off-path scorers and their counts."""

    def __init__(self, champion: PackagedModel, count: Callable[[str, str, str, int], None]):
        self.champion = champion
        self._count = count  # (role, version, outcome, rows) -> the Prometheus counter
        self.logger = RequestLogger(log_dir()) if logging_enabled() else None
        self.status: dict[str, dict] = {}
        self.shadow = self.canary = None
        self.shadow_share = self.canary_share = 0.0
        self.champion_off_path = None
        timeout = float(os.environ.get(TIMEOUT_ENV) or 1.0)
        for role, env in (("shadow", SHADOW_ENV), ("canary", CANARY_ENV)):
            found = configured(env)
            if found is None:
                continue
            self.status[role] = {"name": found.name, "model_version": None, "load_error": None,
                                 **dict.fromkeys(OUTCOMES, 0)}  # fmt: skip
            try:
                model = load(found)
            except Exception as error:  # a bad archive must not stop the champion serving
                self.status[role]["load_error"] = str(error)[:500]
                count(role, found.name, "load_errors", 1)
                continue
            self.status[role]["model_version"] = model.version
            if role == "shadow":
                self.shadow = self._scorer(model, role, timeout)
                self.shadow_share = found.share
            else:
                self.canary, self.canary_share = model, found.share
                self.champion_off_path = self._scorer(champion, "champion", timeout)
        self._stop = threading.Event()
        if self.status:
            threading.Thread(target=self._publish, name="tabml-status", daemon=True).start()

    def _scorer(self, model: PackagedModel, role: str, timeout: float) -> OffPathScorer:
        name = self.status[role]["name"] if role in self.status else model.version

        def on_count(outcome: str, rows: int) -> None:
            if role in self.status:
                self.status[role][outcome] += rows
            self._count(role, name, outcome, rows)

        return OffPathScorer(model, role, self.logger, on_count, timeout_s=timeout)

    def canary_rows(self, ids: list[str], entity_key: str | None) -> list[bool]:
        """Which records the canary answers."""
        if entity_key is not None:
            return [in_share(entity_key, self.canary_share)] * len(ids)
        return [in_share(i, self.canary_share) for i in ids]

    async def answer(
        self, rows: list[dict], score_champion: Score, version: str, entity_key: str | None
    ) -> list[dict]:
        """Answers with the canary for its share of records, the champion for the rest (and
        for all of them when the canary fails); each names the model that made it."""
        ids = new_ids(len(rows))
        chosen = self.canary_rows(ids, entity_key)
        picked = [row for row, canary in zip(rows, chosen, strict=True) if canary]
        from_canary = self.score_canary(picked) if picked else []
        if from_canary is None:
            chosen, from_canary = [False] * len(rows), []
        others = [row for row, canary in zip(rows, chosen, strict=True) if not canary]
        from_champion = iter(await score_champion(others) if others else [])
        canary_answers, made_by = iter(from_canary), self.canary.version
        answers = []
        for prediction_id, canary in zip(ids, chosen, strict=True):
            answer = next(canary_answers) if canary else next(from_champion)
            answer["prediction_id"] = prediction_id
            answer["model_version"] = made_by if canary else version
            answers.append(answer)
        return answers

    @staticmethod
    def by_version(rows: list[dict], answers: list[dict]) -> dict[str, tuple[list, list]]:
        """Rows and answers grouped by the model that answered (for the request log)."""
        groups: dict[str, tuple[list, list]] = {}
        for row, answer in zip(rows, answers, strict=True):
            found = groups.setdefault(answer["model_version"], ([], []))
            found[0].append(row)
            found[1].append(answer)
        return groups

    def score_canary(self, rows: list[dict]) -> list[dict] | None:
        """The canary's answers, or None (counted) when it cannot score them."""
        try:
            answers = self.canary.score(rows)
        except Exception:
            self.status["canary"]["errors"] += len(rows)
            self._count("canary", self.status["canary"]["name"], "errors", len(rows))
            return None
        self.status["canary"]["scored"] += len(rows)
        self._count("canary", self.status["canary"]["name"], "scored", len(rows))
        return answers

    def after(self, rows: list[dict], answers: list[dict]) -> None:
        """After the answer: the shadow scores its share of records, the champion the canary's."""
        if self.shadow is not None:
            picked = [(row, a["prediction_id"]) for row, a in zip(rows, answers, strict=True)
                      if in_share(a["prediction_id"], self.shadow_share)]  # fmt: skip
            if picked:
                self.shadow.submit([row for row, _ in picked], [i for _, i in picked])
        if self.champion_off_path is not None:
            canary = self.canary.version
            picked = [(row, a["prediction_id"]) for row, a in zip(rows, answers, strict=True)
                      if a["model_version"] == canary]  # fmt: skip
            if picked:
                self.champion_off_path.submit([row for row, _ in picked], [i for _, i in picked])

    def _write_status(self, last: str | None = None) -> str | None:
        """The counts to this worker's status file when they changed; what was written."""
        now = json.dumps(self.status, sort_keys=True)
        if now == last:
            return last
        path = log_dir() / STATUS / f"{os.getpid()}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(path, now + "\n")
        except OSError:
            return last  # counts stay on /metrics; the next second tries again
        return now

    def _publish(self) -> None:
        last = None
        while not self._stop.wait(1.0):
            last = self._write_status(last)

    def close(self) -> None:
        for scorer in (self.shadow, self.champion_off_path):
            if scorer is not None:
                scorer.close()
        self._stop.set()
        if self.status:
            self._write_status()  # the final counts, after the queues were scored
        if self.logger is not None:
            self.logger.close()
