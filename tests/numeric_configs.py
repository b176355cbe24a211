"""The numeric configurations the lessons are validated under, and what is really in force.

Three things change float results in the last bits, and each can be forced on one machine,
which is how the tests simulate other machines:

* the OpenBLAS kernel (``OPENBLAS_CORETYPE``; a kernel the CPU cannot run dies with SIGILL);
* numpy's own SIMD loops (``NPY_DISABLE_CPU_FEATURES``, with numpy's feature-group names);
* the BLAS thread count (a threaded reduction may sum in another order).

``CONFIGS`` below is the one definition of the configurations. From the repository root::

    python tests/numeric_configs.py list
    python tests/numeric_configs.py run NAME [NAME ...] -- COMMAND [ARG ...]

``run`` runs the command once per configuration, in an environment where every variable of
``NUMERIC_VARS`` is first removed and then the configuration's own are set, with
``COURSE_CONFIG=NAME``. A configuration this machine cannot simulate (a CPU flag or a CPU
missing) is left out with the reason; with ``CI=true`` that is a failure unless the
configuration is optional. A summary ends the run; the exit status is 1 if any run failed.

``check()`` says what is in force in the running process (OpenBLAS's kernel and threads,
numpy's SIMD loops) and what contradicts the environment; the root ``conftest.py`` prints it
in pytest's header and stops the run on any contradiction, so a configuration cannot fall
back to the default unnoticed. It needs numpy only, so a Jupyter kernel can run it too.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TWO_THREADS = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}


@dataclass(frozen=True)
class Config:
    """Environment variables to set, and what the CPU needs for them to mean anything."""

    env: dict[str, str]
    needs: tuple[str, ...] = ()  # CPU flags as /proc/cpuinfo spells them (x86-64)
    why: str = ""  # why those flags are needed: said when the configuration is left out
    optional: bool = False  # left out with a notice, even in CI, where the CPU lacks `needs`

    @property
    def threads(self) -> int | None:
        value = self.env.get("OPENBLAS_NUM_THREADS")
        return int(value) if value else None


CONFIGS: dict[str, Config] = {
    # the stored outputs are made under this one (`make notebooks`)
    "default-1thread": Config(ONE_THREAD),
    # what a learner gets: nothing set, as many BLAS threads as CPUs
    "default-nthreads": Config({}),
    # an older x86-64 machine: AVX kernels in OpenBLAS, baseline numpy loops, two threads
    "sandybridge-noV3-2threads": Config(
        {"OPENBLAS_CORETYPE": "Sandybridge", "NPY_DISABLE_CPU_FEATURES": "X86_V3", **TWO_THREADS},
        needs=("avx", "avx2"),
        why="OpenBLAS's Sandybridge kernel needs AVX (forced without it, the process dies with "
        "SIGILL), and numpy runs its X86_V3 loops only where AVX2 is, so without AVX2 there "
        "is nothing to disable",
    ),
    "prescott-1thread": Config(
        {"OPENBLAS_CORETYPE": "Prescott", **ONE_THREAD},
        needs=("pni",),
        why="OpenBLAS's Prescott kernel is x86-64 code that needs SSE3 (pni)",
    ),
    "haswell-1thread": Config(
        {"OPENBLAS_CORETYPE": "Haswell", **ONE_THREAD},
        needs=("avx2", "fma"),
        why="OpenBLAS's Haswell kernel needs AVX2 and FMA (without them: SIGILL)",
        optional=True,
    ),
    "skylakex-1thread": Config(
        {"OPENBLAS_CORETYPE": "SkylakeX", **ONE_THREAD},
        needs=("avx512f",),
        why="OpenBLAS's SkylakeX kernel needs AVX-512 (without it: SIGILL)",
        optional=True,
    ),
}

# What a learner on Binder gets (nothing set), and the foreign machine that `make nbval` and the
# browser test simulate besides the default.
BINDER = "default-nthreads"
FOREIGN = "sandybridge-noV3-2threads"

# Removed before a configuration's own variables are set: nothing else may leak in.
NUMERIC_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_VERBOSE",
    "OPENBLAS_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NPY_DISABLE_CPU_FEATURES",
    "NPY_ENABLE_CPU_FEATURES",
)

IN_CI = os.environ.get("CI", "").lower() in {"true", "1", "yes"}

# OpenBLAS's x86-64 builds map the 32-bit-era cores onto the Prescott kernels, and its
# gotoblas_corename() names the first core of the table that matches: a forced Prescott
# reports itself as Katmai.
CORE_ALIASES = {name: "prescott" for name in ("katmai", "coppermine", "northwood", "banias")}


def environment(name: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) without ``NUMERIC_VARS``, plus configuration ``name``."""
    env = {k: v for k, v in (os.environ if base is None else base).items()}
    for variable in NUMERIC_VARS:
        env.pop(variable, None)
    env.update(CONFIGS[name].env)
    env["COURSE_CONFIG"] = name
    return env


def assignments(env: dict[str, str]) -> str:
    """The numeric variables set in ``env``, as ``NAME=value`` words (or "nothing set")."""
    words = [f"{k}={env[k]}" for k in NUMERIC_VARS if k in env]
    return " ".join(words) or "nothing set"


def cpu_flags() -> set[str] | None:
    """The CPU's flags from /proc/cpuinfo, or None where there is no such file."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() in {"flags", "Features"}:
                    return set(value.split())
    except OSError:
        return None
    return set()


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def unmet(config: Config, flags: set[str] | None, cpus: int, machine: str) -> str | None:
    """Why this machine cannot simulate ``config``, or None if it can."""
    why = config.why
    if config.needs:
        if machine.lower() not in {"x86_64", "amd64"}:
            return f"it simulates x86-64 CPUs and this machine is {machine}: {why}"
        if flags is None:
            needs = ", ".join(config.needs)
            return f"this CPU's flags cannot be read (no /proc/cpuinfo), it needs {needs}: {why}"
        missing = [flag for flag in config.needs if flag not in flags]
        if missing:
            return f"this CPU lacks {', '.join(missing)}: {why}"
    if config.threads and config.threads > cpus:
        return (
            f"it runs {config.threads} BLAS threads and this process may use {cpus} CPU(s); "
            "OpenBLAS never runs more threads than that"
        )
    return None


# --- what is in force ----------------------------------------------------------------------


@dataclass
class Runtime:
    """What the running process really uses."""

    numpy: str
    blas: str  # e.g. "scipy-openblas 0.3.31"
    blas_core: str | None  # the OpenBLAS kernel, None when it cannot be asked
    blas_threads: int | None
    simd_dispatch: list[str]  # numpy's dispatch targets, compiled in
    simd_in_use: dict[str, int] = field(default_factory=dict)  # target -> loops that use it


def _openblas() -> tuple[ctypes.CDLL, str] | None:
    """numpy's own OpenBLAS (a wheel bundles it next to the package), and its symbol prefix."""
    import numpy

    here = os.path.dirname(numpy.__file__)
    patterns = ("*openblas*.so*", "*openblas*.dylib", "*openblas*.dll")
    places = (os.path.join(here, "..", "numpy.libs"), os.path.join(here, ".dylibs"), here)
    for place in places:
        for pattern in patterns:
            for path in sorted(glob.glob(os.path.join(place, pattern))):
                library = ctypes.CDLL(path)  # already loaded by numpy: the same handle
                for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                                       ("openblas_", "64_"), ("openblas_", "")):
                    if hasattr(library, f"{prefix}get_corename{suffix}"):
                        return library, (prefix, suffix)
    return None


def runtime() -> Runtime:
    import numpy
    from numpy._core import _multiarray_umath as umath

    blas_info = numpy.show_config(mode="dicts")["Build Dependencies"].get("blas", {})
    blas = f"{blas_info.get('name', 'unknown BLAS')} {blas_info.get('version', '')}".strip()
    core = threads = None
    found = _openblas()
    if found:
        library, (prefix, suffix) = found
        corename = getattr(library, f"{prefix}get_corename{suffix}")
        corename.restype = ctypes.c_char_p
        core = corename().decode()
        threads = getattr(library, f"{prefix}get_num_threads{suffix}")()
    dispatch = list(getattr(umath, "__cpu_dispatch__", []))
    targets = getattr(umath, "__cpu_targets_info__", None)
    if targets is not None:
        in_use = Counter(
            info["current"] for signatures in targets.values() for info in signatures.values()
        )
    else:  # numpy < 2.3: no per-loop record; the enabled dispatch targets instead
        features = umath.__cpu_features__
        in_use = Counter({t: 1 for t in dispatch if features.get(t)})
    return Runtime(numpy.__version__, blas, core, threads, dispatch, dict(in_use))


def _canonical_core(name: str) -> str:
    name = name.strip().lower()
    return CORE_ALIASES.get(name, name)


def describe(env: dict[str, str], rt: Runtime) -> tuple[list[str], list[str]]:
    """Header lines saying which configuration is asked for and what is in force, and the
    contradictions between the two (empty when the configuration really applies)."""
    name = env.get("COURSE_CONFIG")
    problems = []
    if name is None:
        title = "numeric configuration: none named (COURSE_CONFIG unset)"
    elif name not in CONFIGS:
        title = f"numeric configuration: {name}"
        problems.append(f"COURSE_CONFIG={name} names no configuration of {sorted(CONFIGS)}")
    else:
        title = f"numeric configuration: {name}"
        expected = CONFIGS[name].env
        for variable in NUMERIC_VARS:
            if env.get(variable) != expected.get(variable):
                problems.append(
                    f"{name} sets {variable}={expected.get(variable, '(unset)')}, the "
                    f"environment has {variable}={env.get(variable, '(unset)')}"
                )

    if rt.blas_core is None:
        core = "kernel unknown"
    elif rt.blas_core.lower() in CORE_ALIASES:
        core = f"{CORE_ALIASES[rt.blas_core.lower()].title()} kernel (named {rt.blas_core})"
    else:
        core = f"{rt.blas_core} kernel"
    threads = "threads unknown" if rt.blas_threads is None else f"{rt.blas_threads} thread(s)"
    loops = ", ".join(f"{target} {count}" for target, count in sorted(rt.simd_in_use.items()))
    lines = [
        title,
        f"  asked for: {assignments(env)}",
        f"  in force:  {rt.blas}, {core}, {threads}; numpy {rt.numpy} SIMD loops in use: "
        f"{loops or 'unknown'}",
    ]

    requested = env.get("OPENBLAS_CORETYPE")
    if requested:
        if rt.blas_core is None:
            problems.append(
                f"OPENBLAS_CORETYPE={requested} cannot be checked: numpy's BLAS is {rt.blas}, "
                "no OpenBLAS kernel name could be read"
            )
        elif _canonical_core(rt.blas_core) != _canonical_core(requested):
            problems.append(
                f"OPENBLAS_CORETYPE={requested} was not applied: OpenBLAS runs its "
                f"{rt.blas_core} kernel"
            )
    for feature in env.get("NPY_DISABLE_CPU_FEATURES", "").replace(",", " ").split():
        if feature not in rt.simd_dispatch:
            problems.append(
                f"NPY_DISABLE_CPU_FEATURES={feature} has no effect: numpy {rt.numpy} dispatches "
                f"only to {', '.join(rt.simd_dispatch) or 'nothing'} here"
            )
        elif rt.simd_in_use.get(feature):
            problems.append(
                f"NPY_DISABLE_CPU_FEATURES={feature} was not applied: "
                f"{rt.simd_in_use[feature]} numpy loops still use {feature}"
            )
    for variable in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        if env.get(variable):  # the order in which OpenBLAS reads them
            wanted = int(env[variable])
            if rt.blas_threads is not None and rt.blas_threads != wanted:
                problems.append(
                    f"{variable}={wanted} was not applied: OpenBLAS runs {rt.blas_threads} "
                    "thread(s)"
                )
            break
    return lines, problems


def check() -> tuple[list[str], list[str]]:
    """``describe`` for this process: its environment and what it really uses."""
    return describe(dict(os.environ), runtime())


# --- running a command under configurations ------------------------------------------------


def run(names: list[str], command: list[str]) -> int:
    flags, cpus, machine = cpu_flags(), usable_cpus(), platform.machine()
    summary, failed = [], False
    for name in names:
        config = CONFIGS[name]
        reason = unmet(config, flags, cpus, machine)
        if reason:
            fatal = IN_CI and not config.optional
            verdict = "LEFT OUT, a failure in CI" if fatal else "left out"
            print(f"\n!!! numeric configuration {name} {verdict}: {reason}", flush=True)
            summary.append((name, verdict, reason))
            failed |= fatal
            continue
        env = environment(name)
        print(f"\n=== numeric configuration {name}: {assignments(env)}", flush=True)
        started = time.monotonic()
        code = subprocess.call(command, env=env)
        seconds = time.monotonic() - started
        verdict = "passed" if code == 0 else f"FAILED (exit {code})"
        summary.append((name, verdict, f"{seconds:.0f} s"))
        failed |= code != 0
    print("\nnumeric configurations:")
    width = max(len(name) for name in names)
    for name, verdict, detail in summary:
        print(f"  {name:<{width}}  {verdict}: {detail}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    usage = (
        "usage: numeric_configs.py list\n"
        "       numeric_configs.py run NAME [NAME ...] -- COMMAND [ARG ...]"
    )
    if argv[:1] == ["list"]:
        for name, config in CONFIGS.items():
            optional = " (optional)" if config.optional else ""
            print(f"{name:<27} {assignments(config.env)}{optional}")
        return 0
    if argv[:1] != ["run"] or "--" not in argv:
        print(usage, file=sys.stderr)
        return 2
    split = argv.index("--")
    names, command = argv[1:split], argv[split + 1 :]
    unknown = [name for name in names if name not in CONFIGS]
    if not names or not command or unknown:
        print(f"unknown configuration(s) {unknown}; known: {', '.join(CONFIGS)}"
              if unknown else usage, file=sys.stderr)
        return 2
    return run(names, command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
