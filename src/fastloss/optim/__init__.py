"""Optimization: nonlinear conjugate gradient and learning-rate schedulers."""

from fastloss.optim.cg import CGResult, minimize_cg
from fastloss.optim import lr_scheduler

__all__ = ["CGResult", "minimize_cg", "lr_scheduler"]
