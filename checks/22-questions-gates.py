"""Hidden checks for lesson 22: the seed's questions about gates and memory.

One check per question. A wrong letter is answered with why that option is wrong;
numbers are recomputed here, and the usual slips get their own explanation.
"""

import math

from workbook.grading.judge.expect import expect_choice, expect_number

STEPS = 50


def _answer(learner, number):
    return getattr(learner, f"ANSWER_{number}", None)


def test_question_1(learner):
    """Question 1: why do we need gates in an LSTM?"""
    expect_choice(
        _answer(learner, 1),
        "ANSWER_1",
        "C",
        {
            "A": "gates do not save time; they add computation (an LSTM has four weight "
            "blocks where a simple RNN has one). Their job is about what is remembered",
            "B": "gates do not replace σ and tanh; they are built from them (each gate is a "
            "σ of W · [h_{t-1}, x_t] + b)",
            "D": "gates do not rescale the inputs; they scale the memory, the candidate and "
            "the output with learned values in (0, 1)",
        },
    )


def test_question_2(learner):
    """Question 2: how does the forget gate help against vanishing gradients?"""
    expect_choice(
        _answer(learner, 2),
        "ANSWER_2",
        "B",
        {
            "A": "f_t is a sigmoid, always between 0 and 1: it never makes anything larger. "
            "(Gradients that grow at every step would explode, which is no fix either)",
            "C": "a cell state reset to zero at every step would cut the path to the past "
            "completely: no memory and no gradient would flow back at all",
            "D": "nothing squashes the cell-state path: C_t is a plain sum (tanh(C_t) only "
            "goes into h_t). Squashing at every step shrinks gradients, which is the "
            "simple RNN's problem",
        },
    )


def _factor_mistakes(f):
    kept = f**STEPS
    return [
        (
            f * STEPS,
            f"that is {f} × {STEPS}: the factor is applied once per step, so it "
            "compounds (multiplied 50 times), like interest",
        ),
        (f ** (STEPS - 1), "one step short: 50 steps apply the factor 50 times"),
        (f ** (STEPS + 1), "one step too many: 50 steps apply the factor 50 times"),
        (1 - kept, "that is the part that was lost (1 − f⁵⁰), not the factor that is left"),
        ((1 - f) ** STEPS, "that uses 1 − f; the forget gate's value f is what is KEPT each step"),
        (
            math.exp(-STEPS * (1 - f)),
            f"close, but that is the approximation e^(−{STEPS}·(1 − f)); compute the exact factor",
        ),
        (
            1 - STEPS * (1 - f),
            f"that is 1 − {STEPS} × {1 - f:g}, a linear decay: as if the same amount {1 - f:g} "
            f"were taken away at every step. The factor compounds: each step multiplies what "
            f"is left by {f} again, {f} × {f} × … ({STEPS} times)",
        ),
        (
            f / STEPS,
            f"that is {f} / {STEPS}; the factor is applied once per step, so it compounds: "
            f"{f} multiplied by itself {STEPS} times",
        ),
        (
            100 * kept,
            f"that is a percentage; the question asks for the factor itself, {f}^{STEPS} "
            "(a number between 0 and 1)",
        ),
        (
            STEPS**f,
            f"base and exponent are swapped: that is {STEPS}^{f}; the factor {f} is multiplied "
            f"{STEPS} times, {f} ** {STEPS}",
        ),
        (
            f ** (1 / STEPS),
            f"that is the {STEPS}th root of {f}; the factor compounds: {f} to the power {STEPS}",
        ),
    ]


def test_question_3(learner):
    """Question 3: factor left after 50 steps with f_t = 0.99"""
    expect_number(
        _answer(learner, 3),
        "ANSWER_3",
        0.99**STEPS,
        mistakes=[
            (0.5**STEPS, "that is the factor for f_t = 0.5 (question 4)"),
            *_factor_mistakes(0.99),
        ],
    )


def test_question_4(learner):
    """Question 4: factor left after 50 steps with f_t = 0.5"""
    expect_number(
        _answer(learner, 4),
        "ANSWER_4",
        0.5**STEPS,
        mistakes=[
            (
                0.0,
                "the factor is tiny but not zero; compute it exactly and look at how tiny "
                "it is (compare it with question 3)",
            ),
            (0.99**STEPS, "that is the factor for f_t = 0.99 (question 3)"),
            *_factor_mistakes(0.5),
        ],
    )


def test_question_5(learner):
    """Question 5: what happens if the forget gate is always close to 1?"""
    expect_choice(
        _answer(learner, 5),
        "ANSWER_5",
        "D",
        {
            "A": "f_t multiplies the old memory C_{t-1}: a value near 1 KEEPS it. Forgetting "
            "everything is what f_t near 0 does",
            "B": "the forget gate does not set h_t: h_t = o_t ⊙ tanh(C_t) depends on the "
            "output gate and the cell state",
            "C": "writing is the input gate's job: with f_t ≈ 1, i_t ⊙ C̃_t is still added "
            "to the kept memory",
        },
    )
