"""Lesson 17: the seed's three TODO edits to its Keras model.

Run `workbook check 17` (or save this file while the workbook is open) to grade it.
Only the grader needs TensorFlow to be fast: building this model does not train it.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's start-up chatter

# Keras reads KERAS_BACKEND when first imported, so these imports come after it is set.
from keras import Input, Sequential
from keras.layers import LSTM, Dense
from keras.optimizers import Adam  # noqa: F401, RUF100 - the stub uses it only after TODO 3


def build_model(sequence_length=3):
    """The seed's model with its three TODOs done; compiled, not trained."""
    model = Sequential()
    model.add(Input(shape=(sequence_length, 1)))
    # TODO 1: Increase LSTM units from 5 to 10
    model.add(LSTM(5))  # <-- Replace 5 with 10
    # TODO 2: Add another Dense layer (before the final Dense(1))
    model.add(Dense(1))
    # TODO 3: Compile with Adam(learning_rate=0.01) instead of the string 'adam'
    model.compile(loss="mse", optimizer="adam")  # <-- Replace 'adam' with Adam(...)
    raise NotImplementedError  # delete this line once the three edits are made
    return model


if __name__ == "__main__":
    build_model().summary()
