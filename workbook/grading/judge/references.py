"""Private NumPy reference cells and gradient-check tools for the hidden checks.

Checks must never import the reference solutions (that would grade the course
against itself), so the sequence lessons (LSTM forward, RNN, GRU, peephole,
backward, BPTT) compute their expected values here. The conventions are the
course's: column vectors, batches as columns `(hidden, B)`, gate weights of shape
`(hidden, hidden + input)` acting on `[h_{t-1}; x_t]` (h first), biases `(hidden, 1)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from workbook.grading.judge.expect import expect_array, fail

LSTM_GATES = ("f", "i", "c", "o")
LSTM_KEYS = tuple(f"W_{g}" for g in LSTM_GATES) + tuple(f"b_{g}" for g in LSTM_GATES)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ written through tanh: exact and overflow-free without a branch."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def random_params(
    rng: np.random.Generator,
    hidden: int,
    inputs: int,
    names: Iterable[str] = LSTM_GATES,
    scale: float = 0.6,
) -> dict[str, np.ndarray]:
    """Gate weights `W_<g>` (hidden, hidden + input) and biases `b_<g>` (hidden, 1)."""
    params: dict[str, np.ndarray] = {}
    names = tuple(names)
    for g in names:
        params[f"W_{g}"] = scale * rng.standard_normal((hidden, hidden + inputs))
    for g in names:
        params[f"b_{g}"] = scale * rng.standard_normal((hidden, 1))
    return params


def lstm_step(
    x: np.ndarray, h: np.ndarray, C: np.ndarray, p: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One seed-style LSTM step; also returns the gate values for backward checks."""
    z = np.vstack((h, x))
    f = sigmoid(p["W_f"] @ z + p["b_f"])
    i = sigmoid(p["W_i"] @ z + p["b_i"])
    c = np.tanh(p["W_c"] @ z + p["b_c"])
    o = sigmoid(p["W_o"] @ z + p["b_o"])
    C_new = f * C + i * c
    h_new = o * np.tanh(C_new)
    return h_new, C_new, {"z": z, "f": f, "i": i, "c": c, "o": o}


def lstm_forward(
    X: np.ndarray, h0: np.ndarray, C0: np.ndarray, p: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """All hidden states H (T, hidden, B) and the last cell state."""
    h, C = h0, C0
    H = []
    for x in X:
        h, C, _ = lstm_step(x, h, C, p)
        H.append(h)
    return np.stack(H), C


def numerical_gradient(loss: Callable[[], float], array: np.ndarray, eps: float = 1e-5):
    """Central differences of `loss()` w.r.t. every entry of `array` (perturbed in place)."""
    grad = np.zeros_like(array, dtype=float)
    for index in np.ndindex(array.shape):
        keep = array[index]
        array[index] = keep + eps
        up = loss()
        array[index] = keep - eps
        down = loss()
        array[index] = keep
        grad[index] = (up - down) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖): the usual gradient-check figure (0 = identical)."""
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def expect_gradient(
    got: Any,
    numeric: np.ndarray,
    *,
    name: str,
    context: str = "",
    mistakes: Iterable[tuple[Any, str]] = (),
    tolerance: float = 1e-6,
) -> None:
    """Compare a learner's analytic gradient with a central-difference one.

    Shape problems and known wrong answers get expect_array's messages; any other
    difference is reported with its relative error, which is what a gradient check
    tells you in practice (≈1e-9 when right, ≈1e-1 when a term is missing).
    """
    what = f"{name}{context}"
    expect_array(got, numeric, what=what, rtol=1.0, atol=np.inf)  # type and shape only
    got = np.asarray(got, dtype=float)
    error = relative_error(got, numeric)
    if error <= tolerance:
        return
    for candidate, message in mistakes:
        candidate = np.asarray(candidate, dtype=float)
        if candidate.shape == got.shape and relative_error(got, candidate) <= tolerance:
            fail(
                f"{what} fails the numerical gradient check (relative error {error:.2g}): "
                f"{message}",
                expected=numeric,
                got=got,
            )
    fail(
        f"{what} fails the numerical gradient check: relative error {error:.2g} against "
        f"central differences (should be below {tolerance:g})",
        expected=numeric,
        got=got,
    )


def numerical_jacobian(func: Callable[[np.ndarray], np.ndarray], at: np.ndarray, eps=1e-6):
    """∂func(at)/∂at by central differences, as a (func size, at size) matrix."""
    at = np.array(at, dtype=float)
    columns = []
    for index in np.ndindex(at.shape):
        up, down = at.copy(), at.copy()
        up[index] += eps
        down[index] -= eps
        columns.append((np.ravel(func(up)) - np.ravel(func(down))) / (2 * eps))
    return np.stack(columns, axis=1)


def lstm_step_backward(
    dh: np.ndarray,
    dC: np.ndarray,
    x: np.ndarray,
    h: np.ndarray,
    C: np.ndarray,
    p: dict[str, np.ndarray],
    *,
    h_to_C: bool = True,
    cell_tanh_prime: str = "tanh",
    gate_sigmoid_prime: bool = True,
    candidate_tanh_prime: bool = True,
    forget_on_C: bool = True,
) -> dict[str, np.ndarray]:
    """Gradients of one LSTM step (inputs x, h, C) given ∂L/∂h_t and ∂L/∂C_t.

    The keyword switches reproduce typical wrong answers, so that a check can recognise
    one and name it: `h_to_C=False` drops the path from h_t into C_t, `cell_tanh_prime`
    "none" or "C" (1 − C_t² instead of 1 − tanh²(C_t)) breaks that path's derivative,
    and the others drop σ', the candidate's tanh' or the factor f_t on dC_prev.
    """
    _, C_new, g = lstm_step(x, h, C, p)
    tanh_C = np.tanh(C_new)
    prime = {"tanh": 1 - tanh_C**2, "none": 1.0, "C": 1 - C_new**2}[cell_tanh_prime]
    dC_total = dC + (dh * g["o"] * prime if h_to_C else 0.0)
    d_gate = {"o": dh * tanh_C, "f": dC_total * C, "i": dC_total * g["c"], "c": dC_total * g["i"]}
    d_pre = {
        k: d_gate[k] * (g[k] * (1 - g[k]) if gate_sigmoid_prime else 1.0) for k in ("f", "i", "o")
    }
    d_pre["c"] = d_gate["c"] * ((1 - g["c"] ** 2) if candidate_tanh_prime else 1.0)
    grads = {"dC_prev": dC_total * g["f"] if forget_on_C else dC_total}
    d_z = np.zeros_like(g["z"])
    for k in LSTM_GATES:
        grads[f"dW_{k}"] = d_pre[k] @ g["z"].T
        grads[f"db_{k}"] = d_pre[k].sum(axis=1, keepdims=True)
        d_z += p[f"W_{k}"].T @ d_pre[k]
    hidden = h.shape[0]
    grads["dh_prev"], grads["dx"] = d_z[:hidden], d_z[hidden:]
    return grads
