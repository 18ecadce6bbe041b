"""Checks at two sizes, shared by the NumPy lessons from 12 on.

Every check of these lessons runs its case at two size combinations (input ≠ hidden,
a batch and a single column, two sequence lengths), so that a size written into the
code (`W[:, :3]`, `range(4)`) cannot pass. When learner code works at the first size
and raises at the second, the NumPy error says nothing about why; `at_size` says it.
"""

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from workbook.grading.judge.expect import call, fail, fail_on_matrix_product, fail_on_size_in_code


def copied(value: Any) -> Any:
    """A private copy of an argument (arrays, and dicts of them), so learner code that
    changes its arguments in place cannot change the check's own arrays."""
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    return value.copy() if isinstance(value, np.ndarray) else value


# A product written with `@` or np.dot whose factors are a parameter vector or a gate
# (p_f, z_t, r_t, f, i, o, C, …): where these lessons use ⊙, never a matrix product.
_ELEMENTWISE = re.compile(
    r"\b(?:p_[fio]|[zrfio]_t|[zrfio]|C_prev|C_t|C|h_prev|tanh_C)\b[\"']?\]?(?:\.T)?\s*@"
    r"|@\s*(?:p_[fio]|C_prev|C_t|h_prev)\b"
)


def code(exc: BaseException) -> str:
    """The line of learner code that raised `exc` ("" if unknown)."""
    return (getattr(exc, "trace", None) or {}).get("code") or ""


def label(what: str, **sizes: int) -> str:
    """`what` with its sizes, so a failure says at which size it happened:
    label("h_t", hidden=2, input=5) is "h_t (hidden 2, input 5)"."""
    return f"{what} ({', '.join(f'{name} {value}' for name, value in sizes.items())})"


def _unsendable(exc: BaseException) -> bool:
    """A result too large or too odd to send to the grader: its own message says so,
    and it says nothing about a size written into the code."""
    return getattr(exc, "type_name", None) in ("TooLarge", "WireError")


def at_size(func: Callable, args: tuple, first: bool, **sizes: int) -> Any:
    """`func(*args)` (learner code; arrays copied first) at one of a check's sizes.

    At the first size an exception is the learner's own, reported as usual. At a later
    size, code that got through the first one failed on the sizes alone: say so, with
    the error and the line it came from."""
    args = tuple(copied(a) for a in args)
    try:
        return call(func, *args)
    except (ValueError, IndexError, TypeError) as exc:
        if not isinstance(exc, TypeError):
            fail_on_size_in_code(exc, **sizes)
            name = getattr(func, "__name__", "your function")
            elementwise = bool(_ELEMENTWISE.search(code(exc)))
            fail_on_matrix_product(exc, name, refused=first and elementwise)
        if first or not hasattr(exc, "trace") or _unsendable(exc):
            raise
        trace = exc.trace or {}
        where = f" at line {trace['line']}: `{trace['code']}`" if trace.get("code") else ""
        kind = getattr(exc, "type_name", None) or type(exc).__name__
        shown = ", ".join(f"{name} {value}" for name, value in sizes.items())
        fail(
            f"your code works at the first size but raised {kind} with {shown}"
            f"{where} ({exc}): a size seems written into the code; take every size from "
            "the arrays you are given (e.g. `h_prev.shape[0]`, `X.shape[0]`)"
        )
