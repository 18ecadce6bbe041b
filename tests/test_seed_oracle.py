"""The seed's own lstm_step is the oracle of lesson 8: re-run it and check what it prints.

The seed notebook's code is transcribed below as it stands, global variables and all;
only the PDF-extraction typos are repaired (`siamoid`, `input dim`, `h prev`, `h t`).
If these tests pass, the hard-coded numbers in checks/08-lstm-step.py are the numbers
the seed really produces, and the check's private reference agrees with the seed.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

SEED_CODE = """
import numpy as np
def sigmoid(x):
 return 1/(1 + np.exp(-x))
def tanh(x):
 return np.tanh(x)
# Initialize random seed for reproducibility
np.random.seed(42)
# Let's define the input dimension (x_t) and hidden dimension (h_t)
input_dim = 3 # for example
hidden_dim = 2
# Initialize weight matrices for forget, input, candidate, output
W_f = np.random.randn(hidden_dim, hidden_dim + input_dim)
W_i = np.random.randn(hidden_dim, hidden_dim + input_dim)
W_c = np.random.randn(hidden_dim, hidden_dim + input_dim)
W_o = np.random.randn(hidden_dim, hidden_dim + input_dim)
# Initialize biases
b_f = np.random.randn(hidden_dim, 1)
b_i = np.random.randn(hidden_dim, 1)
b_c = np.random.randn(hidden_dim, 1)
b_o = np.random.randn(hidden_dim, 1)
# Initial hidden state h_{t-1} and cell state C_{t-1}
h_prev = np.zeros((hidden_dim, 1))
C_prev = np.zeros((hidden_dim, 1))
# Single time-step forward pass of LSTM
def lstm_step(x_t, h_prev, C_prev):
  # Combine h {t-1} and x t
  concat = np.vstack((h_prev, x_t)) # shape: (hidden_dim + input_dim, 1)
  # Forget gate
  f_t = sigmoid(np.dot(W_f, concat) + b_f) # shape: (hidden_dim, 1)
  # Input gate
  i_t = sigmoid(np.dot(W_i, concat) + b_i) # shape: (hidden_dim, 1)
  # Candidate cell state
  C_tilde = tanh(np.dot(W_c, concat) + b_c) # shape: (hidden_dim, 1)
  # New cell state
  C_t = f_t * C_prev + i_t * C_tilde
  o_t = sigmoid(np.dot(W_o, concat) + b_o) # shape: (hidden_dim, 1)
  # New hidden state
  h_t = o_t * tanh(C_t)
  return h_t, C_t
# Example input x_t of shape (input_dim, 1)
x_t = np.array([[0.5], [0.1], [0.9]])
h_next, C_next = lstm_step(x_t, h_prev, C_prev)
print('New hidden state (h_next):\\n', h_next)
print('\\nNew cell state (C_next):\\n', C_next)
"""

# What the seed notebook shows under that cell.
SEED_PRINTED_H = ["-0.07794162", "-0.06642324"]
SEED_PRINTED_C = ["-0.1448926", "-0.12589963"]


def _run_seed() -> dict:
    namespace: dict = {"__name__": "seed_notebook"}
    state = np.random.get_state()
    try:
        exec(compile(SEED_CODE, "<seed notebook>", "exec"), namespace)
    finally:
        np.random.set_state(state)  # the seed reseeds NumPy's global generator
    return namespace


def _printed_numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", text)


def test_seed_code_prints_the_seed_numbers(capsys):
    _run_seed()
    out = capsys.readouterr().out
    assert "New hidden state (h_next):" in out and "New cell state (C_next):" in out
    hidden, cell = out.split("New cell state")
    assert _printed_numbers(hidden) == SEED_PRINTED_H
    assert _printed_numbers(cell) == SEED_PRINTED_C


def test_lesson_8_check_uses_the_seed_numbers_and_agrees_with_the_seed():
    spec = importlib.util.spec_from_file_location("check_08", REPO / "checks" / "08-lstm-step.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    seed = _run_seed()
    # The check's hard-coded oracle is what the seed printed …
    np.testing.assert_array_equal(check.SEED_H.ravel(), [float(v) for v in SEED_PRINTED_H])
    np.testing.assert_array_equal(check.SEED_C.ravel(), [float(v) for v in SEED_PRINTED_C])
    np.testing.assert_allclose(check.SEED_H, seed["h_next"], rtol=0, atol=check.PRINTED)
    np.testing.assert_allclose(check.SEED_C, seed["C_next"], rtol=0, atol=check.PRINTED)
    # … its parameters are the seed's globals, and its private reference is the seed's step.
    params = check._seed_params()
    for name in ("W_f", "W_i", "W_c", "W_o", "b_f", "b_i", "b_c", "b_o"):
        np.testing.assert_array_equal(params[name], seed[name])
    zeros = np.zeros((2, 1))
    h, c = check._step(check.SEED_X, zeros, zeros, params)
    np.testing.assert_allclose(h, seed["h_next"], rtol=1e-12)
    np.testing.assert_allclose(c, seed["C_next"], rtol=1e-12)
    # With non-zero states too, the check's reference matches the seed's own lstm_step.
    rng = np.random.default_rng(3)
    h_prev, c_prev = rng.normal(size=(2, 1)), rng.normal(size=(2, 1))
    want_h, want_c = seed["lstm_step"](check.SEED_X, h_prev, c_prev)
    got_h, got_c = check._step(check.SEED_X, h_prev, c_prev, params)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-12)
    np.testing.assert_allclose(got_c, want_c, rtol=1e-12)
