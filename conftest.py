"""pytest configuration shared by the unit tests, the notebook runs and the browser test.

The header of every run names the numeric configuration (``COURSE_CONFIG``, set by
``make nbval``, ``make portability`` and ``make nbval-config``) and what is in force: OpenBLAS's
kernel and thread count, numpy's SIMD loops. A run whose environment asks for something that
is not in force (an ``OPENBLAS_CORETYPE`` OpenBLAS did not apply, a numpy feature it still
uses, another thread count) stops before the first test: a configuration cannot fall back to
the default unnoticed. See ``tests/numeric_configs.py``.

nbval sends each cell with ``store_history=False``. IPython then does not
honour a trailing ``;`` (it only suppresses the displayed value of cells
that enter the history), so a cell ending in ``plt.plot(...);`` would print
``[<matplotlib.lines.Line2D at 0x...>]`` under nbval but not in JupyterLab,
where the notebooks were executed. Sending cells the way JupyterLab does
keeps the stored outputs and the validated outputs the same.
"""

import pytest

from tests import numeric_configs

try:
    from nbval.kernel import RunningKernel
except ImportError:  # nbval is a development dependency only
    RunningKernel = None

if RunningKernel is not None:

    def _execute_like_jupyterlab(self, cell_input, allow_stdin=None):
        return self.kc.execute(
            cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False
        )

    RunningKernel.execute_cell_input = _execute_like_jupyterlab


_HEADER: list[str] = []


def pytest_configure(config) -> None:
    lines, problems = numeric_configs.check()
    if problems:
        raise pytest.UsageError(
            "the numeric configuration asked for is not in force:\n"
            + "\n".join(lines + [f"  !! {problem}" for problem in problems])
        )
    _HEADER[:] = lines


def pytest_report_header(config) -> list[str]:
    return _HEADER


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    # Again at the end, where -q shows it too: which configuration these results are from.
    for line in _HEADER:
        terminalreporter.write_line(line)
