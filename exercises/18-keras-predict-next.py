"""Lesson 18: scale the data so that the seed's model really predicts 30 after [27, 28, 29].

Run `workbook check 18` (or save this file while the workbook is open) to grade it.
Nothing trains when this file is imported: the grader calls `train_and_predict`.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's start-up chatter

# Keras reads KERAS_BACKEND when first imported, so these imports come after it is set.
import keras
import numpy as np

SEQUENCE_LENGTH = 3


def make_dataset(data, sequence_length):
    """Lesson 16: windows → next value, X shaped (samples, timesteps, 1)."""
    data = np.asarray(data, dtype=float)
    samples = len(data) - sequence_length
    X = np.array([data[i : i + sequence_length] for i in range(samples)])
    return X.reshape(samples, sequence_length, 1), data[sequence_length:]


def build_model(sequence_length=SEQUENCE_LENGTH):
    """Lesson 17: the seed's model with its three TODOs done."""
    model = keras.Sequential(
        [
            keras.Input(shape=(sequence_length, 1)),
            keras.layers.LSTM(10),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.01))
    return model


def train(model, X, y, steps=100):
    """`steps` full-batch gradient steps, run as ONE Keras epoch over repeated data.

    Same updates as `model.fit(X, y, epochs=steps, batch_size=len(X))`, but Keras's
    per-epoch overhead (≈ 50 ms) is paid once instead of `steps` times.
    """
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


def scale(values, lo, hi):
    """Map [lo, hi] onto [0, 1], element-wise."""
    values = np.asarray(values, dtype=float)
    # TODO: your code here
    raise NotImplementedError


def unscale(values, lo, hi):
    """The inverse of `scale`: map [0, 1] back onto [lo, hi]."""
    values = np.asarray(values, dtype=float)
    # TODO: your code here
    raise NotImplementedError


def train_and_predict(X, y, test_seq):
    """Train on scaled (X, y); return the unscaled prediction for `test_seq` as a float."""
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    keras.utils.set_random_seed(42)
    X, y = make_dataset(np.arange(30), SEQUENCE_LENGTH)
    test_seq = np.array([27.0, 28.0, 29.0]).reshape(1, SEQUENCE_LENGTH, 1)
    print("Predicted next number:", train_and_predict(X, y, test_seq))
