"""The run directory: claim, lock, refusal of foreign directories, status on every exit, salvage."""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

import runstore
from runstore import (
    RECORDS,
    ChunkEntry,
    Record,
    RunDir,
    RunKind,
    RunStoreError,
    Status,
    open_run,
    read_findings,
    read_table,
)
from runstore.schema import MUTANTS, ColumnType, MutantRow


def record(expr_id: int, method: str = "engine_f64", grad: float = 1.0) -> Record:
    return Record(
        run_id="r", engine="gradproof", expr_id=expr_id, expr="exp(x0)", sympy_expr="exp(x0)", depth=1, size=2,
        ops="exp", n_vars=1, point_id=0, point="[0.5]", variable=0, method=method, value=1.6, true_value=1.6,
        value_ulp=0.0, grad=grad, true_grad=1.6, abs_err=0.0, rel_err=0.0, ulp_err=0.0, bits_err=0.0, cond=1.0,
        verdict="ok", outcome="ok", exception="", time_s=0.001,
    )  # fmt: skip


def commit(run: RunDir, index: int, n: int = 3, findings: int = 0) -> None:
    rows = [record(index * 100 + i) for i in range(n)]
    found = [{"kind": "rule_bug", "expr_id": index * 100 + i} for i in range(findings)]
    run.commit_chunk(
        ChunkEntry(index, rows={"records": n}, findings=findings, counts={"points": n}), {"records": rows}, found
    )


def test_schema_declares_types_in_field_annotations() -> None:
    cols = {c.name: c.type for c in RECORDS.columns}
    assert cols["expr_id"] is ColumnType.INT and cols["grad"] is ColumnType.FLOAT and cols["expr"] is ColumnType.STR
    assert {c.name: c.type for c in MUTANTS.columns}["killed"] is ColumnType.BOOL
    assert all(c.doc for c in RECORDS.columns)


def test_create_commit_read_and_finish(tmp_path: Path) -> None:
    with RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {"seed": 3}) as run:
        commit(run, 1, findings=2)
        commit(run, 0)
        commit(run, 1)  # a retried chunk: ignored, never written twice
        run.finish(Status.FINISHED, counts={"x": 1})
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["status"] == "finished" and meta["seed"] == 3 and meta["kind"] == "campaign"
    table = read_table(tmp_path / "run" / "records", RECORDS)
    assert table.column("expr_id").to_pylist() == [0, 1, 2, 100, 101, 102]
    some = read_table(tmp_path / "run" / "records", RECORDS, columns=["expr_id"], where=ds.field("expr_id") >= 100)
    assert some.column_names == ["expr_id"] and some.num_rows == 3
    assert len(read_findings(tmp_path / "run").findings) == 2
    stored = open_run(tmp_path / "run")
    assert sorted(stored.chunks) == [0, 1] and stored.notes == () and stored.status == "finished"


def test_a_second_run_on_a_locked_directory_is_refused(tmp_path: Path) -> None:
    first = RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {})
    with pytest.raises(RunStoreError, match="already holds a run"):
        RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {})
    with pytest.raises(RunStoreError, match=r"is in use by process \d+"):
        RunDir.resume(tmp_path / "run", RunKind.CAMPAIGN)
    first.finish(Status.INTERRUPTED)
    resumed = RunDir.resume(tmp_path / "run", RunKind.CAMPAIGN)
    assert resumed.meta["resumed"][0]["previous_status"] == "interrupted"
    resumed.close()


def test_foreign_directory_is_refused_and_untouched(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "records.csv").write_text("precious\n")
    with pytest.raises(RunStoreError, match=r"holds files but is not a gradproof run \(records.csv\)"):
        RunDir.create(tmp_path / "mine", RunKind.CAMPAIGN, {})
    assert os.listdir(tmp_path / "mine") == ["records.csv"]
    assert (tmp_path / "mine" / "records.csv").read_text() == "precious\n"
    (tmp_path / "file").write_text("")
    with pytest.raises(RunStoreError, match="is not a directory"):
        RunDir.create(tmp_path / "file", RunKind.CAMPAIGN, {})


def test_empty_directory_is_claimed_once(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    run = RunDir.create(tmp_path / "empty", RunKind.MUTATION, {})
    run.close()
    names = [runstore.claim_new(tmp_path / "runs", "20260101-000000") for _ in range(3)]
    assert [p.name for p in names] == ["20260101-000000", "20260101-000000-2", "20260101-000000-3"]


def test_resume_refuses_a_finished_run_and_another_kind(tmp_path: Path) -> None:
    RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {}).finish(Status.FINISHED)
    with pytest.raises(RunStoreError, match="already finished"):
        RunDir.resume(tmp_path / "run", RunKind.CAMPAIGN)
    with pytest.raises(RunStoreError, match="holds a campaign run, not a mutation run"):
        RunDir.resume(tmp_path / "run", RunKind.MUTATION)
    with pytest.raises(RunStoreError, match="not a gradproof run"):
        RunDir.resume(tmp_path, RunKind.CAMPAIGN)


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from runstore import ChunkEntry, RunDir, RunKind, Status
    with RunDir.create(Path(sys.argv[1]), RunKind.CAMPAIGN, {}) as run:
        run.commit_chunk(ChunkEntry(0, findings=1), {}, [{"kind": "rule_bug"}])
        print("ready", flush=True)
        time.sleep(60)
        run.finish(Status.FINISHED)
    """
)


def _start_holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_sigkill_leaves_a_run_that_the_next_touch_marks_killed(tmp_path: Path) -> None:
    proc = _start_holder(tmp_path / "run")
    assert open_run(tmp_path / "run").status == "running"  # the lock is held: really running
    proc.kill()
    proc.wait()
    stored = open_run(tmp_path / "run")
    assert stored.status == "killed" and "killed" in stored.meta["status_note"]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "killed"
    assert read_findings(tmp_path / "run").findings == [{"chunk": 0, "kind": "rule_bug"}]
    run = RunDir.resume(tmp_path / "run", RunKind.CAMPAIGN)
    assert 0 in run.chunks and run.meta["resumed"][-1]["previous_status"] == "killed"
    run.close()


def test_sigterm_ends_the_run_as_interrupted(tmp_path: Path) -> None:
    proc = _start_holder(tmp_path / "run")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["status"] == "interrupted"
    assert "SIGTERM" in meta["status_note"]


def test_an_error_marks_the_run_failed(tmp_path: Path) -> None:
    with pytest.raises(ZeroDivisionError), RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {}):
        1 / 0  # noqa: B018
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["status"] == "failed" and meta["status_note"] == "division by zero"


def test_full_disk_is_one_clear_error_and_the_run_is_marked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {})
    commit(run, 0)
    import runstore.atomic

    real = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runstore.atomic.os, "fsync", full)
    with pytest.raises(RunStoreError, match=r"cannot write .*records: the disk is full"):
        with run:
            commit(run, 1)
    assert not [p for p in (tmp_path / "run" / "records").iterdir() if p.name.startswith(".")]  # no temporary left
    monkeypatch.setattr(runstore.atomic.os, "fsync", real)
    stored = open_run(tmp_path / "run")  # run.json could not be written either: the next touch marks it
    assert stored.status == "killed"
    assert sorted(stored.parts["records"].files) == [0]


def test_torn_part_and_torn_lines_are_salvaged(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {})
    for i in range(3):
        commit(run, i, findings=1)
    run.close()
    part = tmp_path / "run" / "records" / "part-000001.parquet"
    part.write_bytes(part.read_bytes()[:100])
    with open(tmp_path / "run" / "findings.jsonl", "a") as fh:
        fh.write('{"chunk": 3, "kind": "rul')
    with open(tmp_path / "run" / "chunks.jsonl", "a") as fh:
        fh.write('{"index": 3, "rows"')
    stored = open_run(tmp_path / "run")
    assert sorted(stored.parts["records"].files) == [0, 2]
    assert any("part-000001.parquet: dropped a damaged part" in n for n in stored.notes)
    assert any("chunks.jsonl: dropped 1 damaged line" in n for n in stored.notes)
    assert sorted(stored.chunks) == [0, 1, 2]
    found = read_findings(tmp_path / "run")
    assert len(found.findings) == 3 and "dropped 1 damaged line" in found.notes[0]
    assert read_table(tmp_path / "run" / "records", RECORDS, parts=stored.parts["records"]).num_rows == 6


def test_damaged_findings_json_falls_back_to_the_log(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {})
    commit(run, 0, findings=2)
    commit(run, 0, findings=2)
    run.write_json("findings.json", {"findings": [], "shrunk": []})
    run.close()
    assert read_findings(tmp_path / "run").findings == []
    (tmp_path / "run" / "findings.json").write_text('{"findings": [{"kind"')
    found = read_findings(tmp_path / "run")
    assert len(found.findings) == 2 and "findings.json is damaged" in found.notes[0]


def test_small_tables_are_csv_and_export_writes_records_csv(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {})
    commit(run, 0, n=2)
    row = MutantRow("m", "sign", math.nan, "prover", True, 1.0, 0.5, "exp", 1, "x")
    run.write_table(MUTANTS, [row])
    run.close()
    assert (tmp_path / "run" / "mutants.csv").read_text().splitlines()[1].startswith("m,sign,nan,prover,yes,")
    out, rows = runstore.export_csv(tmp_path / "run")
    lines = out.read_text().splitlines()
    assert rows == 2 and len(lines) == 3 and lines[0].replace('"', "").split(",")[:3] == ["run_id", "engine", "expr_id"]


def test_a_forked_child_does_not_keep_the_lock(tmp_path: Path) -> None:
    run = RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {})
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child drops its copies, as a worker does, then lingers
        for fd in runstore.held_lock_fds():
            os.close(fd)
        os.write(ready_w, b"x")
        time.sleep(3)
        os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"x"
        run.close()
        again = RunDir.resume(tmp_path / "run", RunKind.CAMPAIGN)
        again.close()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(ready_r)
        os.close(ready_w)


def test_a_signal_during_a_commit_waits_for_its_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runstore.rundir

    real = runstore.rundir.append_lines

    def interrupted_append(path: Path, values: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives between the part and the manifest line
        real(path, values)

    with RunDir.create(tmp_path / "run", RunKind.CAMPAIGN, {}) as run:
        monkeypatch.setattr(runstore.rundir, "append_lines", interrupted_append)
        commit(run, 0)
        assert 0 in run.chunks  # committed whole: part and manifest line
        with pytest.raises(KeyboardInterrupt):
            run.check_stop()
    assert sorted(open_run(tmp_path / "run").chunks) == [0]
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "interrupted"
