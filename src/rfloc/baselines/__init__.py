"""Top-down baselines (SPEC §6): efficiency-driven localization to contrast with learning-driven (SGD) one.

ica: FastICA (scikit-learn) on a data model's inputs, both classes pooled and labels dropped.
"""

from rfloc.baselines.ica import IcaResult, fit_ica, ica

__all__ = ["IcaResult", "fit_ica", "ica"]
