"""Runs beyond one process: a real Dask cluster, resume after SIGKILL, the lock and refusals at the CLI."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runstore
from benchmarks.cluster import LocalCluster, wait_for
from gradproof.cli import main
from runstore import RECORDS, RUN_FILE, read_table
from verification.campaign import CampaignConfig, run_campaign
from verification.parallel import LocalWorkers
from verification.tallies import FindingTally, RatioSample
from verification.timeout import Timeout, time_limit

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SEED, EXAMPLES = 5, 100
"""The campaign every test here runs: 4 chunks of 25 expressions, seed 5."""
TIMING = {"run_id", "time_s"}


def records(run_dir: Path) -> list[tuple[Any, ...]]:
    """The run's records without the columns that differ between runs of one seed, in a canonical order."""
    names = [c.name for c in RECORDS.columns if c.name not in TIMING]
    rows = read_table(run_dir / RECORDS.path, RECORDS, columns=names).to_pylist()
    out = [tuple(repr(r[n]) for n in names) for r in rows]  # repr: nan == nan
    return sorted(out)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """The records of an uninterrupted local run of the campaign."""
    out = tmp_path_factory.mktemp("reference") / "run"
    run_campaign(CampaignConfig(examples=EXAMPLES, seed=SEED), out, jobs=2, progress=False)
    rows = records(out)
    keys = [r[:2] for r in rows]
    assert len(rows) > 500 and len(set(rows)) == len(rows), keys[:3]
    return rows


def _parts(run_dir: Path) -> int:
    return len(list((run_dir / RECORDS.path).glob("part-*.parquet"))) if (run_dir / RECORDS.path).is_dir() else 0


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# --- a Dask cluster on 127.0.0.1 ----------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """One cluster for the tests of this module (the last one kills a worker)."""
    if shutil.which("dask", path=str(BIN)) is None:
        pytest.fail("the dask command is missing: pip install -e '.[dev]' installs it")
    started = None
    try:
        started = LocalCluster(tmp_path_factory.mktemp("cluster"), workers=2)
        yield started
    finally:
        if started is not None:
            started.stop()


def test_a_campaign_on_dask_gives_the_records_of_a_local_run(
    cluster: LocalCluster, tmp_path: Path, reference: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dask"
    argv = ["verify", "--examples", str(EXAMPLES), "--seed", str(SEED), "--scheduler-file", str(cluster.file)]
    assert main([*argv, "--out", str(out)]) == 0
    assert "Dask scheduler tcp://127.0.0.1:" in capsys.readouterr().out
    assert records(out) == reference
    meta = json.loads((out / RUN_FILE).read_text())
    assert meta["status"] == "finished" and meta["throughput"]["executor"].startswith("Dask scheduler")
    per_op = ["verify", "--per-op", "--ops", "exp,mul", "--per-op-points", "100"]
    assert main([*per_op, "--scheduler-file", str(cluster.file), "--out", str(tmp_path / "a")]) == 0
    assert main([*per_op, "--jobs", "1", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "per_op.csv").read_text() == (tmp_path / "b" / "per_op.csv").read_text()


@pytest.fixture(scope="module")
def lone_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster of one worker for plugins (what a plugin registers there stays out of the other tests)."""
    started = LocalCluster(tmp_path_factory.mktemp("lone"), workers=1)
    try:
        yield started
    finally:
        started.stop()


@pytest.mark.usefixtures("restore_registry")
def test_a_plugin_file_only_the_client_has_is_uploaded_to_the_workers(
    lone_worker: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = tmp_path / "client"
    (client / "mine").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "user_ops.py", client / "mine" / "client_only_ops.py")
    monkeypatch.chdir(client)  # the worker runs elsewhere: mine/client_only_ops.py is not there
    assert not (Path(lone_worker.file).parent / "w0" / "mine").exists()
    argv = ["verify", "--examples", "25", "--seed", "1", "--plugin", "mine/client_only_ops.py", "--ops", "softplus,mul"]
    assert main([*argv, "--scheduler-file", str(lone_worker.file), "--out", str(tmp_path / "run")]) == 0
    ops = read_table(tmp_path / "run" / RECORDS.path, RECORDS, columns=["ops"]).column("ops").to_pylist()
    assert any("softplus" in o for o in ops)
    assert list((Path(lone_worker.file).parent / "w0").rglob("client_only_ops.py"))  # the uploaded copy


@pytest.mark.usefixtures("restore_registry")
def test_what_a_worker_cannot_import_is_a_usage_error_naming_it(
    lone_worker: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "client_only_module.py").write_text((ROOT / "tests" / "user_ops.py").read_text())
    (tmp_path / "engine_here.py").write_text("from autodiff import Value\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # importable by the client only
    monkeypatch.chdir(tmp_path)
    common = ["verify", "--examples", "25", "--scheduler-file", str(lone_worker.file)]
    assert main([*common, "--plugin", "client_only_module", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip()
    assert "Dask worker tcp://127.0.0.1:" in err and "no module named 'client_only_module'" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert main([*common, "--engine", "engine_here.py:Value", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert "Dask worker tcp://127.0.0.1:" in err and "cannot read engine file 'engine_here.py'" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--scheduler-file", str(tmp_path / "none.json"), "--out", str(tmp_path / "r")]) == 2
    assert "scheduler file" in capsys.readouterr().err and not (tmp_path / "r").exists()
    assert main(["verify", "--scheduler", "127.0.0.1:1", "--out", str(tmp_path / "r")]) == 2
    assert "not an address like tcp://HOST:8786" in capsys.readouterr().err


# --- SIGKILL, resume, the lock, refusals ---------------------------------------------


def _campaign(out: Path, *extra: str, examples: int = EXAMPLES) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "gradproof", "verify", "--examples", str(examples), "--seed", str(SEED)]
    return subprocess.Popen(
        [*cmd, "--out", str(out), *extra],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _processes_naming(text: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                found.append(int(pid))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_then_resume_ends_with_the_records_of_an_uninterrupted_run(
    tmp_path: Path, reference: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "killed"
    proc = _campaign(out, "--jobs", "2")
    wait_for(lambda: _parts(out) >= 1, poll=0.02)  # 4 chunks: killed with at least two of them left to run
    proc.kill()
    proc.communicate()
    wait_for(lambda: not _processes_naming(str(out)), 20)  # the workers died with their parent
    assert json.loads((out / RUN_FILE).read_text())["status"] == "running"
    assert main(["verify", "--resume", str(out), "--jobs", "2"]) == 0
    printed = capsys.readouterr().out
    assert "resuming:" in printed and "PASS: no defect" in printed
    assert records(out) == reference
    meta = json.loads((out / RUN_FILE).read_text())
    assert meta["status"] == "finished" and meta["resumed"][0]["previous_status"] == "killed"
    assert meta["counts"]["expressions"] == EXAMPLES
    assert main(["verify", "--resume", str(out)]) == 2
    assert "already finished" in capsys.readouterr().err


def test_the_lock_refuses_a_second_campaign_and_sigterm_interrupts_a_huge_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    proc = _campaign(out, "--jobs", "2", examples=10**9)  # nothing proportional to --examples up front
    try:
        wait_for(lambda: _parts(out) >= 1)
        assert main(["verify", "--examples", "5", "--out", str(out)]) == 2
        assert "already holds a run" in capsys.readouterr().err
        assert main(["verify", "--resume", str(out)]) == 2
        assert f"{out} is in use by process {proc.pid}" in capsys.readouterr().err
        assert runstore.open_run(out).status == "running"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert f"continue with: gradproof verify --resume {out}" in err
    assert json.loads((out / RUN_FILE).read_text())["status"] == "interrupted"


def test_a_directory_that_is_not_a_run_is_refused_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "records.csv").write_text("my own data\n")
    assert main(["verify", "--examples", "5", "--out", str(mine)]) == 2
    assert "holds files but is not a gradproof run" in capsys.readouterr().err
    assert os.listdir(mine) == ["records.csv"] and (mine / "records.csv").read_text() == "my own data\n"


def test_a_full_disk_is_one_line_and_marks_the_run_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import runstore.tables

    def full(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runstore.tables, "write_bytes", full)
    out = tmp_path / "run"
    assert main(["verify", "--examples", "5", "--jobs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"gradproof verify: error: cannot write {out / 'records'}: the disk is full"
    meta = json.loads((out / RUN_FILE).read_text())
    assert meta["status"] == "failed" and "the disk is full" in meta["status_note"]


def test_export_writes_the_records_as_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    run_campaign(CampaignConfig(examples=4, seed=1), out, jobs=1, progress=False)
    assert main(["export", str(out), "--csv"]) == 0
    lines = (out / "records.csv").read_text().splitlines()
    assert f"{len(lines) - 1} records -> {out / 'records.csv'}" in capsys.readouterr().out
    assert len(lines) - 1 == read_table(out / RECORDS.path, RECORDS).num_rows > 0
    assert main(["export", str(tmp_path), "--csv"]) == 2


# --- executors -------------------------------------------------------------------


def _children(_: int) -> int:
    time.sleep(0.2)
    return os.getpid()


def test_local_workers_never_outnumber_the_tasks() -> None:
    seen = []
    for _ in LocalWorkers(jobs=50).map_unordered(_children, iter(range(3)), count=3):
        seen.append(len(multiprocessing.active_children()))
    assert max(seen) == 3


def test_tasks_are_drawn_lazily_a_bounded_number_ahead() -> None:
    drawn = []

    def tasks() -> Iterator[int]:
        for i in range(10**9):
            drawn.append(i)
            yield i

    results = LocalWorkers(jobs=2).map_unordered(_children, tasks(), count=10**9)
    for _ in range(3):
        next(results)
    results.close()  # type: ignore[attr-defined]
    assert len(drawn) <= 3 + 2 * 2


def test_a_time_limit_holds_off_the_main_thread() -> None:
    caught: list[BaseException] = []

    def spin() -> None:
        try:
            with time_limit(0.2):
                while True:
                    pass
        except Timeout as exc:
            caught.append(exc)

    worker = threading.Thread(target=spin)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive() and len(caught) == 1


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    cluster: LocalCluster, tmp_path: Path, reference: list[tuple[Any, ...]]
) -> None:
    out = tmp_path / "dask"
    argv = ["verify", "--examples", str(EXAMPLES), "--seed", str(SEED), "--scheduler-file", str(cluster.file)]
    codes: list[int] = []
    runner = threading.Thread(target=lambda: codes.append(main([*argv, "--out", str(out)])))
    runner.start()
    wait_for(lambda: _parts(out) >= 1)
    cluster.workers[0].kill()  # mid-chunk: both workers hold a chunk once the first part is written
    runner.join(timeout=240)
    assert codes == [0]
    assert records(out) == reference
    manifest = (out / "chunks.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["index"] for line in manifest) == [0, 1, 2, 3]


def test_an_exploding_interval_is_refined_not_a_memory_error() -> None:
    """At 64 bits exp(x1)**-2 ** (x0/x1 * exp(x1)) encloses exp(+-1e34), and exp of that wanted ~1e34 bits:
    a 100,000-expression campaign died of MemoryError there. The enclosure is refused and refined instead."""
    from verification.expr import Apply, Var
    from verification.references import reference

    inner = Apply("pow_const", (Apply("exp", (Var(1),)),), (-2.0,))
    power = Apply("pow", (inner, Apply("mul", (Apply("truediv", (Var(0), Var(1))), Apply("exp", (Var(1),))))))
    certified = reference(Apply("exp", (power,)), 2).certify((0.5, -3.0740982809725835e-54))
    assert certified is not None and certified.bits > 64
    assert (certified.value, certified.grads) == (1.444667861009766, (-1.0629272107732313, -0.5314636053866156))


def test_memory_for_ratios_and_findings_is_bounded() -> None:
    sample = RatioSample(cap=100)
    sample.extend(float(i) for i in range(10_000))
    assert (len(sample.values), sample.seen, sample.maximum, sample.sampled) == (100, 10_000, 9999.0, True)
    median = sample.median()
    assert median is not None and 3000 < median < 7000  # a uniform sample of 0..9999
    small = RatioSample(cap=100)
    small.extend([3.0, 1.0, 2.0])
    assert (small.median(), small.sampled) == (2.0, False)
    tally = FindingTally(keep=2)
    tally.extend({"kind": "rule_bug", "method": "engine_f64", "i": i} for i in range(50))
    tally.extend([{"kind": "rule_bug", "method": "engine_hp"}, {"kind": "value_bug", "method": "engine_f64"}])
    assert tally.counts == {"rule_bug": 51, "value_bug": 1}
    assert [(f["kind"], f["method"]) for f in tally.kept] == [("rule_bug", "engine_f64")] * 2 + [
        ("rule_bug", "engine_hp"),
        ("value_bug", "engine_f64"),
    ]
