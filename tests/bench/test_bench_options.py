"""``python -m bench.run``'s --clients/--duration/--warmup/--rounds reach the benchmarks that take them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import infra
from bench import run as bench_run


def test_the_command_line_passes_each_benchmark_only_the_options_it_takes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    def one_concurrency(size: str, *, clients: int = 10, duration: float | None = None) -> dict[str, object]:
        seen.update(size=size, clients=clients, duration=duration)
        return {}

    monkeypatch.setattr(bench_run, "_runner", lambda name: one_concurrency)
    monkeypatch.setattr(bench_run, "machine", dict)
    monkeypatch.setattr(infra, "RESULTS", tmp_path)
    assert bench_run.main(["--only", "profile", "--clients", "4", "--duration", "2.5", "--rounds", "3"]) == 0
    assert seen == {"size": "small", "clients": 4, "duration": 2.5}
    assert "(profile takes no --rounds; ignored)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_run.main(["--only", "throughput", "--clients", "1,x"])
