"""Hidden checks for lesson 23: the seed's questions about GRUs, simple RNNs,
regularization and the size of an LSTM layer.

One check per question. A wrong letter is answered with why that option is wrong;
the parameter count is recomputed here, and the usual slips get their own message.
"""

from workbook.grading.judge.expect import expect_choice, expect_number

UNITS, FEATURES = 10, 1


def _answer(learner, number):
    return getattr(learner, f"ANSWER_{number}", None)


def test_question_1(learner):
    """Question 1: what is the difference between an LSTM and a GRU?"""
    expect_choice(
        _answer(learner, 1),
        "ANSWER_1",
        "C",
        {
            "A": "count them: the LSTM has three gates (forget, input, output), the GRU "
            "two (reset, update)",
            "B": "the GRU is gated too, and was designed for long-range dependencies just "
            "like the LSTM; it is the simple RNN that struggles there",
            "D": "the GRU's gates are sigmoids and its candidate uses tanh, just like the LSTM's",
        },
    )


def test_question_2(learner):
    """Question 2: when might you choose a simple RNN over an LSTM?"""
    expect_choice(
        _answer(learner, 2),
        "ANSWER_2",
        "D",
        {
            "A": "long-range dependencies are exactly where a simple RNN fails: its "
            "gradient vanishes over hundreds of steps",
            "B": "a simple RNN has no gates at all, so it cannot control what it forgets",
            "C": "a simple RNN has a quarter of the LSTM's weights and is faster; when "
            "nothing far back matters it can do the job",
        },
    )


def test_question_3(learner):
    """Question 3: how can you regularize an LSTM to prevent overfitting?"""
    expect_choice(
        _answer(learner, 3),
        "ANSWER_3",
        "A",
        {
            "B": "more units and more epochs give the model more room to memorize the "
            "training data: that makes overfitting worse",
            "C": "a very negative forget-gate bias makes f_t ≈ 0, so the cell forgets "
            "everything at every step: that cripples its memory, it does not regularize",
            "D": "the learning rate changes how fast and how stably training moves, not "
            "how much the model can memorize",
        },
    )


def test_question_4(learner):
    """Question 4: when should we prefer a GRU over an LSTM?"""
    expect_choice(
        _answer(learner, 4),
        "ANSWER_4",
        "B",
        {
            "A": "for the most capacity the bigger cell, the LSTM, is the natural choice",
            "C": "only the LSTM has a separate cell state; the GRU merges it into h_t",
            "D": "when no gating is needed at all, the cheaper choice is a simple RNN",
        },
    )


def _block(hidden, inputs):
    """Weights and bias of one block: W (hidden, hidden + input) and b (hidden, 1)."""
    return hidden * (hidden + inputs) + hidden


def test_question_5(learner):
    """Question 5: trainable parameters of LSTM(10) with one input feature"""
    h, x = UNITS, FEATURES
    expect_number(
        _answer(learner, 5),
        "ANSWER_5",
        4 * _block(h, x),
        mistakes=[
            (
                3 * _block(h, x),
                "that counts three blocks (as many as a GRU has); an LSTM has four: "
                "forget gate, input gate, candidate and output gate",
            ),
            (_block(h, x), "that is one block; the LSTM has one per gate plus the candidate"),
            (4 * h * (h + x), "the biases are missing: each block also has b of shape (hidden, 1)"),
            (
                4 * (h * x + h),
                "the recurrent weights are missing: each W multiplies "
                "[h_{t-1}, x_t], so it has hidden + input columns",
            ),
            (
                4 * (h * (h + x) + 2 * h),
                "that counts two biases per block (the cuDNN/PyTorch convention); "
                "Keras and the seed use one",
            ),
            (
                4 * _block(h, x) + h + 1,
                "that includes the Dense(1) layer after the LSTM; count the LSTM layer only",
            ),
            (4 * _block(5, x), "that is the seed's LSTM(5); the question is about 10 units"),
            (
                4 * _block(x, h),
                "units and input features are swapped: W has shape (hidden, hidden + input) "
                "with hidden = 10 units, input = 1 feature",
            ),
            (
                3 * (h * (h + x) + 2 * h),
                "that is a Keras GRU's count (three blocks, two biases each); an LSTM has "
                "four blocks, one bias each",
            ),
            (
                4 * h * (h + x) + h,
                "that counts one bias column for the whole layer; each of the four blocks has "
                "its own b of shape (hidden, 1)",
            ),
            (
                4 * (h * (h + x) + 1),
                "that counts one bias number per block; each block's b is a column with one "
                "entry per unit, shape (hidden, 1)",
            ),
            (
                4 * (h * h + x + h),
                "the input weights are counted once per block, not once per unit: W has "
                "hidden rows and hidden + input columns, hidden · (hidden + input) numbers",
            ),
            (
                4 * (h * h + h),
                "the input weights are missing: each W multiplies [h_{t-1}, x_t], so it has "
                "hidden + input columns",
            ),
        ],
    )
