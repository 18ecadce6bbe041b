"""Shared private reference code for the Keras lessons' hidden checks (16–21).

Checks never import a lesson's solution; what several Keras checks need to compute
their expected values (windows of a series, a quiet Keras import, layer inspection,
fast full-batch training) lives here once. Importing this module does not import
TensorFlow: only `keras_module()` does, and only the grading child calls it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np


def windows(data: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): every run of `length` values shaped (samples, length, 1), and the next value."""
    data = np.asarray(data, dtype=float)
    samples = len(data) - length
    X = np.stack([data[i : i + length] for i in range(samples)])[..., None]
    return X, data[length:].copy()
