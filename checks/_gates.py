"""Shared checks for the layers of the form act(W·[h_{t-1}; x_t] + b): the forget gate
(3), the input gate (4), the candidate (5), the output gate (7) and the plain RNN step
(10), plus two element-wise helpers for lessons 6 and 7.

Those layers differ only in their names, their activation and the order of their
arguments, so the reference, the known wrong answers and the test inputs live here
once. This module is not a check file: each lesson's check file imports it and defines
its own tests, whose docstrings are what the learner reads.

Inputs follow the seed: hidden = 2, input = 3, W of shape (hidden, hidden + input),
b of shape (hidden, 1), columns for h_{t-1} and x_t. Besides a full case, "ablation"
cases zero all but one term (only b, only h_{t-1}, only x_t), so a failing check
names the term that is wrong; a batch and a second size pair (hidden = 4, input = 2)
make sure that no size is hard-coded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workbook.grading.judge.expect import (
    ATOL,
    RTOL,
    approximation,
    call,
    expect_array,
    fail,
    function,
    helper_message,
    learner_activation,
    outside_terms,
    size_in_code,
)

HIDDEN = 2
INPUT = 3
# The second size pair: hidden and input swap roles (hidden > input), B differs from both.
OTHER_HIDDEN, OTHER_INPUT, OTHER_BATCH = 4, 2, 3


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # The same function as 1 / (1 + e^(−z)), but it never overflows: no warnings.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


ACTIVATIONS = {"sigmoid": _sigmoid, "tanh": np.tanh}
SYMBOLS = {"sigmoid": "σ", "tanh": "tanh"}


@dataclass(frozen=True)
class Gate:
    """How one lesson names its gate: `forget_gate(W_f, b_f, h_prev, x_t)` → f_t.

    `args` is the order of the parameters, one letter each (W, b, h, x): "Wbhx" for the
    gates, "xhWb" for `rnn_step(x_t, h_prev, W_h, b_h)`.
    """

    func: str
    out: str
    weight: str
    bias: str
    activation: str
    args: str = "Wbhx"

    @property
    def other(self) -> str:
        return "tanh" if self.activation == "sigmoid" else "sigmoid"

    @property
    def sym(self) -> str:
        return SYMBOLS[self.activation]

    @property
    def inside(self) -> str:
        return f"{self.weight}·[h_{{t-1}}, x_t] + {self.bias}"


@dataclass(frozen=True)
class Case:
    """One set of arguments, and how a message describes it."""

    W: np.ndarray
    b: np.ndarray
    h: np.ndarray
    x: np.ndarray
    note: str = ""


def _concat(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.concatenate((h, x), axis=0)


def expected(gate: Gate, c: Case) -> np.ndarray:
    return ACTIVATIONS[gate.activation](c.W @ _concat(c.h, c.x) + c.b)


def wrong_answers(gate: Gate, c: Case) -> list[tuple[np.ndarray, str]]:
    """Results of typical mistakes, each with its diagnosis.

    An ablation case zeroes terms, so two mistakes can give the same values there
    (tanh(W·z) + b and W·z + b when only b is non-zero); their messages are then
    joined with "or", so that no diagnosis claims more than the values show.
    """
    act, other = ACTIVATIONS[gate.activation], ACTIVATIONS[gate.other]
    product = c.W @ _concat(c.h, c.x)
    pre = product + c.b
    answers = [
        (
            act(c.W @ _concat(c.x, c.h) + c.b),
            "looks like [x_t, h_{t-1}]: the seed concatenates h first",
        ),
        (act(product), f"the bias {gate.bias} seems to be missing"),
        (other(pre), f"values match {gate.other} where {gate.activation} belongs"),
        (
            pre,
            f"{gate.sym} was not applied: these are the raw values {gate.inside}; "
            f"squash them with {gate.activation}",
        ),
        (
            act(product) + c.b,
            f"the bias {gate.bias} is added after {gate.sym}; it belongs inside: "
            f"{gate.sym}({gate.inside})",
        ),
    ]
    if gate.activation == "sigmoid":  # 1 − σ(a) is σ(−a): one mistake, one message
        answers.append((act(-pre), "a sign is flipped: this is σ(−(…)), which equals 1 − σ(…)"))
    else:
        answers.append((act(-pre), "a sign is flipped: this is tanh(−(…)) = −tanh(…)"))
        answers.append((1.0 - act(pre), f"this is 1 − tanh(…); {gate.out} is tanh(…) itself"))
    answers.append((act(product - c.b), f"the bias {gate.bias} is subtracted instead of added"))
    hidden = c.h.shape[0]
    if np.any(c.b):  # with a zero bias, a multiplied one looks like any missing term
        answers.append(
            (act(product * c.b), f"the bias {gate.bias} is multiplied (`*`) instead of added (`+`)")
        )
    answers += [
        (
            act(c.W[:, hidden:] @ c.x + c.b),
            f"the h_{{t-1}} term is missing: only x_t reaches {gate.out}. The first "
            f"`hidden` columns of {gate.weight} multiply h_{{t-1}}; use all of "
            f"{gate.weight} on [h_{{t-1}}; x_t]",
        ),
        (
            act(c.W[:, :hidden] @ c.h + c.b),
            f"the x_t term is missing: only h_{{t-1}} reaches {gate.out}. The last "
            f"`input` columns of {gate.weight} multiply x_t; use all of {gate.weight} "
            "on [h_{t-1}; x_t]",
        ),
        (
            other(act(pre)),
            f"this is {SYMBOLS[gate.other]}({gate.sym}(…)): apply {gate.activation} alone",
        ),
        (
            act(other(pre)),
            f"this is {gate.sym}({SYMBOLS[gate.other]}(…)): apply {gate.activation} alone",
        ),
    ]
    if np.any(c.h) or np.any(c.x):  # with h = x = 0 this is b, as if σ were missing
        answers.append(
            (
                act(c.W) @ _concat(c.h, c.x) + c.b,
                f"{gate.sym} is applied to the weights {gate.weight}; it squashes the whole "
                f"sum: {gate.sym}({gate.inside})",
            )
        )
    if gate.activation == "tanh":
        answers.append(
            (
                2.0 * _sigmoid(pre) - 1.0,
                "this is 2σ(a) − 1, which is tanh(a/2); tanh(a) = 2σ(2a) − 1, or np.tanh(a)",
            )
        )
    answers += _bias_reduced(gate, c, act, product)
    if np.any(c.h) and np.any(c.x):  # each term squashed on its own, then added
        w_h, w_x = c.W[:, :hidden] @ c.h, c.W[:, hidden:] @ c.x
        separately = (
            f"{gate.sym} is applied to each term separately and the results added; it "
            f"squashes the whole sum once: {gate.sym}({gate.inside})"
        )
        answers += [
            (act(w_h) + act(w_x + c.b), separately),
            (act(w_h + c.b) + act(w_x), separately),
            (act(w_h) + act(w_x) + act(c.b), separately),
        ]
    hidden_part, input_part = c.W[:, :hidden] @ c.h, c.W[:, hidden:] @ c.x
    answers += outside_terms(
        act,
        pre,
        {
            f"the h_{{t-1}} term {gate.weight}[:, :hidden]·h_{{t-1}}": hidden_part,
            f"the x_t term {gate.weight}[:, hidden:]·x_t": input_part,
        },
        {"h_{t-1}": c.h},
        gate.sym,
        gate.inside,
    )
    merged: list[tuple[np.ndarray, str]] = []
    for value, message in answers:
        for i, (seen, text) in enumerate(merged):
            if np.allclose(value, seen, rtol=RTOL, atol=ATOL):
                merged[i] = (seen, f"{text}; or {message}")
                break
        else:
            merged.append((value, message))
    return merged


def _bias_reduced(gate: Gate, c: Case, act, product) -> list[tuple[np.ndarray, str]]:
    """The bias turned into one number shared by every unit (np.mean, np.sum, b[0])."""
    if np.ptp(c.b) == 0:  # a bias with one value throughout looks the same either way
        return []
    column = f"{gate.bias} is a column with one bias per unit: add it as it is"
    return [
        (act(product + c.b.mean()), f"np.mean({gate.bias}) turns the bias into one number "
         f"shared by all units; {column}"),
        (act(product + c.b.sum()), f"np.sum({gate.bias}) turns the bias into one number "
         f"shared by all units; {column}"),
        (act(product + c.b[0, 0]), f"only the first entry of {gate.bias} ({gate.bias}[0]) is "
         f"added, to every unit; {column}"),
    ]  # fmt: skip


def _activation_mistakes(
    learner: object, gate: Gate, c: Case, got: object
) -> list[tuple[np.ndarray, str]]:
    """A result that is the right pre-activation through the wrong squashing function:
    the file's own helper (`sigmoid`, `tanh`) changed, or an approximation written in.
    Called only once `got` is known to differ from the expected values."""
    pre = c.W @ _concat(c.h, c.x) + c.b
    if not isinstance(got, np.ndarray) or got.shape != pre.shape:
        return []
    found: list[tuple[np.ndarray, str]] = []
    helper = learner_activation(learner, gate.activation, gate.activation)
    if helper is not None:
        message = helper_message(learner, gate.activation, gate.activation)
        found.append((helper(pre), message))
    message = approximation(got, pre, gate.activation, gate.inside)
    if message:
        found.append((got, message))
    return found


def _relu(learner: object, gate: Gate, c: Case, got: object) -> list[tuple[np.ndarray, str]]:
    """max(0, a) (a ReLU) where σ or tanh belongs, when the numbers show it: `got` is
    max(0, a) and the learner's result on the mirrored case (W and b negated, so a → −a)
    is max(0, −a). Where a < 0 throughout, max(0, a) is all zeros, like a missing term;
    the mirrored case, whose a is positive there, tells the two apart."""
    pre = c.W @ _concat(c.h, c.x) + c.b
    relu = np.maximum(0.0, pre)
    if not isinstance(got, np.ndarray) or got.shape != pre.shape or not np.any(pre):
        return []
    if not np.allclose(np.asarray(got, dtype=float), relu, rtol=RTOL, atol=ATOL):
        return []
    mirrored = _call(learner, gate, Case(-c.W, -c.b, c.h, c.x))
    if not isinstance(mirrored, np.ndarray) or mirrored.shape != pre.shape:
        return []
    if not np.allclose(np.asarray(mirrored, dtype=float), np.maximum(0.0, -pre), RTOL, ATOL):
        return []
    return [
        (
            relu,
            f"values match max(0, ·), a ReLU, where {gate.activation} belongs: "
            f"{gate.out} = {gate.sym}({gate.inside})",
        )
    ]


def _mistakes(learner: object, gate: Gate, c: Case, got: object) -> list:
    """Every known wrong answer for `c`, the activation's last (they need `got`); a
    ReLU alone, when the numbers show it (see `_relu`)."""
    want = expected(gate, c)
    close = isinstance(got, np.ndarray) and got.shape == want.shape
    if close and np.allclose(np.asarray(got, dtype=float), want, rtol=RTOL, atol=ATOL):
        return []
    return _relu(learner, gate, c, got) or [
        *wrong_answers(gate, c),
        *_activation_mistakes(learner, gate, c, got),
    ]


def _diagnose_shape(gate: Gate, c: Case, got: object, what: str) -> None:
    """Explain the wrong shapes that come from a wrong product, before the generic ones."""
    want = expected(gate, c)
    if not isinstance(got, np.ndarray) or got.shape == want.shape:
        return
    shapes = (
        f"{gate.weight} {c.W.shape} times the column [h_{{t-1}}; x_t] "
        f"{_concat(c.h, c.x).shape} gives {want.shape}"
    )
    if got.ndim == 1 and got.size == want.size and want.shape[1] > 1:
        fail(
            f"{what} has shape {got.shape} but expected {want.shape}: it was flattened; "
            "keep one column per sample (no ravel, flatten or 1-D arrays)",
            expected=want,
            got=got,
        )
    batch = want.shape[1]
    if got.shape == (want.shape[0], 1) and batch > 1:
        act, product = ACTIVATIONS[gate.activation], c.W @ _concat(c.h, c.x)
        columns = {
            "only the first column of the batch is computed ([:, :1], [:, 0] or a fixed "
            "reshape): every column is a sample of its own; keep them all": want[:, :1],
            "the batch columns are summed into one (a sum over axis 1): every column is a "
            "sample of its own; keep them apart": act(product.sum(axis=1, keepdims=True) + c.b),
            "the batch columns are averaged into one (a mean over axis 1): every column is a "
            "sample of its own; keep them apart": act(product.mean(axis=1, keepdims=True) + c.b),
        }
        for cause, value in columns.items():
            if np.allclose(got, value, rtol=RTOL, atol=ATOL):
                fail(
                    f"{what} has shape {got.shape} but expected {want.shape}: {cause}",
                    expected=want,
                    got=got,
                )
    if got.shape == c.W.shape:
        fail(
            f"{what} has shape {got.shape}, the shape of {gate.weight}: looks like an "
            f"element-wise `*`. {gate.weight}·[h_{{t-1}}, x_t] is a matrix product, "
            f"np.dot({gate.weight}, z) or {gate.weight} @ z ({shapes})",
            expected=want,
            got=got,
        )
    if got.shape == (want.shape[0], want.shape[0]):
        act, product = ACTIVATIONS[gate.activation], c.W @ _concat(c.h, c.x)
        if np.allclose(got, act(product + c.b.reshape(1, -1)), rtol=RTOL, atol=ATOL):
            cause = (
                f"{gate.bias} was flattened or turned into a row (ravel, flatten, .T): "
                f"keep it the ({c.b.shape[0]}, 1) column it is given as, so that it adds "
                "to every column"
            )
        elif np.allclose(got, act(product.T + c.b), rtol=RTOL, atol=ATOL):
            cause = (
                f"the product came out as a row (z.T times {gate.weight}.T): "
                f"np.dot({gate.weight}, z) is a column ({shapes}); then add {gate.bias}"
            )
        else:
            cause = (
                f"either {gate.bias} was flattened (keep it the (hidden, 1) column it is "
                f"given as) or the product came out as a row: np.dot({gate.weight}, z) is "
                f"a column ({shapes}); then add {gate.bias}"
            )
        fail(
            f"{what} has shape {got.shape} instead of {want.shape}: a row and a column "
            f"broadcast to a square; {cause}",
            expected=want,
            got=got,
        )


def _arguments(gate: Gate, c: Case) -> list[np.ndarray]:
    """Copies of the case's arrays in the order the learner's function takes them."""
    named = {"W": c.W, "b": c.b, "h": c.h, "x": c.x}
    return [named[letter].copy() for letter in gate.args]


# A slice bound written as a number, e.g. `W_f[:, :2]` or `W[:, 2:]`: a hard-coded size.
_FIXED_SLICE = re.compile(r"\[[^\]]*:\s*-?\d+\s*[\],]|\[[^\]]*\d+\s*:")


def _value_error_cause(gate: Gate, c: Case, exc: ValueError, code: str) -> str:
    """What a ValueError inside the learner's gate most likely means, from its text
    and the line that raised it; the bare shape error names none of this."""
    text = str(exc)
    hidden, inputs = c.h.shape[0], c.x.shape[0]
    if "broadcast" in text and f"({hidden},)" in text.replace(" ", ""):
        return (
            f"{gate.bias} seems flattened to shape ({hidden},): keep it the ({hidden}, 1) "
            "column it is given as, so that it adds to every column of the batch"
        )
    if "broadcast" in text and f"(1,{hidden})" in text.replace(" ", ""):
        return (
            f"{gate.bias} seems turned into a row of shape (1, {hidden}) (reshape(1, -1) or "
            f".T): keep it the ({hidden}, 1) column it is given as, so that it adds to every "
            "column of the batch"
        )
    if _FIXED_SLICE.search(code):
        return (
            f"the line slices with a fixed number, but here hidden = {hidden} and input = "
            f"{inputs}: take sizes from the arrays (h_prev.shape[0]), or use all of "
            f"{gate.weight} on the stacked column"
        )
    if re.search(rf"dot\(\s*\w+\s*,\s*{gate.weight}\b|\w\s*@\s*{gate.weight}\b", code):
        return (
            f"the factors are in the wrong order: {gate.weight} comes first, "
            f"np.dot({gate.weight}, z) or {gate.weight} @ z (a matrix product is not "
            "commutative)"
        )
    aligned = re.search(r"shapes \((\d+), ?(\d+)\) and \((\d+), ?(\d+)\) not aligned", text)
    z_rows = hidden + inputs
    if aligned and tuple(map(int, aligned.groups()[:2])) == c.W.shape:
        rows = int(aligned[3])
        return (
            f"{gate.weight} is the first factor, as it should be, but the second has {rows} "
            f"rows where [h_{{t-1}}; x_t] has {z_rows} (hidden {hidden} + input {inputs}): "
            "check what is stacked into z (h_prev, then x_t, each once)"
        )
    if re.search(rf"{gate.weight}\s*\.\s*T\b|transpose\(\s*{gate.weight}", code):
        return f"{gate.weight}.T does not fit: {gate.weight} itself is (hidden, hidden + input)"
    if re.search(r"(?<![*])\*(?![*=])", code) and "dot" not in code and "@" not in code:
        return f"an element-wise `*` does not fit: {gate.weight}·z is a matrix product"
    if "broadcast" in text:
        return (
            "NumPy could not add two terms of those shapes: each term of the sum should be "
            f"(hidden, B) like {gate.weight} @ z, or the ({hidden}, 1) bias column"
        )
    return "check which factor of the product has which shape"


def _call(learner: object, gate: Gate, c: Case) -> object:
    """Call the learner's gate on copies of `c`, explaining NumPy's shape errors.

    A transposed weight matrix or a product of the wrong arrays can only fail with a
    ValueError inside the learner's code; the shapes of the pieces say what fits.
    """
    func = function(learner, gate.func)
    try:
        return call(func, *_arguments(gate, c))
    except ValueError as exc:
        trace = getattr(exc, "trace", None) or {}  # where in the learner's file it was raised
        location = trace.get("location")
        code = trace.get("code") or ""
        where = f" at {location} (`{code}`)" if location else ""
        z = _concat(c.h, c.x)
        fixed = size_in_code(code, str(exc)) if not _FIXED_SLICE.search(code) else None
        if fixed:
            hidden, inputs, batch = c.h.shape[0], c.x.shape[0], c.h.shape[1]
            fail(
                f"`{fixed}` writes a size into your code{where}, but here hidden = {hidden}, "
                f"input = {inputs} and the batch has {batch} column{'s' if batch > 1 else ''}:"
                f" take sizes from the arrays (h_prev.shape), or leave the shape alone, "
                f"{gate.weight} @ z + {gate.bias} already is (hidden, B) = {(c.W @ z).shape} "
                f"(NumPy said: {exc})"
            )
        fail(
            f"your code raised ValueError{where}: {exc}. The shapes: {gate.weight} is "
            f"{c.W.shape} and [h_{{t-1}}; x_t] is {z.shape}, so the matrix product "
            f"np.dot({gate.weight}, z) (or {gate.weight} @ z) is {(c.W @ z).shape}, like "
            f"{gate.bias} {c.b.shape}; {_value_error_cause(gate, c, exc, code)}"
        )


def check(learner: object, gate: Gate, c: Case, what: str) -> None:
    """Call the learner's gate on a copy of `c` and compare, naming known mistakes."""
    got = _call(learner, gate, c)
    what = f"{what} {c.note}".strip()
    _diagnose_shape(gate, c, got, what)
    expect_array(got, expected(gate, c), what=what, mistakes=_mistakes(learner, gate, c, got))


def cases(seed: int) -> dict[str, Case]:
    """The full case, the three ablations, a batch and other sizes; `seed` varies them."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(HIDDEN, HIDDEN + INPUT))
    b = rng.normal(size=(HIDDEN, 1)) + np.array([[0.5], [-0.5]])
    h = rng.uniform(-1, 1, size=(HIDDEN, 1))
    x = rng.normal(size=(INPUT, 1))
    zero_h, zero_x, zero_b = np.zeros_like(h), np.zeros_like(x), np.zeros_like(b)
    return {
        "full": Case(W, b, h, x),
        "bias": Case(W, b, zero_h, zero_x, "(h_{t-1} = 0 and x_t = 0: only the bias counts)"),
        "h": Case(W, zero_b, h, zero_x, "(x_t = 0 and bias = 0: only h_{t-1} counts)"),
        "x": Case(W, zero_b, zero_h, x, "(h_{t-1} = 0 and bias = 0: only x_t counts)"),
        "batch": Case(
            W,
            b,
            rng.uniform(-1, 1, size=(HIDDEN, 4)),
            rng.normal(size=(INPUT, 4)),
            "(a batch of 4 columns)",
        ),
        "sizes": Case(
            rng.normal(size=(OTHER_HIDDEN, OTHER_HIDDEN + OTHER_INPUT)),
            rng.normal(size=(OTHER_HIDDEN, 1)),
            rng.uniform(-1, 1, size=(OTHER_HIDDEN, OTHER_BATCH)),
            rng.normal(size=(OTHER_INPUT, OTHER_BATCH)),
            f"(hidden = {OTHER_HIDDEN}, input = {OTHER_INPUT}, a batch of {OTHER_BATCH})",
        ),
    }


def _low(gate: Gate) -> float:
    return -1.0 if gate.activation == "tanh" else 0.0


def _call_checked(learner: object, gate: Gate, case: Case, what: str) -> np.ndarray:
    """The learner's result for `case`, failing on a wrong type or shape."""
    got = _call(learner, gate, case)
    _diagnose_shape(gate, case, got, what)
    if (
        not isinstance(got, np.ndarray)
        or got.shape != expected(gate, case).shape
        or not np.issubdtype(got.dtype, np.number)
    ):
        expect_array(got, expected(gate, case), what=what)  # explains type and shape
    return got.astype(float)


def _explain(learner: object, gate: Gate, case: Case, got: np.ndarray, should: str) -> None:
    """Fail with `should` plus the diagnosis of a known mistake, if `got` matches one."""
    for value, message in _mistakes(learner, gate, case, got):
        if np.allclose(got, value, rtol=RTOL, atol=ATOL):
            fail(f"{should}: {message}", expected=expected(gate, case), got=got)


def check_saturation(learner: object, gate: Gate, c: Case, *, meaning: str) -> None:
    """A bias of ±8 (with h_{t-1} = x_t = 0) must give values near the ends of the range.

    Ties the gate to its meaning: σ near 1 opens a gate fully and near 0 shuts it;
    tanh near ±1 proposes a strong positive or negative value.
    """
    for bias, top in ((8.0, 1.0), (-8.0, _low(gate))):
        case = Case(c.W, np.full_like(c.b, bias), np.zeros_like(c.h), np.zeros_like(c.x))
        what = f"{gate.out} with {gate.bias} = {bias:+g} (h_{{t-1}} = x_t = 0)"
        got = _call_checked(learner, gate, case, what)
        if np.allclose(got, top, atol=1e-3):
            continue
        should = (
            f"with {gate.bias} = {bias:+g} (and h_{{t-1}} = x_t = 0), {gate.out} should be "
            f"close to {top:g} ({meaning})"
        )
        _explain(learner, gate, case, got, should)
        fail(should, expected=expected(gate, case), got=got)


def check_range(learner: object, gate: Gate, c: Case, *, meaning: str) -> None:
    """On large inputs every value stays inside the activation's range, ends excluded.

    Only the range is judged here; the value checks say what else is wrong.
    """
    case = Case(2.0 * c.W, 2.0 * c.b, c.h, c.x, "(large inputs)")
    got = _call_checked(learner, gate, case, f"{gate.out} {case.note}")
    low = _low(gate)
    if np.all((got > low) & (got < 1.0)):
        return
    should = (
        f"on large inputs {gate.out} should stay strictly between {low:g} and 1 "
        f"({meaning}), but it ranges from {got.min():.4g} to {got.max():.4g}"
    )
    _explain(learner, gate, case, got, should)
    fail(f"{should}: is {gate.sym} applied last?", expected=expected(gate, case), got=got)


def diagnose_elementwise(got: object, want: np.ndarray, what: str, left: str, right: str) -> None:
    """Name a matrix product where the element-wise ⊙ belongs, from the shape it gives.

    `left ⊙ right` keeps the shape (n, B). A product of the transposed left with the
    right is (B, B), a sum over the memory cells (an inner product for one column);
    the left times the transposed right is (n, n), every cell paired with every other.
    """
    if not isinstance(got, np.ndarray) or got.shape == want.shape or want.ndim != 2:
        return
    n, batch = want.shape
    products = {
        (batch, batch): f"{left}ᵀ·{right} (`.T @` or np.dot), which sums over the memory cells",
        (n, n): f"{left}·{right}ᵀ (`@ ….T` or np.outer), which pairs every cell with every other",
    }
    if got.shape in products and n != batch:
        fail(
            f"{what} has shape {got.shape} but expected {want.shape}: that is the shape of "
            f"the matrix product {products[got.shape]}; ⊙ multiplies cell by cell, "
            f"`{left} * {right}` in NumPy, and keeps the shape {want.shape}",
            expected=want,
            got=got,
        )


def expect_unchanged(
    func: str, names: Sequence[str], before: Sequence[np.ndarray], after: Sequence[np.ndarray]
) -> None:
    """Arguments must come back as they went in: the caller still needs the old values
    (C_{t-1}, o_t, …), and an in-place `*=` would silently corrupt them."""
    for name, old, new in zip(names, before, after, strict=True):
        if not np.array_equal(old, new):
            fail(
                f"{func} changed its argument {name} in place (e.g. with `*=` or `+=`): "
                "build a new array instead, the caller still needs the old values",
                expected=old,
                got=new,
            )
