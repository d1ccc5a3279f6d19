"""Score requests with a second model after their answer is sent: shadow serving's worker.

`OffPathScorer.submit` is O(1) on the request path (one tuple appended to a bounded deque, no
lock, no wake-up); a daemon thread wakes every `interval_s`, takes everything waiting, scores
it with one model call per `batch_rows` and logs each row's prediction under the prediction
id the client got. Waking on a clock rather than per request is what keeps the champion's
throughput: at 1,000 requests/s a call scores ~50 records, so the model's fixed cost per
call (and the thread's turns holding the interpreter lock) is paid 20 times a second, not
1,000 times. Nothing it does can change an
answer: the answer is built before `submit`, the thread only reads the rows and ids, and every
failure is caught and counted instead of raised:

- `dropped`: rows turned away because the queue held `max_rows` (the model falls behind);
- `errors`: rows the model could not score (its own domain rules, a broken session, ...);
- `timeouts`: rows of a call that took longer than `timeout_s`; their predictions are not
  logged, because a model that slow could not have answered in the champion's place.

Counts are kept per process, published to a status file (`ChallengerStatus`) about once a
second, and given to `on_count` (the service's Prometheus counter).
"""

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from tabml.scoring.model import PackagedModel
from tabml.serving.request_log import RequestLogger

_log = logging.getLogger("tabml.serving.challengers")
OUTCOMES = ("scored", "dropped", "errors", "timeouts")


class OffPathScorer:
    """A model scoring submitted rows on its own thread, logging under the given ids."""

    def __init__(
        self,
        model: PackagedModel,
        role: str,
        logger: RequestLogger | None,
        on_count: Callable[[str, int], None] = lambda outcome, n: None,
        max_rows: int = 10_000,
        batch_rows: int = 1024,
        timeout_s: float = 1.0,
        interval_s: float = 0.05,
    ) -> None:
        self.model, self.role, self.logger = model, role, logger
        self.on_count = on_count
        self.max_rows, self.batch_rows, self.timeout_s = max_rows, batch_rows, timeout_s
        self.interval_s = interval_s
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self._queue: collections.deque[tuple[Sequence[dict], list[str]]] = collections.deque()
        self._queued = 0  # approximate across threads; only bounds the queue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"tabml-{role}", daemon=True)
        self._thread.start()

    def submit(self, rows: Sequence[dict], ids: list[str]) -> None:
        """Queue rows (already answered) and their prediction ids; drop them when full."""
        if self._queued + len(rows) > self.max_rows:
            self._count("dropped", len(rows))
            return
        self._queue.append((rows, ids))
        self._queued += len(rows)

    def close(self, wait_s: float = 5.0) -> None:
        """Score what is queued (up to `wait_s`), then stop the thread."""
        self._stop.set()
        self._thread.join(wait_s)

    def _count(self, outcome: str, rows: int) -> None:
        self.counts[outcome] += rows
        self.on_count(outcome, rows)

    def _take(self) -> list[tuple[Sequence[dict], list[str]]]:
        taken, rows = [], 0
        while self._queue and rows < self.batch_rows:
            item = self._queue.popleft()
            taken.append(item)
            rows += len(item[0])
        self._queued -= rows
        return taken

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.interval_s)
            while self._queue:
                self._score(self._take())
            if stopping:
                return

    def _score(self, taken: list[tuple[Sequence[dict], list[str]]]) -> None:
        rows = [row for request, _ in taken for row in request]
        ids = [i for _, request_ids in taken for i in request_ids]
        start = time.perf_counter()
        try:
            answers = self._predictions(rows)
        except Exception:  # one request's rows may break this model's rules: score each alone
            answers = self._one_by_one(taken)
        if time.perf_counter() - start > self.timeout_s:
            self._count("timeouts", len(rows))
            return
        kept = [(answer, i) for answer, i in zip(answers, ids, strict=True) if answer is not None]
        for answer, prediction_id in kept:
            answer["prediction_id"] = prediction_id
        self._count("scored", len(kept))
        if self.logger is not None and kept:
            # No inputs: the request log already holds them under the same prediction id.
            self.logger.log(
                [{}] * len(kept),
                self.model.version,
                answers=[answer for answer, _ in kept],
                target=self.model.target,
                logged=self._logged,
            )

    def _predictions(self, rows: Sequence[dict]) -> list[dict]:
        """The model's answers without range warnings (nobody reads a shadow's warnings)."""
        model = self.model
        return model.task.answers(model.predict(model.inputs(rows).checked()), model.target)

    def _one_by_one(self, taken: list[tuple[Sequence[dict], list[str]]]) -> list[Any]:
        answers: list[Any] = []
        for rows, _ in taken:
            try:
                answers.extend(self._predictions(rows))
            except Exception as error:
                self._count("errors", len(rows))
                _log.debug("%s %s could not score %d rows: %s", self.role, self.model.version,
                           len(rows), error)  # fmt: skip
                answers.extend([None] * len(rows))
        return answers

    def _logged(self, answer: dict, target: str | None) -> dict:
        return {**self.model.task.logged(answer, target), "role": self.role}
