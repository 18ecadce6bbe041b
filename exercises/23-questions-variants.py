"""Lesson 23: the seed's questions about GRUs, simple RNNs, overfitting and size.

Answer each question by setting its variable: one letter ("A" to "D") for a
multiple-choice question, or a number that you COMPUTE in this file for the
last one. Every answer is a check of its own; a wrong letter tells you why that
option is wrong. Run `workbook check 23` to grade.
"""

# Question 1. What is the difference between an LSTM and a GRU?
#   A. A GRU has more gates than an LSTM, which makes it more expressive.
#   B. A GRU cannot learn dependencies that span more than a few steps.
#   C. A GRU has fewer gates (reset and update) and no separate cell state, making
#      it slightly simpler and sometimes faster to train.
#   D. A GRU uses no activation functions.
ANSWER_1 = None  # TODO: your answer

# Question 2. When might you choose a simple RNN over an LSTM?
#   A. For very long sequences where the output depends on inputs from hundreds
#      of steps back.
#   B. When you need to control what the network forgets.
#   C. Never: a simple RNN is always worse than an LSTM.
#   D. For short sequences with minimal long-range dependencies, where a simple
#      RNN works and is faster.
ANSWER_2 = None  # TODO: your answer

# Question 3. What are some ways to regularize an LSTM to prevent overfitting?
#   A. Dropout between layers, recurrent dropout, or L2 regularization on weights.
#   B. Add more LSTM units and train for more epochs.
#   C. Set the forget-gate bias to a large negative number.
#   D. Use a larger learning rate.
ANSWER_3 = None  # TODO: your answer

# Question 4. When should we prefer a GRU over an LSTM?
#   A. When we need the most capacity and have plenty of data and compute.
#   B. When we want a lighter model: fewer parameters (three weight blocks instead
#      of four), faster training, often about as accurate, e.g. on smaller data sets.
#   C. When we need a separate long-term cell state.
#   D. When sequences are so short that no gating is needed at all.
ANSWER_4 = None  # TODO: your answer

# Question 5. The seed's TODO 1 changes its Keras model to LSTM(10) on sequences with
# one feature per time step. How many trainable parameters does that LSTM layer
# have? (Only the LSTM layer, not the Dense layer after it.) Compute it from the
# sizes below, using the shapes of lesson 8.
UNITS = 10  # hidden size
FEATURES = 1  # input size
ANSWER_5 = None  # TODO: your answer


if __name__ == "__main__":
    for number in range(1, 6):
        print(f"ANSWER_{number} =", globals()[f"ANSWER_{number}"])
