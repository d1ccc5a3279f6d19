"""Score concurrent requests together: one model call for all records waiting on the event loop.

Under load, a model call's fixed cost (onnxruntime's per-run work, with caches cold from the
server code around it) is most of a one-record request's model time. `MicroBatcher` lets the
requests that reach the model in the same few event-loop turns share one call. It never waits
on a clock: a lone request is scored after `settle_turns` empty loop turns. Measured in
docs/serving.md; BentoML's own adaptive batching (a dispatcher with a latency budget) is
measured beside it in `make bench-serve`.

Answers do not depend on which requests shared a call: `PackagedModel.predict` scores every
row as part of a batch of at least two (serving.md, "Batching").
"""

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

Score = Callable[[Sequence[Any]], list[Any]]


class MicroBatcher:
    """`await batcher.score(rows)` -> `score(rows)`, computed together with concurrent callers.

    Args:
        score: rows -> one answer per row, in order (pure; runs on the event loop thread).
        settle_turns: event-loop turns to wait for other requests before scoring. A request
            reaches the model one or two turns after its bytes are read; with 4 turns the
            requests of 16 busy connections meet in one call (about 16 per call, against
            about 9 with 2 turns: docs/serving.md, "Batching").
        max_rows: score at once when this many rows are waiting.
    """

    def __init__(self, score: Score, settle_turns: int = 4, max_rows: int = 1024):
        self._score = score
        self.settle_turns = settle_turns
        self.max_rows = max_rows
        self._waiting: list[tuple[Sequence[Any], asyncio.Future]] = []
        self._rows = 0

    async def score(self, rows: Sequence[Any]) -> list[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._settle, loop, self.settle_turns - 1)
        self._waiting.append((rows, future))
        self._rows += len(rows)
        if self._rows >= self.max_rows:
            self._flush()
        return await future

    def _settle(self, loop: asyncio.AbstractEventLoop, turns_left: int) -> None:
        if turns_left > 0:
            loop.call_soon(self._settle, loop, turns_left - 1)
        else:
            self._flush()

    def _flush(self) -> None:
        waiting, self._waiting, self._rows = self._waiting, [], 0
        # A caller cancelled meanwhile (client gone, server timeout) needs no answer.
        waiting = [(rows, future) for rows, future in waiting if not future.done()]
        if not waiting:
            return
        try:
            answers = self._score([row for rows, _ in waiting for row in rows])
        except Exception:
            # One caller's bad rows must not fail the others: score each caller alone.
            for rows, future in waiting:
                self._answer_alone(rows, future)
            return
        start = 0
        for rows, future in waiting:
            future.set_result(answers[start : start + len(rows)])
            start += len(rows)

    def _answer_alone(self, rows: Sequence[Any], future: asyncio.Future) -> None:
        try:
            future.set_result(self._score(rows))
        except Exception as error:
            future.set_exception(error)
