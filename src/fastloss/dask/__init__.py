"""fastloss on Dask: the linear-model objective and the models' training on a cluster.

Data in Dask arrays stay on the workers: :func:`prepare` persists ``X``, ``y`` and the
weights with chunk ``i`` of each in one piece on one worker and makes one pass for ``n``,
the total weight and the labels; then every objective evaluation is one round trip: one
task per worker runs fastloss's in-memory objective (``fastloss.linear.objective``) on
each of its resident chunks and returns float64 partial sums ``(sum w l, sum w dl/dz x,
sum w)``, reduced on the client, where the L2 term and the solver live. The coefficients
travel inside the task (they are small); nothing is scattered per call.

``LinearRegression`` and ``SoftmaxRegression`` from :mod:`fastloss.models` take Dask
arrays in ``fit`` directly (they call this package) and return lazy Dask arrays from
``predict``, ``predict_proba``, ``predict_log_proba``, ``decision_function``.

The cluster is the one of the current ``distributed.Client``; without one, Dask's local
scheduler computes the chunks into this process (so the data must fit it). Needs the
optional dependencies: ``pip install "fastloss[dask]"``.
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import dask.array  # noqa: F401
except ImportError as err:  # pragma: no cover - the test environment has Dask
    raise ImportError('fastloss.dask needs Dask: pip install "fastloss[dask]" (dask[array] '
                      'and distributed)') from err

from fastloss.dask._objective import PreparedData, linear_value_and_grad, prepare

__all__ = ["PreparedData", "linear_value_and_grad", "prepare"]
