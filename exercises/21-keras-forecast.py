"""Lesson 21: a small, honest forecast that must beat the naive last-value baseline.

Run `workbook check 21` (or save this file while the workbook is open) to grade it.
Nothing trains when this file is imported: the grader calls `forecast`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's start-up chatter

# Keras reads KERAS_BACKEND when first imported, so these imports come after it is set.
import keras
import numpy as np

WINDOW = 12  # one season: the series repeats every 12 steps


def make_series(n=240, seed=21):
    """Monthly-style data made here, no download: level + trend + yearly wave + noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 20 + 0.05 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=1.0, size=n)


def make_dataset(data, sequence_length):
    """Lesson 16: windows → next value, X shaped (samples, timesteps, 1)."""
    data = np.asarray(data, dtype=float)
    samples = len(data) - sequence_length
    X = np.array([data[i : i + sequence_length] for i in range(samples)])
    return X.reshape(samples, sequence_length, 1), data[sequence_length:]


def build_forecaster(window=WINDOW):
    """A small LSTM regressor; enough for one seasonal series."""
    model = keras.Sequential(
        [keras.Input(shape=(window, 1)), keras.layers.LSTM(16), keras.layers.Dense(1)]
    )
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.01))
    return model


def train(model, X, y, steps=150):
    """`steps` full-batch Adam steps in ONE Keras epoch over repeated data (lesson 18)."""
    X = np.asarray(X, dtype="float32")
    y = np.asarray(y, dtype="float32")
    model.fit(
        np.tile(X, (steps, 1, 1)),
        np.tile(y, steps),
        batch_size=len(X),
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    return model


def split_series(series, train_fraction=0.8):
    """(train, val): the first `train_fraction` of the series, then the rest, in time order."""
    series = np.asarray(series, dtype=float)
    # TODO: your code here
    raise NotImplementedError


def fit_scaler(train_part):
    """(lo, hi) for min-max scaling, from the training part only."""
    # TODO: your code here
    raise NotImplementedError


def prepare(series, window=WINDOW, train_fraction=0.8):
    """X_train, y_train, X_val, y_val (all scaled) and the scaler (lo, hi).

    Split first, fit the scaler on the training part, scale both parts with it, then
    cut each part into windows of `window` values → next value.
    """
    # TODO: your code here
    raise NotImplementedError


def baseline_mae(X, y):
    """Mean absolute error of the naive forecast "the next value equals the last one"."""
    # TODO: your code here
    raise NotImplementedError


def forecast(series, window=WINDOW, train_fraction=0.8):
    """Train on the training part; {"model_mae": …, "baseline_mae": …} on validation,
    both in the series' own units."""
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    print(forecast(make_series()))
