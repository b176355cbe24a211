"""pytest configuration shared by the unit tests and the notebook run.

nbval sends each cell with ``store_history=False``. IPython then does not
honour a trailing ``;`` (it only suppresses the displayed value of cells
that enter the history), so a cell ending in ``plt.plot(...);`` would print
``[<matplotlib.lines.Line2D at 0x...>]`` under nbval but not in JupyterLab,
where the notebooks were executed. Sending cells the way JupyterLab does
keeps the stored outputs and the validated outputs the same.
"""

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
