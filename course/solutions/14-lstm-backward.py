"""Lesson 14: backpropagation through one LSTM step.

Run `workbook check 14` (or save this file while the workbook is open) to grade it.
`lstm_step_forward` is given: it is the seed's step, keeping what the backward pass needs.
"""

import numpy as np

GATES = ("f", "i", "c", "o")


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), written through tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_step_forward(x_t, h_prev, C_prev, params):
    """The seed's LSTM step (given). Returns (h_t, C_t, cache).

    The cache is a dict holding the step's inputs and every intermediate value:
    "x", "h_prev", "C_prev", "concat" ([h_{t-1}; x_t]), the gate values "f", "i", "o",
    the candidate "c_tilde", "C" (C_t), "tanh_C" (tanh(C_t)) and "params".
    """
    concat = np.vstack((h_prev, x_t))
    f_t = sigmoid(params["W_f"] @ concat + params["b_f"])
    i_t = sigmoid(params["W_i"] @ concat + params["b_i"])
    C_tilde = np.tanh(params["W_c"] @ concat + params["b_c"])
    o_t = sigmoid(params["W_o"] @ concat + params["b_o"])
    C_t = f_t * C_prev + i_t * C_tilde
    tanh_C = np.tanh(C_t)
    h_t = o_t * tanh_C
    cache = {
        "x": x_t, "h_prev": h_prev, "C_prev": C_prev, "concat": concat,
        "f": f_t, "i": i_t, "c_tilde": C_tilde, "o": o_t,
        "C": C_t, "tanh_C": tanh_C, "params": params,
    }  # fmt: skip
    return h_t, C_t, cache


def lstm_step_backward(dh, dC, cache):
    """Gradients of a loss L through one step, given dh = ∂L/∂h_t and dC = ∂L/∂C_t.

    dh and dC have shape (hidden, B). Returns a dict with "dx" (input, B), "dh_prev"
    and "dC_prev" (hidden, B), "dW_f" … "dW_o" (hidden, hidden + input) and
    "db_f" … "db_o" (hidden, 1), the bias gradients summed over the batch.
    """
    # BEGIN SOLUTION
    params, concat = cache["params"], cache["concat"]
    f, i, c_tilde, o = cache["f"], cache["i"], cache["c_tilde"], cache["o"]
    tanh_C = cache["tanh_C"]
    hidden = dh.shape[0]

    # h_t = o ⊙ tanh(C_t): C_t reaches the loss directly (dC) and through h_t.
    dC_total = dC + dh * o * (1.0 - tanh_C**2)
    d_gate = {
        "o": dh * tanh_C,  # ∂L/∂o_t
        "f": dC_total * cache["C_prev"],  # C_t = f ⊙ C_{t-1} + i ⊙ C̃
        "i": dC_total * c_tilde,
        "c": dC_total * i,
    }
    # Back through the activations to the pre-activations a = W · concat + b.
    values = {"f": f, "i": i, "o": o}
    d_pre = {g: d_gate[g] * values[g] * (1.0 - values[g]) for g in values}  # σ' = s(1 − s)
    d_pre["c"] = d_gate["c"] * (1.0 - c_tilde**2)  # tanh' = 1 − tanh²

    grads = {"dC_prev": dC_total * f}
    d_concat = np.zeros_like(concat)
    for g in GATES:
        grads[f"dW_{g}"] = d_pre[g] @ concat.T  # sums over the batch columns
        grads[f"db_{g}"] = d_pre[g].sum(axis=1, keepdims=True)
        d_concat += params[f"W_{g}"].T @ d_pre[g]
    grads["dh_prev"] = d_concat[:hidden]  # h was stacked first
    grads["dx"] = d_concat[hidden:]
    return grads
    # END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden, inputs = 2, 3
    params = {f"W_{g}": rng.standard_normal((hidden, hidden + inputs)) for g in GATES}
    params.update({f"b_{g}": rng.standard_normal((hidden, 1)) for g in GATES})
    x, h, C = rng.standard_normal((inputs, 1)), np.zeros((hidden, 1)), np.zeros((hidden, 1))
    h_t, C_t, cache = lstm_step_forward(x, h, C, params)
    grads = lstm_step_backward(np.ones_like(h_t), np.zeros_like(C_t), cache)
    for name, value in grads.items():
        print(name, value.ravel().round(4))
