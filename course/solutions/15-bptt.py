"""Lesson 15: backpropagation through time (BPTT) over a short sequence.

Run `workbook check 15` (or save this file while the workbook is open) to grade it.
The forward pass over the sequence and the one-step backward pass are given.
"""

import numpy as np

GATES = ("f", "i", "c", "o")


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), written through tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_step_forward(x_t, h_prev, C_prev, params):
    """The seed's LSTM step (given), returning (h_t, C_t, cache) as in lesson 14."""
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
    """Gradients of one step given ∂L/∂h_t and ∂L/∂C_t (given: lesson 14's answer)."""
    params, concat = cache["params"], cache["concat"]
    f, i, c_tilde, o, tanh_C = (cache[k] for k in ("f", "i", "c_tilde", "o", "tanh_C"))
    dC_total = dC + dh * o * (1.0 - tanh_C**2)
    d_pre = {
        "f": dC_total * cache["C_prev"] * f * (1.0 - f),
        "i": dC_total * c_tilde * i * (1.0 - i),
        "c": dC_total * i * (1.0 - c_tilde**2),
        "o": dh * tanh_C * o * (1.0 - o),
    }
    grads = {"dC_prev": dC_total * f}
    d_concat = sum(params[f"W_{g}"].T @ d_pre[g] for g in GATES)
    for g in GATES:
        grads[f"dW_{g}"] = d_pre[g] @ concat.T
        grads[f"db_{g}"] = d_pre[g].sum(axis=1, keepdims=True)
    hidden = dh.shape[0]
    grads["dh_prev"], grads["dx"] = d_concat[:hidden], d_concat[hidden:]
    return grads


def lstm_forward(X, h0, C0, params):
    """Unrolled forward pass (given): (H, C_T, caches), one cache per step."""
    H = np.zeros((X.shape[0], h0.shape[0], X.shape[2]))
    h, C, caches = h0, C0, []
    for t in range(X.shape[0]):
        h, C, cache = lstm_step_forward(X[t], h, C, params)
        H[t] = h
        caches.append(cache)
    return H, C, caches


def bptt(X, h0, C0, params, Y):
    """Loss L = ½ Σ_t ‖h_t − y_t‖² over the whole sequence, and its gradients.

    X (T, input, B), Y (T, hidden, B) targets, h0 and C0 (hidden, B).
    Returns (loss, grads): loss a single number (a float; a NumPy scalar such as the
    np.float64 that np.sum returns, or a 0-d array, also does); grads a dict with
    "dW_f" … "dW_o", "db_f" … "db_o" (summed over all steps), "dX" (T, input, B),
    "dh0" and "dC0" (hidden, B).
    """
    # BEGIN SOLUTION
    H, _, caches = lstm_forward(X, h0, C0, params)
    diff = H - Y  # ∂L/∂h_t from the loss at step t itself
    loss = 0.5 * float(np.sum(diff**2))

    grads = {f"d{name}": np.zeros_like(value) for name, value in params.items()}
    dX = np.zeros_like(X)
    dh_next = np.zeros_like(h0)  # gradient reaching h_t from step t + 1 (none after T)
    dC_next = np.zeros_like(C0)
    for t in reversed(range(X.shape[0])):  # backwards in time
        # h_t feeds both the loss at t and step t + 1: add the two gradients.
        step = lstm_step_backward(diff[t] + dh_next, dC_next, caches[t])
        for name in params:
            grads[f"d{name}"] += step[f"d{name}"]  # the same weights at every step
        dX[t] = step["dx"]
        dh_next, dC_next = step["dh_prev"], step["dC_prev"]
    grads["dX"] = dX
    grads["dh0"] = dh_next
    grads["dC0"] = dC_next
    return loss, grads
    # END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden, inputs, T = 2, 3, 4
    params = {f"W_{g}": rng.standard_normal((hidden, hidden + inputs)) for g in GATES}
    params.update({f"b_{g}": rng.standard_normal((hidden, 1)) for g in GATES})
    X = rng.standard_normal((T, inputs, 1))
    Y = rng.uniform(-0.5, 0.5, (T, hidden, 1))
    zeros = np.zeros((hidden, 1))
    for epoch in range(201):  # plain gradient descent: the loss should go down
        loss, grads = bptt(X, zeros, zeros, params, Y)
        if epoch % 50 == 0:
            print(f"epoch {epoch:3d}  loss {loss:.5f}")
        for name in params:
            params[name] -= 0.5 * grads[f"d{name}"]
