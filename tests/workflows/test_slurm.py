"""The workflow on a real SLURM cluster through ``workflows/profiles/slurm`` (issue 20): every
job goes through SLURM (sacct lists it), the results are byte-identical to a local
``--cores 2`` run, and a shard job cancelled with ``scancel`` while it runs is resubmitted
by the profile's retry with the same final result.

The shard is killed with ``scancel --batch --signal=KILL`` (its state becomes FAILED, as
after a crash or an out-of-memory kill): a job cancelled outright is "CANCELLED by 0" in
SLURM 22.05's accounting, which snakemake-executor-plugin-slurm 2.8.0 does not recognise as
finished, so snakemake would wait for it for ever (seen 2026-12-03).

Needs a cluster: ``sudo bash workflows/ci/slurm-up.sh`` starts a single-node one on this
machine (``.ci/run`` does so when ``CI=true``) and the executor plugin
``snakemake-executor-plugin-slurm`` (in the ``test`` extra). Without them the tests skip,
saying how to run them; in CI they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflows" / "Snakefile"
TEST_CONFIG = REPO / "workflows" / "config" / "test.yaml"
PROFILE = REPO / "workflows" / "profiles" / "slurm"
BIN = Path(sys.executable).parent
#: outputs compared byte for byte with the local run
COMPARED = ["consensus/k{k}/W.tsv", "consensus/k{k}/H.tsv", "consensus/k{k}/stability.tsv",
            "rank/rank_selection.tsv"]
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: .*/slurm_logs/rule_(\w+)/")


def _why_no_cluster() -> str | None:
    if shutil.which("sbatch") is None or shutil.which("sacct") is None:
        return "no SLURM client (sbatch, sacct) on PATH"
    try:
        ok = subprocess.run(["sinfo", "-h"], capture_output=True, timeout=20).returncode == 0
        ok = ok and subprocess.run(["sacct", "-n", "-X", "-S", "now-1minutes"],
                                   capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        return "no SLURM cluster with accounting answers (sinfo/sacct)"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def cluster():
    why = _why_no_cluster()
    if why is not None:
        message = (f"{why}; start a single-node cluster with 'sudo bash "
                   "workflows/ci/slurm-up.sh' to run the SLURM workflow tests")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the SLURM workflow tests: {message}")
        pytest.skip(message)
    return subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True,
                          timeout=20).stdout.split()[0].rstrip("*")


def _command(workdir, *extra):
    exe = BIN / "snakemake"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]
    # domain none: the generic rank selection and consensus, both in shard jobs (domain
    # signatures shards its extraction's rank selection the same way: test_workflow.py)
    return [*cmd, "-s", str(SNAKEFILE), "--configfile", str(TEST_CONFIG), "--config",
            "domain=none", "--directory", str(workdir), *extra]


def _env():
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                NMFBIO_QUIET="1")


def _slurm_args(partition):
    return ["--workflow-profile", str(PROFILE),
            "--default-resources", "slurm_account=nmfbio", f"slurm_partition={partition}",
            "--latency-wait", "5", "--seconds-between-status-checks", "2",
            "--slurm-init-seconds-before-status-checks", "2"]


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("local")
    done = subprocess.run(_command(work, "--cores", "2"), env=_env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return work


def _rank(work: Path) -> int:
    first = (work / "results" / "rank" / "rank_selection.tsv").read_text().splitlines()[0]
    return int(re.match(r"# best=(\d+);", first).group(1))


def _same_results(work: Path, local: Path) -> None:
    k = _rank(local)
    assert _rank(work) == k
    for name in COMPARED:
        rel = Path("results") / name.format(k=k)
        assert (work / rel).read_bytes() == (local / rel).read_bytes(), rel
    assert (work / "results" / "report.html").is_file()


def _sacct_states(job_ids):
    out = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j",
                          ",".join(job_ids)], capture_output=True, text=True, timeout=30)
    return dict(line.split("|")[:2] for line in out.stdout.splitlines() if "|" in line)


def test_workflow_through_slurm_equals_the_local_run(cluster, local_run, tmp_path):
    done = subprocess.run(_command(tmp_path, *_slurm_args(cluster)), env=_env(),
                          capture_output=True, text=True, timeout=900)
    text = done.stdout + done.stderr
    assert done.returncode == 0, text[-3000:]
    jobs = SUBMITTED.findall(text)
    rules = sorted({rule for _, rule in jobs})
    assert {"convert", "rank_shard", "combine_rank", "consensus_shard", "combine_consensus",
            "report"} <= set(rules), rules
    assert len(jobs) == 8  # every step but 'all' is a SLURM job
    states = _sacct_states([job for job, _ in jobs])
    assert sorted(states) == sorted(job for job, _ in jobs), states
    assert set(states.values()) == {"COMPLETED"}, states
    _same_results(tmp_path, local_run)


def _kill_when_running(job: str) -> str | None:
    """Kill SLURM job ``job`` once it runs, as a crash or an out-of-memory kill would: the
    batch script gets SIGKILL and the job ends FAILED. (A plain ``scancel JOB`` ends it as
    "CANCELLED by 0", a state snakemake-executor-plugin-slurm 2.8.0 does not recognise: it
    then waits for the job for ever.) None when the job finished before it could be killed.
    """
    state = ""
    for _ in range(600):
        state = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True,
                               text=True, timeout=30).stdout.strip()
        if state != "PENDING":
            break
        time.sleep(0.1)
    if state != "RUNNING":
        return None
    done = subprocess.run(["scancel", "--batch", "--signal=KILL", job], capture_output=True,
                          timeout=30)
    return job if done.returncode == 0 else None


def test_cancelled_shard_is_resubmitted_and_the_result_is_unchanged(cluster, local_run,
                                                                    tmp_path):
    lines, cancelled, deadline = [], None, time.time() + 900
    with subprocess.Popen(_command(tmp_path, *_slurm_args(cluster)), env=_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as proc:
        try:
            for line in proc.stdout:
                lines.append(line)
                found = SUBMITTED.search(line)
                if cancelled is None and found and found.group(2) == "consensus_shard":
                    cancelled = _kill_when_running(found.group(1))
                if time.time() > deadline:
                    break
        finally:
            if proc.poll() is None and time.time() > deadline:
                proc.kill()
            proc.wait(timeout=120)
    text = "".join(lines)
    assert cancelled is not None, text[-3000:]
    assert proc.returncode == 0, text[-3000:]
    shards = [job for job, rule in SUBMITTED.findall(text) if rule == "consensus_shard"]
    assert len(shards) == 3, shards  # two shards, one of them submitted twice
    states = _sacct_states(shards)
    assert states[cancelled] == "FAILED", states
    assert sorted(states.values()).count("COMPLETED") == 2, states
    _same_results(tmp_path, local_run)
