"""The numeric configurations (tests/numeric_configs.py): the header that names the one in
force and refuses one that did not apply, the CPU checks, the environments, and the Makefile's
use of them."""

import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests import numeric_configs as nc

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "numeric_configs.py"

X86_FLAGS = {"pni", "sse4_2", "avx", "avx2", "fma", "avx512f"}


def fake_runtime(core="SkylakeX", threads=1, in_use=None) -> nc.Runtime:
    return nc.Runtime(
        numpy="2.4.6",
        blas="scipy-openblas 0.3.31",
        blas_core=core,
        blas_threads=threads,
        simd_dispatch=["X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"],
        simd_in_use={"X86_V3": 244, "X86_V4": 179, "baseline(X86_V2)": 54}
        if in_use is None
        else in_use,
    )


def config_env(name: str) -> dict[str, str]:
    return nc.environment(name, base={"LANG": "C.UTF-8"})


# --- describe: the header and its checks ----------------------------------------------------


def test_an_applied_configuration_is_named_and_has_no_problems():
    env = config_env("sandybridge-noV3-2threads")
    rt = fake_runtime("Sandybridge", threads=2, in_use={"baseline(X86_V2)": 477})
    lines, problems = nc.describe(env, rt)
    assert problems == []
    assert lines[0] == "numeric configuration: sandybridge-noV3-2threads"
    assert "OPENBLAS_CORETYPE=Sandybridge" in lines[1]
    assert "NPY_DISABLE_CPU_FEATURES=X86_V3" in lines[1]
    assert "Sandybridge kernel, 2 thread(s)" in lines[2]
    assert "baseline(X86_V2) 477" in lines[2]


def test_a_coretype_that_openblas_did_not_apply_is_a_problem():
    env = config_env("haswell-1thread")
    _, problems = nc.describe(env, fake_runtime("SkylakeX"))
    assert problems == [
        "OPENBLAS_CORETYPE=Haswell was not applied: OpenBLAS runs its SkylakeX kernel"
    ]


def test_a_coretype_is_compared_without_case():
    env = {"OPENBLAS_CORETYPE": "sandybridge"}
    assert nc.describe(env, fake_runtime("Sandybridge"))[1] == []


def test_prescott_named_katmai_by_openblas_is_prescott():
    env = config_env("prescott-1thread")
    lines, problems = nc.describe(env, fake_runtime("Katmai"))
    assert problems == []
    assert "Prescott kernel (named Katmai)" in lines[2]


def test_a_coretype_without_openblas_cannot_pass():
    _, problems = nc.describe({"OPENBLAS_CORETYPE": "Haswell"}, fake_runtime(core=None))
    assert len(problems) == 1 and "cannot be checked" in problems[0]


def test_a_numpy_feature_still_in_use_is_a_problem():
    _, problems = nc.describe({"NPY_DISABLE_CPU_FEATURES": "X86_V3"}, fake_runtime())
    assert problems == [
        "NPY_DISABLE_CPU_FEATURES=X86_V3 was not applied: 244 numpy loops still use X86_V3"
    ]


def test_a_numpy_feature_numpy_ignores_is_a_problem():
    # numpy only warns (an ImportWarning, hidden by default) and goes on with every loop.
    _, problems = nc.describe({"NPY_DISABLE_CPU_FEATURES": "AVX2"}, fake_runtime())
    assert len(problems) == 1 and "AVX2 has no effect" in problems[0]


def test_another_thread_count_is_a_problem():
    _, problems = nc.describe({"OPENBLAS_NUM_THREADS": "2"}, fake_runtime(threads=1))
    assert problems == ["OPENBLAS_NUM_THREADS=2 was not applied: OpenBLAS runs 1 thread(s)"]


def test_omp_num_threads_counts_when_openblas_num_threads_is_unset():
    _, problems = nc.describe({"OMP_NUM_THREADS": "1"}, fake_runtime(threads=2))
    assert problems == ["OMP_NUM_THREADS=1 was not applied: OpenBLAS runs 2 thread(s)"]


def test_an_environment_that_differs_from_the_named_configuration_is_a_problem():
    env = config_env("default-1thread")
    env["OPENBLAS_CORETYPE"] = "SkylakeX"
    _, problems = nc.describe(env, fake_runtime("SkylakeX"))
    assert problems == [
        "default-1thread sets OPENBLAS_CORETYPE=(unset), the environment has "
        "OPENBLAS_CORETYPE=SkylakeX"
    ]


def test_an_unknown_configuration_name_is_a_problem():
    _, problems = nc.describe({"COURSE_CONFIG": "sandybridge"}, fake_runtime())
    assert len(problems) == 1 and "names no configuration" in problems[0]


def test_no_name_and_nothing_set_is_fine():
    lines, problems = nc.describe({}, fake_runtime(threads=2))
    assert problems == []
    assert lines[:2] == [
        "numeric configuration: none named (COURSE_CONFIG unset)",
        "  asked for: nothing set",
    ]


# --- the configurations and their environments ----------------------------------------------


def test_every_configuration_sets_only_variables_that_are_reset_between_configurations():
    for name, config in nc.CONFIGS.items():
        assert set(config.env) <= set(nc.NUMERIC_VARS), name
        assert re.fullmatch(r"[a-z0-9]+(-[a-zA-Z0-9]+)*", name), name


def test_the_binder_and_foreign_configurations_exist():
    assert nc.CONFIGS[nc.BINDER].env == {}
    assert "OPENBLAS_CORETYPE" in nc.CONFIGS[nc.FOREIGN].env
    assert nc.CONFIGS[nc.FOREIGN].threads == 2


def test_environment_removes_what_the_caller_had_set_and_names_the_configuration():
    base = {"PATH": "/bin", "OPENBLAS_CORETYPE": "Haswell", "OMP_NUM_THREADS": "8"}
    env = nc.environment("default-nthreads", base)
    assert env == {"PATH": "/bin", "COURSE_CONFIG": "default-nthreads"}
    assert base["OMP_NUM_THREADS"] == "8", "the caller's dict is left alone"


# --- which machine can simulate which configuration ----------------------------------------


def test_a_cpu_without_avx512_leaves_skylakex_out_saying_why():
    reason = nc.unmet(nc.CONFIGS["skylakex-1thread"], X86_FLAGS - {"avx512f"}, 2, "x86_64")
    assert reason.startswith("this CPU lacks avx512f: ") and "SIGILL" in reason


def test_a_cpu_without_avx2_leaves_the_foreign_configuration_out():
    reason = nc.unmet(nc.CONFIGS[nc.FOREIGN], X86_FLAGS - {"avx2"}, 2, "x86_64")
    assert "lacks avx2" in reason and "X86_V3" in reason


def test_a_non_x86_machine_leaves_every_forced_kernel_out():
    for name, config in nc.CONFIGS.items():
        reason = nc.unmet(config, {"fp", "asimd"}, 8, "aarch64")
        assert (reason is None) == ("OPENBLAS_CORETYPE" not in config.env), name


def test_unreadable_cpu_flags_leave_forced_kernels_out():
    assert "cannot be read" in nc.unmet(nc.CONFIGS["haswell-1thread"], None, 2, "x86_64")


def test_two_threads_need_two_cpus():
    assert "2 BLAS threads" in nc.unmet(nc.CONFIGS[nc.FOREIGN], X86_FLAGS, 1, "x86_64")
    assert nc.unmet(nc.CONFIGS[nc.FOREIGN], X86_FLAGS, 2, "x86_64") is None


def test_only_the_cpu_specific_kernels_are_optional():
    optional = {name for name, config in nc.CONFIGS.items() if config.optional}
    assert optional == {"haswell-1thread", "skylakex-1thread"}


# --- the configurations really apply on this machine ----------------------------------------


@pytest.mark.parametrize("name", list(nc.CONFIGS))
def test_each_configuration_applies_here(name):
    """Run the check in a fresh process under each configuration this machine can simulate."""
    reason = nc.unmet(nc.CONFIGS[name], nc.cpu_flags(), nc.usable_cpus(), platform.machine())
    if reason:
        pytest.skip(f"{name} cannot run here: {reason}")
    code = (
        "from tests import numeric_configs as nc\n"
        "lines, problems = nc.check()\n"
        "print(*lines + problems, sep='\\n')\n"
        "raise SystemExit(bool(problems))\n"
    )
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "run", name, "--", sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"numeric configuration: {name}\n" in result.stdout
    assert f"  {name}  passed" in result.stdout


def test_the_runner_refuses_an_unknown_configuration():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "run", "pentium-1thread", "--", "true"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "pentium-1thread" in result.stderr


def test_the_header_of_this_run_is_what_the_conftest_checked():
    lines, problems = nc.check()
    assert len(lines) == 3 and lines[2].startswith("  in force:  ")
    assert problems == [], "the conftest stops a run whose configuration is not in force"


# --- the Makefile ---------------------------------------------------------------------------


def makefile_list(variable: str) -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(rf"^{variable}\s*:=\s*(.*)$", text, flags=re.M)
    assert match, f"the Makefile defines no {variable}"
    return match[1].split()


def test_make_nbval_runs_the_stored_configuration_and_the_foreign_one():
    assert makefile_list("NBVAL_CONFIGS") == ["default-1thread", nc.FOREIGN]


def test_make_portability_runs_every_configuration():
    assert sorted(makefile_list("PORTABILITY_CONFIGS")) == sorted(nc.CONFIGS)


def configurations_run_by(target: str) -> list[str]:
    """The configurations ``make TARGET`` would run nbval under, from ``make -n``."""
    commands = subprocess.run(["make", "-n", "-s", target], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.splitlines()
    runs = [line for line in commands if "numeric_configs.py run" in line and "--nbval" in line]
    assert len(runs) == 1, f"make {target} should run nbval once, under IN_CONFIGS: {commands}"
    return runs[0].split("numeric_configs.py run", 1)[1].split(" -- ", 1)[0].split()


def test_ci_runs_every_configuration_once():
    steps = [line.split() for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line.startswith("make ")]
    assert steps == [["make", "test"], ["make", "portability-rest"]]
    in_ci = configurations_run_by("nbval") + configurations_run_by("portability-rest")
    assert sorted(in_ci) == sorted(nc.CONFIGS)
