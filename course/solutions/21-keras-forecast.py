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
    # BEGIN SOLUTION
    # Chronological: the model learns from the past and is judged on the future. A
    # shuffled split would put future values in training (and make validation easy).
    n_train = int(len(series) * train_fraction)
    return series[:n_train], series[n_train:]
    # END SOLUTION


def fit_scaler(train_part):
    """(lo, hi) for min-max scaling, from the training part only."""
    # BEGIN SOLUTION
    return float(np.min(train_part)), float(np.max(train_part))
    # END SOLUTION


def prepare(series, window=WINDOW, train_fraction=0.8):
    """X_train, y_train, X_val, y_val (all scaled) and the scaler (lo, hi).

    Split first, fit the scaler on the training part, scale both parts with it, then
    cut each part into windows of `window` values → next value.
    """
    # BEGIN SOLUTION
    train_part, val_part = split_series(series, train_fraction)
    # Fit on train only: validation values must not shape what the model sees.
    lo, hi = fit_scaler(train_part)
    X_train, y_train = make_dataset((train_part - lo) / (hi - lo), window)
    X_val, y_val = make_dataset((val_part - lo) / (hi - lo), window)
    return X_train, y_train, X_val, y_val, (lo, hi)
    # END SOLUTION


def baseline_mae(X, y):
    """Mean absolute error of the naive forecast "the next value equals the last one"."""
    # BEGIN SOLUTION
    return float(np.mean(np.abs(y - X[:, -1, 0])))
    # END SOLUTION


def forecast(series, window=WINDOW, train_fraction=0.8):
    """Train on the training part; {"model_mae": …, "baseline_mae": …} on validation,
    both in the series' own units."""
    # BEGIN SOLUTION
    X_train, y_train, X_val, y_val, (lo, hi) = prepare(series, window, train_fraction)
    model = build_forecaster(window)
    train(model, X_train, y_train)
    predicted = model.predict(X_val, verbose=0)[:, 0]
    # MAE in the series' units: unscale (an error of 0.04 scaled means nothing to anyone).
    model_mae = float(np.mean(np.abs(predicted - y_val))) * (hi - lo)
    return {"model_mae": model_mae, "baseline_mae": baseline_mae(X_val, y_val) * (hi - lo)}
    # END SOLUTION


if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    print(forecast(make_series()))
