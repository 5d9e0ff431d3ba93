"""scikit-learn's SGD options of the estimators trained by plain per-sample SGD
(LinearRegression with optimizer="sgd", SGDClassifier): penalty, l1_ratio, average, their
checks and the averaged weights a fit publishes."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from fastloss._validation import UNIT, check_choice, check_int, check_real
from fastloss.models._base import _LinearModel

#: the penalties of scikit-learn's SGD (``alpha`` times ``(1 - r) ||coef||^2 / 2 + r
#: ||coef||_1``, ``r`` = 0, 1 or ``l1_ratio``)
PENALTIES = ("l2", "l1", "elasticnet")


class _PlainSGDModel(_LinearModel):
    """A model with scikit-learn's SGD options, which :func:`fastloss.sgd_epoch` runs for
    ``optimizer="sgd"``; its predictions use the averaged weights with ``average``."""

    penalty: str
    l1_ratio: float
    average: Any
    _average: Optional[NDArray[Any]] = None

    def _validate_sgd_options(self) -> None:
        """``penalty``, ``l1_ratio``, ``average`` checked; an L1 part or averaging needs
        ``optimizer="sgd"``."""
        check_choice(self.penalty, "penalty", PENALTIES)
        check_real(self.l1_ratio, "l1_ratio", UNIT)
        if not isinstance(self.average, (bool, np.bool_)):
            check_int(self.average, "average", 0)
        used = [f"penalty={self.penalty!r}" if self.penalty != "l2" else "",
                "average" if self.average else ""]
        if any(used) and self._solver() != "sgd":
            raise ValueError(f"{next(u for u in used if u)} needs optimizer='sgd' (scikit-learn's "
                             f"per-sample SGD), got optimizer={self.optimizer!r}")

    def _sgd_features(self) -> Dict[str, Any]:
        if self._solver() != "sgd":
            return {}
        average = (bool(self.average) if isinstance(self.average, (bool, np.bool_))
                   else int(self.average))
        return dict(penalty=str(self.penalty), l1_ratio=float(self.l1_ratio), average=average)

    def _published_weights(self) -> Tuple[NDArray[Any], NDArray[Any]]:
        """``(coef (d,), intercept (1,))`` the model predicts with: the SGD iterate, or with
        ``average`` (once update ``average`` is reached) the mean of the iterates, as
        scikit-learn's ``coef_`` / ``intercept_`` are then."""
        self._average = None
        st = getattr(self, "_opt_state", None)
        start = int(self.average) if self._solver() == "sgd" else 0
        if not (start and st is not None and st.average_coef is not None and st.t >= start):
            return self._W, self._b
        coef = st.average_coef.copy()
        intercept = self._b.copy()
        if self.fit_intercept and st.average_intercept is not None:
            intercept[...] = st.average_intercept
        self._average = np.r_[coef, intercept].astype(self._W.dtype)
        return coef, intercept

    def _decision_weights(self) -> Any:
        averaged = self._average
        if averaged is None:
            return super()._decision_weights()
        return averaged[:-1], averaged[-1:]
