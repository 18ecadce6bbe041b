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
    # BEGIN SOLUTION
    model = Sequential(
        [
            Input(shape=(timesteps, features)),
            # Not the last LSTM: hand the next one every time step → (batch, 20, 2 · 32).
            Bidirectional(
                LSTM(32, return_sequences=True, dropout=DROPOUT, recurrent_dropout=DROPOUT)
            ),
            # The last LSTM: only its final state → (batch, 16), what Dense wants.
            # Dropout on x_t and on h_{t-1} are arguments of the LSTM, not extra layers.
            LSTM(16, dropout=DROPOUT, recurrent_dropout=DROPOUT),
            Dense(1),
        ]
    )
    model.compile(loss="mse", optimizer="adam")
    return model
    # END SOLUTION


if __name__ == "__main__":
    build_stacked().summary()
