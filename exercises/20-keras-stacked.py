"""Lesson 20: a stacked, bidirectional LSTM with dropout inside the recurrent layers.

Run `workbook check 20` (or save this file while the workbook is open) to grade it.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide TensorFlow's start-up chatter

# Keras reads KERAS_BACKEND when first imported, so these imports come after it is set.
# (noqa: in the stub these imports wait for your code.)
from keras import Input, Sequential  # noqa: F401, RUF100
from keras.layers import LSTM, Bidirectional, Dense  # noqa: F401, RUF100

DROPOUT = 0.2


def build_stacked(timesteps=20, features=3):
    """Input → Bidirectional(LSTM(32)) → LSTM(16) → Dense(1), dropout 0.2 in both LSTMs."""
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    build_stacked().summary()
