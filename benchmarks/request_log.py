"""The request log's capacity, in process: records/s its writer thread keeps up with.

    PYTHONPATH=src python -m benchmarks.request_log [--seconds 5] [--rates 50000,100000]

Two measurements, in a temporary directory with the service's logger settings:
- the writer thread alone: records/s it serialises and writes with nothing else running;
- paced runs: the main thread plays a busy server's event loop, logging requests of
  `--records` penguin records at a given rate and spinning in Python in between (holding the
  GIL, as validation and scoring do), with a queue of 40,000 records (two files). A rate is
  within capacity when nothing is dropped.
"""

import argparse
import random
import tempfile
import time
from pathlib import Path

from tabml.monitoring.sources import read_request_log
from tabml.serving.request_log import RequestLogger


def penguin_rows(count: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [
        {
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"]),
            "bill_length_mm": round(rng.uniform(32, 60), 1),
            "bill_depth_mm": round(rng.uniform(13, 22), 1),
            "flipper_length_mm": float(rng.randint(172, 231)),
            "body_mass_g": float(rng.randint(2700, 6300)),
            "sex": rng.choice(["male", "female", None]),
        }
        for _ in range(count)
    ]


def drain(total: int, records: int) -> float:
    """Records/s the writer thread writes with nothing else running (`total` records)."""
    rows = penguin_rows(records)
    with tempfile.TemporaryDirectory() as folder:
        logger = RequestLogger(Path(folder), 1 << 40, interval_s=3600, max_queued=total)
        start = time.perf_counter()  # enqueueing is O(1) per request: nearly all is writing
        for _ in range(total // records):
            logger.log(rows, "tabml_model:benchmark")
        logger.close()  # wakes the writer, which writes everything queued, then stops
        elapsed = time.perf_counter() - start
        assert len(read_request_log(Path(folder)).frame) == total - logger.dropped
    return total / elapsed


def paced(rate: float, seconds: float, records: int) -> dict:
    """Log `rate` records/s for `seconds` from a producer that holds the GIL in between.

    Between requests the producer spins in Python, as a server busy validating and scoring
    would: the writer gets only the GIL time Python's switch interval gives it.
    """
    rows = penguin_rows(records)
    with tempfile.TemporaryDirectory() as folder:
        # Room on disk for everything (pruning is not what is measured), and a queue of only
        # two files' worth: zero drops then means the writer keeps up, not that it buffered.
        logger = RequestLogger(Path(folder), max_bytes=1 << 40, max_queued=40_000)
        start, sent = time.perf_counter(), 0
        while (now := time.perf_counter()) - start < seconds:
            if sent < (now - start) * rate:
                logger.log(rows, "tabml_model:benchmark")
                sent += records
        dropped = logger.dropped
        logger.close()
        on_disk = len(read_request_log(Path(folder)).frame)
    return {"sent": sent, "dropped": dropped, "on_disk": on_disk}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each paced run")
    parser.add_argument("--records", type=int, default=1000, help="records per request")
    parser.add_argument(
        "--rates", default="50000,100000,150000", help="paced rates to try, records/s"
    )
    args = parser.parse_args()
    print(f"writer alone: {drain(300_000, args.records):,.0f} records/s")
    for rate in (float(r) for r in args.rates.split(",")):
        result = paced(rate, args.seconds, args.records)
        print(
            f"paced {rate:,.0f} records/s for {args.seconds:g} s, busy producer: "
            f"{result['sent']:,} sent, {result['dropped']:,} dropped, "
            f"{result['on_disk']:,} on disk"
        )


if __name__ == "__main__":
    main()
