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
    # BEGIN SOLUTION
    # STUB: model = Sequential()
    # STUB: model.add(Input(shape=(sequence_length, 1)))
    # STUB: # TODO 1: Increase LSTM units from 5 to 10
    # STUB: model.add(LSTM(5))  # <-- Replace 5 with 10
    # STUB: # TODO 2: Add another Dense layer (before the final Dense(1))
    # STUB: model.add(Dense(1))
    # STUB: # TODO 3: Compile with Adam(learning_rate=0.01) instead of the string 'adam'
    # STUB: model.compile(loss="mse", optimizer="adam")  # <-- Replace 'adam' with Adam(...)
    # STUB: raise NotImplementedError  # delete this line once the three edits are made
    # STUB: return model
    model = Sequential()
    # (samples, timesteps, features): each window is sequence_length steps of 1 value.
    model.add(Input(shape=(sequence_length, 1)))
    # TODO 1 done: h_t has 10 numbers; 4 · (10 · (1 + 10) + 10) = 480 parameters.
    model.add(LSTM(10))
    # TODO 2 done: a hidden Dense layer combines the LSTM's 10 features...
    model.add(Dense(8, activation="relu"))
    # ...and the output stays Dense(1) with no activation: one unbounded number.
    model.add(Dense(1))
    # TODO 3 done: an optimizer object, because the string 'adam' means lr = 0.001.
    model.compile(loss="mse", optimizer=Adam(learning_rate=0.01))
    return model
    # END SOLUTION


if __name__ == "__main__":
    build_model().summary()
