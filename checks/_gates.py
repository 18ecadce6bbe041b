"""Shared checks for the gate lessons: forget gate (3), input gate (4), candidate (5).

All three compute act(W·[h_{t-1}; x_t] + b); only the names and the activation differ,
so the reference, the known wrong answers and the test inputs live here once. This
module is not a check file: each lesson's check file imports it and defines its own
tests, whose docstrings are what the learner reads.

Inputs follow the seed: hidden = 2, input = 3, W of shape (hidden, hidden + input),
b of shape (hidden, 1), columns for h_{t-1} and x_t. Besides a full case, "ablation"
cases zero all but one term (only b, only h_{t-1}, only x_t), so a failing check
names the term that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbook.expect import ATOL, RTOL, call, expect_array, fail, function

HIDDEN = 2
INPUT = 3


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # The same function as 1 / (1 + e^(−z)), but it never overflows: no warnings.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


ACTIVATIONS = {"sigmoid": _sigmoid, "tanh": np.tanh}
SYMBOLS = {"sigmoid": "σ", "tanh": "tanh"}


@dataclass(frozen=True)
class Gate:
    """How one lesson names its gate: `forget_gate(W_f, b_f, h_prev, x_t)` → f_t."""

    func: str
    out: str
    weight: str
    bias: str
    activation: str

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
    answers.append((act(product - c.b), f"the bias {gate.bias} is subtracted; add it"))
    merged: list[tuple[np.ndarray, str]] = []
    for value, message in answers:
        for i, (seen, text) in enumerate(merged):
            if np.allclose(value, seen, rtol=RTOL, atol=ATOL):
                merged[i] = (seen, f"{text}; or {message}")
                break
        else:
            merged.append((value, message))
    return merged


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
    if got.shape == c.W.shape:
        fail(
            f"{what} has shape {got.shape}, the shape of {gate.weight}: looks like an "
            f"element-wise `*`. {gate.weight}·[h_{{t-1}}, x_t] is a matrix product, "
            f"np.dot({gate.weight}, z) or {gate.weight} @ z ({shapes})",
            expected=want,
            got=got,
        )
    if got.shape == (want.shape[0], want.shape[0]):
        fail(
            f"{what} has shape {got.shape} instead of {want.shape}: a row and a column "
            f"broadcast to a square. Either {gate.bias} was flattened (keep it the "
            f"(hidden, 1) column it is given as) or the product came out as a row: "
            f"np.dot({gate.weight}, z) is a column ({shapes}); then add {gate.bias}",
            expected=want,
            got=got,
        )


def _call(learner: object, gate: Gate, c: Case) -> object:
    """Call the learner's gate on copies of `c`, explaining NumPy's shape errors.

    A transposed weight matrix or a product of the wrong arrays can only fail with a
    ValueError inside the learner's code; the shapes of the pieces say what fits.
    """
    func = function(learner, gate.func)
    try:
        return call(func, c.W.copy(), c.b.copy(), c.h.copy(), c.x.copy())
    except ValueError as exc:
        trace = getattr(exc, "trace", None) or {}  # where in the learner's file it was raised
        location = trace.get("location")
        where = f" at {location} (`{trace.get('code')}`)" if location else ""
        z = _concat(c.h, c.x)
        fail(
            f"your code raised ValueError{where}: {exc}. The shapes: {gate.weight} is "
            f"{c.W.shape} and [h_{{t-1}}; x_t] is {z.shape}, so the matrix product "
            f"np.dot({gate.weight}, z) (or {gate.weight} @ z) is {(c.W @ z).shape}, like "
            f"{gate.bias} {c.b.shape}; {gate.weight}.T or an element-wise `*` do not fit"
        )


def check(learner: object, gate: Gate, c: Case, what: str) -> None:
    """Call the learner's gate on a copy of `c` and compare, naming known mistakes."""
    got = _call(learner, gate, c)
    what = f"{what} {c.note}".strip()
    _diagnose_shape(gate, c, got, what)
    expect_array(got, expected(gate, c), what=what, mistakes=wrong_answers(gate, c))


def cases(seed: int) -> dict[str, Case]:
    """The full case, the three ablations and a batch; `seed` varies them per lesson."""
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


def _explain(gate: Gate, case: Case, got: np.ndarray, should: str) -> None:
    """Fail with `should` plus the diagnosis of a known mistake, if `got` matches one."""
    for value, message in wrong_answers(gate, case):
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
        _explain(gate, case, got, should)
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
    _explain(gate, case, got, should)
    fail(f"{should}: is {gate.sym} applied last?", expected=expected(gate, case), got=got)
