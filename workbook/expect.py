"""Helpers for hidden checks: layered comparisons that end in a learner-facing diagnosis.

A check fails by raising `CheckFailure` with a sentence written for the learner,
optionally with expected/got values; the grading plugin shows that sentence instead
of a traceback. Array checks go layer by layer (defined, ndarray, shape, finite,
close) and, when values differ, test known wrong answers first so the message can
name the mistake ("values match tanh where sigmoid belongs").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

import numpy as np

RTOL = 1e-5
ATOL = 1e-8

# The comparison runs on ufuncs bound once. Learner code never runs in the judge's
# process (it runs in the subject, see workbook/grading/subject.py), so nothing here
# can be patched by it; the judge only ever sees plain data.
_absolute, _subtract, _add, _multiply = np.absolute, np.subtract, np.add, np.multiply
_less_equal, _isfinite, _as_float = np.less_equal, np.isfinite, np.asarray


def _close(got: Any, expected: Any, rtol: float, atol: float) -> Any:
    """|got − expected| ≤ atol + rtol·|expected|, element-wise (numpy.isclose's rule)."""
    got, expected = _as_float(got, dtype=float), _as_float(expected, dtype=float)
    return _less_equal(
        _absolute(_subtract(got, expected)), _add(atol, _multiply(rtol, _absolute(expected)))
    )


def _all_close(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    return bool(_close(got, expected, rtol, atol).all())


# Where `plot` sends a figure: set by the grading plugin for the attempt's report.
plot_sink: Callable[[dict[str, Any]], None] | None = None


def _plain_floats(values: Any) -> list[float | None]:
    """JSON-ready numbers; NaN and infinities become None (a gap in the line)."""
    flat = np.asarray(values, dtype=float).reshape(-1)
    return [float(v) if _isfinite(v) else None for v in flat]


def plot(
    title: str,
    series: Iterable[tuple[str, Any, Any]],
    *,
    x_label: str = "",
    y_label: str = "",
    log_y: bool = False,
) -> None:
    """Show the learner a plot of their own numbers next to the verdict.

    `series` are (name, x, y). Checks compute them in the judge from plain data the
    learner's functions returned, so a plot never runs learner code. Where nothing
    draws plots (a plain `workbook check`), this costs a list conversion."""
    figure = {
        "title": title,
        "x_label": x_label,
        "y_label": y_label,
        "log_y": bool(log_y),
        "series": [
            {"name": name, "x": _plain_floats(x), "y": _plain_floats(y)} for name, x, y in series
        ],
    }
    if plot_sink is not None:
        plot_sink(figure)


class CheckFailure(AssertionError):
    def __init__(self, message: str, *, expected: Any = None, got: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.expected = None if expected is None else show(expected)
        self.got = None if got is None else show(got)


def fail(message: str, *, expected: Any = None, got: Any = None) -> NoReturn:
    raise CheckFailure(message, expected=expected, got=got)


def show(value: Any, limit: int = 6, start: int = 0) -> str:
    """Short, readable rendering: a few entries from flat position `start` (so that a
    difference deep inside an array is in view), enough digits to see it, the shape."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        flat = value.reshape(-1)
        start = max(0, min(start, flat.size - limit))
        body = np.array2string(
            flat[start : start + limit],
            precision=8,
            separator=", ",
            suppress_small=False,
            max_line_width=200,
        )
        if start > 0:
            body = f"[…, {body[1:]}"
        if flat.size > start + limit:
            body = body[:-1] + ", …]"
        where = f"entries {start}–{start + limit - 1} of " if start > 0 else ""
        return f"{body} ({where}shape {value.shape})"
    return repr(value)


def function(learner: Any, name: str) -> Callable:
    """The learner's function `name`, or a failure that says it is missing."""
    found = getattr(learner, name, None)
    if found is None:
        fail(f"define a function named `{name}` (it is missing from your file)")
    if not callable(found):
        kind = getattr(found, "type_name", None) or type(found).__name__
        fail(f"`{name}` should be a function, but it is a {kind}")
    return found


def call(func: Callable, *args: Any, forbid_warnings: bool = False, **kwargs: Any) -> Any:
    """Call learner code; optionally turn NumPy's runtime warnings into a failure.

    A learner function runs in the subject process, so the warnings are turned into
    errors there (`strict_float`); a plain Python callable gets the same treatment here."""
    if not forbid_warnings:
        return func(*args, **kwargs)
    invoke = getattr(func, "invoke", None)
    if invoke is not None:
        try:
            return invoke(args, kwargs, strict_float=True)
        except (RuntimeWarning, FloatingPointError) as exc:
            fail(
                f"`{func.__name__}` triggered a NumPy warning ({exc}); it must stay "
                "finite and warning-free"
            )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                return func(*args, **kwargs)
        except (RuntimeWarning, FloatingPointError) as exc:
            fail(
                f"`{func.__name__}` triggered a NumPy warning ({exc}); it must stay "
                "finite and warning-free"
            )


def _is_column_vs_flat(got: np.ndarray, expected: np.ndarray) -> bool:
    return expected.ndim == 2 and expected.shape[1] == 1 and got.shape == (expected.shape[0],)


def expect_array(
    got: Any,
    expected: Any,
    *,
    what: str,
    mistakes: Iterable[tuple[Any, str]] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
) -> np.ndarray:
    """Compare `got` with `expected`, failing with the most specific message we can give.

    `mistakes` are (value, message) pairs: the results of known wrong answers. When
    `got` matches one within tolerance, its message is the diagnosis.
    """
    expected = np.asarray(expected, dtype=float)
    if got is None:
        fail(f"{what} is None: did you forget a `return`?", expected=expected)
    if isinstance(got, tuple | list) and not isinstance(got, np.ndarray):
        fail(f"{what} should be a NumPy array, not a {type(got).__name__}", expected=expected)
    got = np.asarray(got)
    if not np.issubdtype(got.dtype, np.number) or np.issubdtype(got.dtype, np.complexfloating):
        fail(f"{what} should hold real numbers, but its dtype is {got.dtype}")
    if got.shape != expected.shape:
        if _is_column_vs_flat(got, expected):
            fail(
                f"{what} has shape {got.shape} but expected {expected.shape}: keep column "
                "vectors (n, 1) as in the seed; avoid flattening or 1-D arrays",
                expected=expected,
                got=got,
            )
        if got.shape == expected.shape[::-1]:
            fail(
                f"{what} has shape {got.shape} but expected {expected.shape}: it looks transposed",
                expected=expected,
                got=got,
            )
        fail(
            f"{what} has shape {got.shape} but expected {expected.shape}",
            expected=expected,
            got=got,
        )
    got = got.astype(float)
    if not _isfinite(got).all():
        fail(f"{what} contains NaN or infinity", expected=expected, got=got)
    if _all_close(got, expected, rtol, atol):
        return got
    for candidate, message in mistakes:
        candidate = np.asarray(candidate, dtype=float)
        if candidate.shape == got.shape and _all_close(got, candidate, rtol, atol):
            fail(f"{what}: {message}", expected=expected, got=got)
    diff = np.abs(got - expected)
    if got.ndim >= 2:
        _fail_on_grid(got, expected, diff, what, rtol, atol)
    worst = int(np.argmax(diff))
    where = np.unravel_index(worst, diff.shape)
    at = tuple(int(i) for i in where)
    first_off = int(np.argmax(~_close(got, expected, rtol, atol).reshape(-1)))
    fail(
        f"{what} differs from the expected values: the largest difference is "
        f"{diff[where]:.3g} at index {at} (expected {expected[where]:.8g}, got "
        f"{got[where]:.8g}; tolerance rtol={rtol:g}, atol={atol:g})",
        expected=show(expected, start=first_off - 1),
        got=show(got, start=first_off - 1),
    )


def _position(index: tuple[int, ...]) -> str:
    """(row, column) for a matrix; in a stack of matrices, which one and where in it."""
    if len(index) == 2:
        return f"(row {index[0]}, column {index[1]})"
    return f"(row {index[-2]}, column {index[-1]}) of matrix {list(index[:-2])}"


def _window(value: np.ndarray, row: int, col: int, rows: int = 4, cols: int = 6) -> str:
    """The rows and columns around (row, col) of a matrix, as a matrix, with its shape,
    so that a batch reads one sample per column instead of as a flattened list."""
    top = max(0, min(row - 1, value.shape[0] - rows))
    left = max(0, min(col - 2, value.shape[1] - cols))
    part = value[top : top + rows, left : left + cols]
    body = np.array2string(part, precision=8, separator=", ", max_line_width=200)
    cut = top > 0 or left > 0 or part.shape != value.shape
    last_row, last_col = top + part.shape[0] - 1, left + part.shape[1] - 1
    where = f"rows {top}–{last_row}, columns {left}–{last_col} of " if cut else ""
    return f"{body} ({where}shape {value.shape})"


def _fail_on_grid(
    got: np.ndarray, expected: np.ndarray, diff: np.ndarray, what: str, rtol: float, atol: float
) -> NoReturn:
    """The differences of a matrix (or a stack of them) by position, largest first."""
    off = ~_close(got, expected, rtol, atol)
    order = np.argsort(-diff, axis=None, kind="stable")[: min(3, int(off.sum()))]
    spots = [tuple(int(i) for i in np.unravel_index(k, diff.shape)) for k in order]
    listed = "; ".join(
        f"{_position(s)}: expected {expected[s]:.8g}, got {got[s]:.8g}" for s in spots
    )
    count = f"{int(off.sum())} of {off.size} entries differ"
    largest = "the largest differences are at" if len(spots) > 1 else "the difference is at"
    worst = spots[0]
    shown_expected, shown_got = (_window(v[worst[:-2]], *worst[-2:]) for v in (expected, got))
    if got.ndim > 2:  # the matrix that holds the largest difference
        matrix = list(worst[:-2])
        shown_expected, shown_got = f"{matrix}: {shown_expected}", f"{matrix}: {shown_got}"
    fail(
        f"{what} differs from the expected values ({count}; tolerance rtol={rtol:g}, "
        f"atol={atol:g}); {largest} {listed}",
        expected=shown_expected,
        got=shown_got,
    )


def expect_pair(result: Any, what: str, names: Sequence[str]) -> tuple:
    """`result` must be a tuple of len(names), e.g. `(h_t, C_t)`."""
    if not isinstance(result, tuple | list) or len(result) != len(names):
        fail(
            f"{what} should return {len(names)} values ({', '.join(names)}), "
            f"got {show(result)[:80]}"
        )
    return tuple(result)


def _shape(numpy_text: str) -> str:
    """NumPy's "(3,1)" as the checks write shapes elsewhere: "(3, 1)"."""
    return str(tuple(int(n) for n in re.findall(r"\d+", numpy_text)))


def call_in_place(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call learner code so that arrays it changes in place change in `args` too, as
    in one process. Only for checks that pass fresh copies and then ask whether the
    learner left them alone: elsewhere learner code must not touch the judge's arrays."""
    invoke = getattr(func, "invoke", None)
    if invoke is None:
        return func(*args, **kwargs)
    return invoke(args, kwargs, write_back=True)


def call_elementwise(
    func: Callable, *args: Any, what: str, in_place: bool = False, **kwargs: Any
) -> Any:
    """Call learner code that should use ⊙ (NumPy's `*`) and name a matrix product.

    `np.dot` / `@` on two same-shaped arrays (columns, or a batch of them) raises a
    shape error deep inside NumPy; the learner needs to hear that ⊙ is element-wise,
    not the error text. `in_place`: see `call_in_place`.
    """
    try:
        return call_in_place(func, *args, **kwargs) if in_place else func(*args, **kwargs)
    except ValueError as exc:
        text = str(exc)
        if "matmul" in text or "not aligned" in text:
            shapes = re.search(r"shapes (\([\d, ]*\)) and (\([\d, ]*\)) not aligned", text)
            of = f" of shapes {_shape(shapes[1])} and {_shape(shapes[2])}" if shapes else ""
            fail(
                f"{what}: NumPy refused a matrix product{of}. ⊙ is the element-wise "
                "product, `*` in NumPy; `@` and `np.dot` are matrix products"
            )
        raise


def expect_choice(answer: Any, name: str, correct: str, wrong: dict[str, str]) -> None:
    """A multiple-choice answer: a letter; each wrong letter has its own explanation.

    `wrong` maps every other option letter to why that option is wrong (never which
    one is right), so a failed attempt still teaches something.
    """
    letters = sorted({correct, *wrong})
    listed = ", ".join(f'"{letter}"' for letter in letters)
    if answer is None:
        fail(f"`{name}` is still a TODO: set it to one of the letters {listed}")
    if not isinstance(answer, str) or answer.strip().upper() not in letters:
        fail(f"`{name}` should be one of the letters {listed} (a string), not {answer!r}")
    picked = answer.strip().upper()
    if picked != correct:
        fail(f"{name} = {picked!r} is not right: {wrong[picked]}")


def expect_number(
    answer: Any,
    name: str,
    expected: float,
    *,
    mistakes: Iterable[tuple[float, str]] = (),
    rtol: float = 1e-6,
    atol: float = 0.0,
) -> None:
    """A numeric answer computed in the learner's file, with known wrong results named."""
    if answer is None:
        fail(f"`{name}` is still a TODO: compute it in your file and assign the number")
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.number):
        if isinstance(answer, np.ndarray) and answer.size == 1:
            answer = answer.item()
        else:
            fail(f"`{name}` should be a single number, not {show(answer)[:60]}")
    value = float(answer)
    if not _isfinite(value):
        fail(f"`{name}` is {value}: it should be a finite number")
    if _all_close(value, expected, rtol, atol):
        return
    for candidate, message in mistakes:
        if _all_close(value, candidate, rtol, atol):
            fail(f"{name} = {value:.6g}: {message}")
    if _all_close(value, expected, 1e-2, atol):
        fail(
            f"{name} = {value:.6g} is close but not exact: compute it in your file rather "
            "than typing in a rounded number"
        )
    fail(f"{name} = {value:.6g} is not right; recompute it step by step in your file")
