"""In process, but on two cores: a forked child reads, checks and scores while this one writes.

Writing is most of a batch's time (SQLite binds every value of every row in Python, holding
the GIL), and so is reading and scoring; in one thread they take turns, and a writer thread
takes turns with the scoring for the GIL as well (measured: see docs/production-loop.md). A child
process forked once the model is loaded scores the partitions one after another, in file
order, and sends each chunk's arrays through a pipe; the parent writes one chunk while the
child scores the next. The pipe holds about one chunk, so memory stays bounded.

The child shares nothing it writes: it never touches the database (it leaves with
`os._exit`, so no finaliser closes the parent's connection), and what it sends is exactly
what scoring in the parent would give (the same partitions, the same chunks). An error in
the child is raised in the parent; a child that dies (killed, out of memory) fails the batch,
and the parent's transaction writes nothing. Only where `fork` exists (Linux); elsewhere, and
with `TABML_BATCH_FORK=0`, chunks are scored in this process between writes.
"""

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator

from tabml.batch.score_partition import ChunkScores
from tabml.errors import TabmlError

FORK_ENV = "TABML_BATCH_FORK"


class ScorerDiedError(TabmlError, RuntimeError):
    """The process scoring the batch's rows ended before sending them all."""


def can_fork() -> bool:
    """Fork is safe and available here (Linux), and not turned off."""
    if os.environ.get(FORK_ENV, "1").strip() == "0":
        return False
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def scored_in_child(chunks: Callable[[], Iterator[ChunkScores]]) -> Iterator[ChunkScores]:
    """The chunks `chunks()` yields, computed in a forked child, in their order."""
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(chunks, sending), daemon=True)
    child.start()
    sending.close()  # only the child's copy stays open: its exit ends the pipe
    try:
        while True:
            try:
                kind, value = receiving.recv()
            except (EOFError, OSError):  # OSError: it died in the middle of a message
                child.join(timeout=10)
                raise ScorerDiedError(_died(child.exitcode)) from None
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        receiving.close()
        if child.is_alive():
            child.kill()
        child.join()


def _child(chunks: Callable[[], Iterator[ChunkScores]], sending) -> None:
    code = 0
    try:
        for scores in chunks():
            sending.send(("chunk", scores))
        sending.send(("done", None))
    except BaseException as err:  # the parent raises it: the user sees the same error
        code = 1
        try:
            sending.send(("error", err))
        except Exception:  # not picklable: its text is enough
            sending.send(("error", ScorerDiedError(f"scoring failed: {err}")))
    finally:
        sending.close()
        os._exit(code)  # no finalisers: the parent's database connection is its own


def _died(exitcode: int | None) -> str:
    how = f"exit code {exitcode}"
    if exitcode is not None and exitcode < 0:
        how = f"signal {signal.Signals(-exitcode).name}"
    return (
        f"the process scoring the batch's rows ended ({how}) before sending them all; "
        "nothing was written: rerun"
    )
