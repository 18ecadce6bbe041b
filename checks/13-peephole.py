"""Hidden checks for lesson 13: peephole_step, an LSTM step whose gates read the cell state."""

import sys
from pathlib import Path

import numpy as np

# The NumPy lessons from 12 on share their two-size helpers in checks/_sizes.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sizes

from workbook.grading.judge.expect import (
    approximation_mistakes,
    expect_array,
    expect_pair,
    function,
    helper_message,
    learner_activation,
)
from workbook.grading.judge.references import random_params, sigmoid

# Every check runs at two sizes (input ≠ hidden both ways, a batch and a single column),
# so a size written into the code cannot pass.
SIZES = ((3, 2, 3), (2, 4, 1))


# A copy-pasted peephole reads another gate's weights: f and i each other's, o p_f's.
OTHER = {"f": "i", "i": "f", "o": "f"}


def _gate(p, gate, z, C, style, sig=sigmoid):
    """σ(W·z + p ⊙ C + b) as written right ("diag") or as a typical wrong answer: a
    matrix product, no peephole, another gate's p, p ⊙ h_{t-1} where p ⊙ C belongs
    ("h"), the full matrix p pᵀ ("outer"), or the term added outside σ."""
    a = p[f"W_{gate}"] @ z + (0.0 if style.endswith("nobias") else p[f"b_{gate}"])
    style = style.removesuffix("+nobias")
    peep = {"none": 0.0, "diag": p[f"p_{gate}"] * C, "outside": 0.0}.get(style)
    if style == "h":  # h_{t-1}: the first rows of z = [h_{t-1}; x_t], as many as C has
        peep = p[f"p_{gate}"] * z[: C.shape[0]]
    if style == "dot":
        peep = p[f"p_{gate}"].T @ C
    elif style == "outer":  # p pᵀ: a full (hidden × hidden) matrix built from p
        peep = p[f"p_{gate}"] @ p[f"p_{gate}"].T @ C
    elif style == "other":
        peep = p[f"p_{OTHER[gate]}"] * C
    value = sig(a + peep)
    return value + p[f"p_{gate}"] * C if style == "outside" else value


def _step(x, h, C, p, *, f="diag", i="diag", o="diag", o_reads="new", squash=True,
          sig=sigmoid, tanh=np.tanh, out=None, h_reads="new", cand=None):  # fmt: skip
    """Our peephole step, with switches (one per gate) that reproduce typical wrong answers;
    `cand` ("f", "i" or "o") gives the candidate a peephole p_cand ⊙ C_{t-1} of its own."""
    z = np.vstack((h, x))
    c = tanh(p["W_c"] @ z + (p[f"p_{cand}"] * C if cand else 0.0) + p["b_c"])
    C_new = _gate(p, "f", z, C, f, sig) * C + _gate(p, "i", z, C, i, sig) * c
    o_t = _gate(p, "o", z, C_new if o_reads == "new" else C, o, sig)
    shown = C_new if h_reads == "new" else C
    return o_t * ((out or tanh)(shown) if squash else shown), C_new


def _activation_mistakes(learner, x, h, C, p, index):
    """σ or tanh replaced: the file's own `sigmoid` changed, or an approximation."""
    found = []
    sig = learner_activation(learner, "sigmoid", "sigmoid")
    if sig is not None:
        message = helper_message(learner, "sigmoid", "sigmoid")
        found.append((_step(x, h, C, p, sig=sig)[index], message))
    found += approximation_mistakes("sigmoid", lambda act: _step(x, h, C, p, sig=act)[index])
    found += approximation_mistakes("tanh", lambda act: _step(x, h, C, p, tanh=act)[index])
    found += approximation_mistakes("tanh", lambda act: _step(x, h, C, p, out=act)[index])
    return found


def _each(style: str, message: str) -> list[tuple[dict, str]]:
    """The same mistake in each gate alone, named after the gate."""
    cells = {"f": "C_{t-1}", "i": "C_{t-1}", "o": "C_t"}
    names = {"f": "the forget gate", "i": "the input gate", "o": "the output gate"}
    return [
        ({g: style}, message.format(gate=names[g], g=g, C=cells[g], other=OTHER[g])) for g in "fio"
    ]


# Single-gate mistakes first: where only one peephole is non-zero, they are the precise
# reading of what the combined ones would also match.
MISTAKES = [
    (dict(o_reads="old"),
     "the output gate reads C_{t-1}; it should peek at the new cell state C_t"),
    *_each("none", "{gate} misses its peephole p_{g} ⊙ {C}"),
    *_each("dot", "{gate}'s peephole looks like a matrix product; it is element-wise, "
           "p_{g} ⊙ {C} with `*`"),
    *_each("outer", "{gate}'s peephole is the full matrix p_{g} p_{g}ᵀ times {C} "
           "(`p @ p.T @ C`); it is element-wise, p_{g} ⊙ {C} with `*`, one weight per "
           "cell unit"),
    *_each("other", "{gate}'s peephole uses p_{other}; each gate has its own weights: "
           "p_{g} ⊙ {C}"),
    *_each("h", "{gate}'s peephole reads h_{{t-1}}; a peephole peeks at the cell state: "
           "p_{g} ⊙ {C}"),
    *_each("outside", "{gate}'s peephole is added outside σ; it goes inside with the rest: "
           "σ(W · [h_{{t-1}}, x_t] + p_{g} ⊙ {C} + b)"),
    *_each("diag+nobias", "{gate} misses its bias b_{g}: σ(W · [h_{{t-1}}, x_t] + "
           "p_{g} ⊙ {C} + b_{g})"),
    *((dict(cand=g), f"the candidate C̃_t has a peephole term p_{g} ⊙ C_{{t-1}}, but the "
       "candidate has no peephole: C̃_t = tanh(W_c · [h_{t-1}, x_t] + b_c); only f_t, i_t "
       "and o_t peek at the cell state") for g in "fio"),
    (dict(squash=False), "h_t = o_t ⊙ tanh(C_t): the tanh of the cell state is missing"),
    (dict(h_reads="old"), "h_t uses the old cell state: h_t = o_t ⊙ tanh(C_t), with the C_t "
     "just computed"),
    (dict(f="dot", i="dot", o="dot"), "the peepholes look like matrix products; they are "
     "element-wise, p ⊙ C with `*` (one weight per cell unit)"),
    (dict(f="dot", i="dot"), "the peepholes of f_t and i_t look like matrix products; they "
     "are element-wise, p ⊙ C_{t-1} with `*`"),
    (dict(f="none", i="none", o="none"),
     "the peephole terms are missing: this is the plain LSTM step"),
    (dict(f="none", i="none"),
     "the forget and input gates miss their peepholes p_f ⊙ C_{t-1} and p_i ⊙ C_{t-1}"),
    (dict(f="h", i="h"), "the peepholes of f_t and i_t read h_{t-1}; they peek at the cell "
     "state: p_f ⊙ C_{t-1} and p_i ⊙ C_{t-1}"),
    (dict(f="other", i="other"), "the forget and input gates use each other's peepholes: "
     "p_f ⊙ C_{t-1} goes in f_t, p_i ⊙ C_{t-1} in i_t"),
]  # fmt: skip
# C_t never sees the output gate, so only the f/i mistakes can explain a wrong C_t.
CELL_MISTAKES = [
    (sw, m) for sw, m in MISTAKES if not {"o", "o_reads", "squash", "h_reads"} & set(sw)
]


def _case(seed: int, size, *, on=("f", "i", "o")):
    hidden, inputs, batch = size
    rng = np.random.default_rng(seed)
    p = random_params(rng, hidden, inputs, scale=0.7)
    for gate in "fio":
        p[f"p_{gate}"] = rng.uniform(0.5, 1.5, (hidden, 1)) * rng.choice([-1, 1], (hidden, 1))
        p[f"p_{gate}"] *= 1.0 if gate in on else 0.0
    x = rng.standard_normal((inputs, batch))
    h = 0.5 * rng.standard_normal((hidden, batch))
    C = 1.5 * rng.standard_normal((hidden, batch))
    return x, h, C, p


def _check(learner, seed, where, on=("f", "i", "o")):
    step = function(learner, "peephole_step")
    for first, size in enumerate(SIZES):
        x, h, C, p = _case(seed, size, on=on)
        named = dict(zip(("hidden", "input", "batch"), size, strict=True))
        result = _sizes.at_size(step, (x, h, C, p), first == 0, **named)
        h_got, C_got = expect_pair(result, "peephole_step", ("h_t", "C_t"))
        h_ok, C_ok = _step(x, h, C, p)
        for what, got, ok, index, mistakes in (
            ("C_t", C_got, C_ok, 1, CELL_MISTAKES),
            ("h_t", h_got, h_ok, 0, MISTAKES),
        ):
            close = np.shape(got) == ok.shape and np.allclose(got, ok, rtol=1e-4, atol=1e-6)
            expect_array(
                got,
                ok,
                what=_sizes.label(f"{what} {where}", **named),
                mistakes=[
                    *((_step(x, h, C, p, **sw)[index], _told(sw, m, on)) for sw, m in mistakes),
                    *([] if close else _activation_mistakes(learner, x, h, C, p, index)),
                ],
            )


def _told(switches: dict, message: str, on) -> str:
    """A missing peephole, where the gate it would copy from has p = 0 in this case,
    looks exactly like reading that gate's p: say both."""
    (gate, style), *more = switches.items()
    if more or style != "none" or OTHER.get(gate, "o") in on:
        return message
    return f"{message} (or it uses p_{OTHER[gate]}, which is 0 here)"


def test_zero_peepholes_is_the_plain_lstm(learner):
    """with all peepholes 0 it is the seed's LSTM step"""
    _check(learner, 1, "with p_f = p_i = p_o = 0", on=())


def test_forget_peephole(learner):
    """f_t adds p_f ⊙ C_{t-1}"""
    _check(learner, 2, "with only p_f non-zero", on=("f",))


def test_input_peephole(learner):
    """i_t adds p_i ⊙ C_{t-1}"""
    _check(learner, 5, "with only p_i non-zero", on=("i",))


def test_output_peephole_reads_new_cell_state(learner):
    """o_t adds p_o ⊙ C_t, the cell state just computed"""
    _check(learner, 3, "with only p_o non-zero", on=("o",))


def test_full_peephole_step(learner):
    """a full peephole step on a batch of 3 columns, and on one column with input > hidden"""
    _check(learner, 4, "with all peepholes")
