"""Linear models trained with fastloss's kernels: the tutorial's two applications.

:class:`LinearRegression` (squared, absolute or Huber loss; scikit-learn's epsilon-insensitive
losses by SGD; its Poisson, gamma and Tweedie GLMs on the log link and the quantile (pinball)
loss), :class:`SoftmaxRegression` (multinomial cross-entropy; binary logistic
regression is its two-class case) and :class:`SGDClassifier` (scikit-learn's
``SGDClassifier``: hinge, log, modified Huber and squared hinge loss by plain SGD, binary or
one-vs-rest) follow the
scikit-learn estimator API (``fit``, ``partial_fit``, ``predict``, ``score``,
``get_params``/``set_params``, fitted attributes ending in ``_``) without depending on
scikit-learn. With scikit-learn >= 1.6 installed (its tags API) they pass its estimator checks
and work inside a ``Pipeline``.

Training minimizes the (weighted) mean loss over the samples plus an L2 penalty on the
weights (never the intercept)::

    objective(coef, intercept) = sum_i w_i loss(x_i . coef + intercept, y_i) / sum_i w_i
                                 + alpha / 2 * ||coef||^2

with ``w_i`` the ``sample_weight`` passed to ``fit`` (1 by default; SoftmaxRegression's
``class_weight`` multiplies it) and the optimizer chosen by name:

``"lbfgs"`` (SoftmaxRegression's default; LinearRegression's but for squared and SGD-only losses)
    full-batch L-BFGS (:func:`fastloss.optim.minimize_lbfgs`) on the fused objective kernel
    (:func:`fastloss.linear_value_and_grad`); ``max_iter`` counts iterations, ``tol`` is the
    gradient tolerance (scikit-learn's ``LogisticRegression`` convention). The softmax
    objective on dense float64 X of a million values or more is minimized first in float32
    (X rounded block by block as the kernel reads it, no copy: about two thirds of the time
    of a float64 evaluation), then in float64 from there until the float64 gradient meets
    ``tol``: the same minimizer, to the same tolerance (usually one float64 evaluation
    confirms it); ``loss_curve_`` then starts with the float32 objective's values. A fit on
    Dask arrays does the same on the workers.
``"cholesky"`` (LinearRegression, squared error only; its default for it: ``"auto"``)
    the normal equations, in one pass over X, solved by Cholesky.

The full-batch solvers work in standardized coordinates (the same objective and minimizer),
so raw, unscaled features converge as standardized ones do.
``"cg"``
    full-batch nonlinear conjugate gradient (:func:`fastloss.optim.minimize_cg`), as
    ``"lbfgs"``.
``"sgd"``
    plain SGD, one update per sample, a whole epoch in one C call
    (:func:`fastloss.linear.sgd_epoch`), by default with scikit-learn's ``invscaling``
    schedule ``lr / t**power_t`` (``SGDRegressor``'s defaults); ``batch_size`` is ignored.
``"momentum"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``
    mini-batches of ``batch_size`` samples, one update per batch with the batch's mean
    gradient by the torch.optim rule (``SGD(momentum)``, ``Adagrad``, ``RMSprop``, ``Adam``,
    ``AdamW``, their defaults), a whole epoch in one C call
    (:func:`fastloss.linear.sgd_epoch` with ``batch_size``); the rule's state and step count
    carry over from epoch to epoch, and the ``lr_schedule`` counts updates (``invscaling``:
    ``lr / t**power_t`` at update ``t``). For ``"adamw"``, ``alpha`` is AdamW's decoupled
    weight decay of ``coef`` (not of the intercept, which no ``alpha`` touches) instead of a
    penalty in the objective.
``"nadam"``, ``"radam"``, ``"adamax"``, ``"lion"``
    the same with torch.optim's ``NAdam``, ``RAdam``, ``Adamax`` (their defaults) and
    optax's Lion (``betas=(0.9, 0.99)``). For ``"lion"``, ``alpha`` is Lion's weight decay,
    decoupled as AdamW's (no penalty in the objective).

scipy.sparse X (scipy stays optional) trains with ``"sgd"`` in O(nnz) an epoch and with the
full-batch ``"lbfgs"`` and ``"cg"``; the other optimizers raise ``ValueError`` for it.

An epoch visits every sample once; with ``shuffle=True`` the order is drawn from a generator
seeded by ``random_state``, so a fit is deterministic for a given seed. Training stops after
``max_iter`` epochs, or earlier when the epoch's mean loss has not improved by ``tol`` for
``n_iter_no_change`` epochs in a row (``tol=None`` disables early stopping). Reaching
``max_iter`` first warns a :class:`ConvergenceWarning` (scikit-learn's class too when
scikit-learn is loaded), as scikit-learn's estimators do.

The losses are those of :mod:`fastloss.linear` (one implementation of the objective,
:func:`fastloss.linear.linear_value_and_grad`): ``loss="squared_error"`` is *half* the
squared error, ``0.5 (p - y)^2``, as in scikit-learn's ``SGDRegressor`` and in
:func:`fastloss.sgd_epoch`, so ``alpha`` and ``lr`` mean what they mean there (it is half of
PyTorch's ``mse_loss``).
"""

from fastloss.models._base import OPTIMIZERS as OPTIMIZERS  # the optimizers, by name
from fastloss.models._sklearn import ConvergenceWarning, NotFittedError
from fastloss.models.classification import SoftmaxRegression
from fastloss.models.regression import REGRESSION_LOSSES as REGRESSION_LOSSES
from fastloss.models.regression import REGRESSION_OPTIMIZERS as REGRESSION_OPTIMIZERS
from fastloss.models.regression import LinearRegression
from fastloss.models.sgd_classifier import SGDClassifier

__all__ = ["LinearRegression", "SoftmaxRegression", "SGDClassifier", "NotFittedError",
           "ConvergenceWarning"]
