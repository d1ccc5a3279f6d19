"""MicroBatcher: concurrent callers share one model call, each gets its own answers in order."""

import asyncio

import pytest

from tabml.serving.microbatch import MicroBatcher


class Model:
    """Answers each row with (row, call number); fails on rows equal to "bad"."""

    def __init__(self) -> None:
        self.calls: list[list] = []

    def __call__(self, rows):
        self.calls.append(list(rows))
        if "bad" in rows:
            raise ValueError("bad row")
        return [(row, len(self.calls)) for row in rows]


def test_concurrent_callers_share_one_call_and_keep_their_order():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        return await asyncio.gather(
            batcher.score(["a1", "a2"]), batcher.score(["b1"]), batcher.score(["c1", "c2", "c3"])
        )

    answers = asyncio.run(main())
    assert answers == [[("a1", 1), ("a2", 1)], [("b1", 1)], [("c1", 1), ("c2", 1), ("c3", 1)]]
    assert model.calls == [["a1", "a2", "b1", "c1", "c2", "c3"]]


def test_a_lone_caller_is_answered_without_waiting_for_others():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        first = await asyncio.wait_for(batcher.score(["x"]), timeout=1)
        second = await asyncio.wait_for(batcher.score(["y"]), timeout=1)
        return first, second

    assert asyncio.run(main()) == ([("x", 1)], [("y", 2)])


def test_callers_arriving_while_settling_join_the_batch():
    model = Model()
    batcher = MicroBatcher(model, settle_turns=3)

    async def late(rows):
        await asyncio.sleep(0)  # reaches the model one loop turn after the first caller
        return await batcher.score(rows)

    async def main():
        return await asyncio.gather(batcher.score(["early"]), late(["late"]))

    assert asyncio.run(main()) == [[("early", 1)], [("late", 1)]]
    assert len(model.calls) == 1


def test_max_rows_scores_at_once():
    model = Model()
    batcher = MicroBatcher(model, max_rows=3)

    async def main():
        return await asyncio.gather(*(batcher.score([f"r{i}"]) for i in range(7)))

    answers = asyncio.run(main())
    assert [a[0][0] for a in answers] == [f"r{i}" for i in range(7)]
    assert [len(call) for call in model.calls] == [3, 3, 1]


def test_one_callers_failure_does_not_fail_the_others():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        return await asyncio.gather(
            batcher.score(["ok1"]), batcher.score(["bad"]), batcher.score(["ok2"]),
            return_exceptions=True,
        )  # fmt: skip

    ok1, bad, ok2 = asyncio.run(main())
    assert isinstance(bad, ValueError)
    assert ok1[0][0] == "ok1" and ok2[0][0] == "ok2"
    assert model.calls[0] == ["ok1", "bad", "ok2"]  # tried together first, then alone


def test_a_cancelled_caller_is_skipped():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        gone = asyncio.ensure_future(batcher.score(["gone"]))
        stays = asyncio.ensure_future(batcher.score(["stays"]))
        await asyncio.sleep(0)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await stays

    assert asyncio.run(main()) == [("stays", 1)]
    assert model.calls == [["stays"]]
