"""The second notebook pass of ``make test`` ("another machine") catches a machine-dependent cell.

A stored output that holds on one machine only is exactly what the pass is for: the fixture
notebook prints the last bits of a float32 matrix product and of ``np.tanh``. Stored on this
machine, it passes strict nbval here and must fail under the Makefile's ``OTHER_MACHINE``
settings (read from the Makefile, so that this tests what ``make test`` runs).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "machine_dependent" / "chaotic.ipynb"


def other_machine_env() -> dict[str, str]:
    """The ``OTHER_MACHINE := VAR=value ...`` assignments of the Makefile, as a dict."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(r"^OTHER_MACHINE\s*:=\s*(.+)$", text, re.MULTILINE)
    assert match, "the Makefile defines no OTHER_MACHINE"
    return dict(word.split("=", 1) for word in shlex.split(match.group(1)))


def _env(**extra) -> dict[str, str]:
    env = dict(os.environ, PYDEVD_DISABLE_FILE_VALIDATION="1", **extra)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _fixture_value(env) -> str:
    cell = "".join(json.loads(FIXTURE.read_text())["cells"][1]["source"])
    return subprocess.run(
        [sys.executable, "-c", cell], env=env, check=True, capture_output=True, text=True
    ).stdout


def _nbval(path: Path, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", str(path), "-p", "no:cacheprovider", "-q"],
        env=env,
        capture_output=True,
        text=True,
        cwd=path.parent,
    )


def test_the_makefile_names_another_blas_kernel_and_no_avx512():
    env = other_machine_env()
    assert env.get("OPENBLAS_CORETYPE") == "Sandybridge"
    assert {"X86_V4", "AVX512F"} <= set(env["NPY_DISABLE_CPU_FEATURES"].split())


@pytest.mark.build  # runs nbconvert and nbval: with the build checks, not the quick unit tests
def test_a_machine_dependent_output_fails_the_second_pass(tmp_path):
    if _fixture_value(_env()) == _fixture_value(_env(**other_machine_env())):
        pytest.skip("this machine already computes like the 'other machine' (no AVX2, old BLAS)")
    notebook = tmp_path / "chaotic.ipynb"
    shutil.copy(FIXTURE, notebook)
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--inplace", str(notebook)],
        env=_env(), check=True, capture_output=True,
    )  # fmt: skip
    here = _nbval(notebook, _env())
    assert here.returncode == 0, f"stored here, it should pass here:\n{here.stdout[-2000:]}"
    there = _nbval(notebook, _env(**other_machine_env()))
    assert there.returncode == 1, f"the other machine should catch it:\n{there.stdout[-2000:]}"
    assert "1 failed" in there.stdout
