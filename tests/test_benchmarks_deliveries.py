"""The deliveries benchmark runs every backend and compares it with no store at all."""
from __future__ import annotations

import pytest

from benchmarks import deliveries


def test_every_backend_is_measured_against_no_store(redis_port: int) -> None:
    with deliveries.backends() as urls:
        assert set(urls) == {"none", "memory", "sqlite", "redis"}
        rows = deliveries.measure(urls, rounds=2, batch=5)
    assert [row["store"] for row in rows] == ["none", "memory", "sqlite", "redis"]
    assert rows[0]["first_x"] == 1.0 and rows[0]["first_added_us"] == 0.0
    assert all(row["first_us"] > 0 and row["duplicate_us"] > 0 for row in rows)


def test_the_table_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    deliveries.main(["--rounds", "1", "--batch", "2"])
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[0] == "store" and "sqlite" in out
