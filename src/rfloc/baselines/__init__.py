"""Top-down baselines (SPEC §6): efficiency-driven localization to contrast with learning-driven (SGD) one.

ica: FastICA (scikit-learn) on a data model's inputs, both classes pooled and labels dropped.
sparse: sparse coding (Olshausen & Field) by scikit-learn's MiniBatchDictionaryLearning.
parallel: independent fits side by side on the cores.
"""

from rfloc.baselines.ica import IcaResult, fit_ica, ica
from rfloc.baselines.parallel import fit_in_parallel
from rfloc.baselines.sparse import SparseCodingResult, lasso_codes, objective, sparse_coding

__all__ = [
    "IcaResult",
    "SparseCodingResult",
    "fit_ica",
    "fit_in_parallel",
    "ica",
    "lasso_codes",
    "objective",
    "sparse_coding",
]
