"""rfloc: how localized receptive fields emerge from learning.

Data models (`rfloc.data`), networks and compiled many-run training (`rfloc.nn`, `rfloc.train`),
the effective learning dynamics (`rfloc.theory`), localization metrics (`rfloc.metrics`) and the
reproduction of Lufkin, Saxe & Grant (NeurIPS 2024) (`rfloc.experiments`, `rfloc reproduce`).
"""

__version__ = "0.1.0"
