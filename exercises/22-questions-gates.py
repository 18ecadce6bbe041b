"""Lesson 22: the seed's questions about gates and memory.

Answer each question by setting its variable: one letter ("A" to "D") for a
multiple-choice question, or a number that you COMPUTE in this file (with Python
or NumPy) for the others. Every answer is a check of its own; a wrong letter
tells you why that option is wrong. Run `workbook check 22` to grade.
"""

import numpy as np

# Question 1. Why do we need gates in an LSTM?
#   A. To make the network run faster than a simple RNN.
#   B. To replace the activation functions σ and tanh.
#   C. To control how much information flows into and out of the cell state, so
#      the cell can keep what matters and forget the rest.
#   D. To normalize the inputs x_t before the cell sees them.
ANSWER_1 = None  # TODO: your answer

# Question 2. How does the forget gate help fix the vanishing gradient problem?
#   A. It makes the gradient larger than 1 at every step, so it cannot vanish.
#   B. The cell state is updated by addition and the old memory is only scaled by
#      f_t; with f_t near 1, information (and its gradient) passes through many
#      time steps without being multiplied by small numbers again and again.
#   C. It resets the cell state to zero at every step, so gradients start fresh.
#   D. It squashes the cell state with tanh at every step, keeping it bounded.
ANSWER_2 = None  # TODO: your answer

# Questions 3 and 4. Along the cell state, each time step multiplies the old
# memory, and the gradient flowing back to it, by the forget gate f_t. Suppose f_t
# stays at the same value for STEPS = 50 steps. What factor is left after 50 steps
#   3. when f_t = 0.99?
#   4. when f_t = 0.5?
# Compute both here; don't type in rounded numbers.
STEPS = 50
ANSWER_3 = None  # TODO: your answer
ANSWER_4 = None  # TODO: your answer

# Question 5. What happens if the forget gate is always close to 1?
#   A. The cell forgets almost everything at every step.
#   B. The hidden state h_t becomes 1.
#   C. Nothing new can enter the cell state any more.
#   D. The cell keeps nearly all of its old content: memories and gradients last
#      for many steps, but stale information is hard to clear and C_t can keep
#      growing as new content is added.
ANSWER_5 = None  # TODO: your answer


if __name__ == "__main__":
    for number in range(1, 6):
        print(f"ANSWER_{number} =", globals()[f"ANSWER_{number}"])
    # For comparison (not one of the answers): what f_t = 0.9 leaves after 1, 10, 20 steps.
    print("f_t = 0.9 after 1, 10, 20 steps:", 0.9 ** np.array([1, 10, 20]))
