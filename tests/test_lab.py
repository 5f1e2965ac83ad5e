"""The optimizer lab's engine and `playground paths`: hand-computed first steps, Rosenbrock, parser, divergence."""

import argparse
import json
import math

import numpy as np
import pytest

from playground.engine.errors import SpecError
from playground.engine.lab.paths import (DIVERGENCE_BOUND, LAB_OPTIMIZERS, PathLab, parse_lr_assignments, run_paths,
                                        start_problem)
from playground.engine.lab.functions import FUNCTIONS, get_function
from playground.engine.lab.expressions import ExpressionError, numeric_gradient, parse_expression
from playground.lab_cli import add_paths_arguments, run_paths_command

BOOK_RATES = {"sgd": 0.95, "momentum": 0.1, "adagrad": 1.5, "adam": 0.3}


def book_grad(x, y):
    """∇(x²/20 + y²), written out here rather than taken from the code under test."""
    return x / 10.0, 2.0 * y


def first_two(name):
    pts = run_paths(steps=2, optimizers=[name])["paths"][name]
    assert pts[0] == [-7.0, 2.0]
    return pts[1], pts[2]


# ------------------------------------------------------------------ first steps on the book's function

def test_sgd_first_steps():
    w1, w2 = first_two("sgd")
    # g0 = (−0.7, 4): w1 = (−7 + 0.95·0.7, 2 − 0.95·4)
    np.testing.assert_allclose(w1, [-6.335, -1.8], rtol=0, atol=1e-12)
    # g1 = (−0.6335, −3.6): w2 = (−6.335 + 0.601825, −1.8 + 3.42)
    np.testing.assert_allclose(w2, [-5.733175, 1.62], rtol=0, atol=1e-12)


def test_momentum_first_steps():
    w1, w2 = first_two("momentum")
    # v1 = −0.1·g0 = (0.07, −0.4); w1 = w0 + v1
    np.testing.assert_allclose(w1, [-6.93, 1.6], atol=1e-12)
    # g1 = (−0.693, 3.2); v2 = 0.9·v1 − 0.1·g1 = (0.1323, −0.68)
    np.testing.assert_allclose(w2, [-6.7977, 0.92], atol=1e-12)


def test_nesterov_first_steps():
    w1, w2 = first_two("nesterov")
    # v1 = (0.07, −0.4); w1 = w0 + 0.9·v1 − 0.1·g0 = (−7 + 0.063 + 0.07, 2 − 0.36 − 0.4)
    np.testing.assert_allclose(w1, [-6.867, 1.24], atol=1e-12)
    # g1 = (−0.6867, 2.48); v2 = (0.063 + 0.06867, −0.36 − 0.248) = (0.13167, −0.608)
    # w2 = w1 + 0.9·v2 − 0.1·g1 = (−6.867 + 0.118503 + 0.06867, 1.24 − 0.5472 − 0.248)
    np.testing.assert_allclose(w2, [-6.679827, 0.4448], atol=1e-12)


def test_adagrad_first_steps():
    w1, w2 = first_two("adagrad")
    # h1 = g0² = (0.49, 16): step = 1.5·g0/(√h1 + 1e-7), almost 1.5·sign(g0)
    np.testing.assert_allclose(w1, [-7 + 1.5 * 0.7 / (0.7 + 1e-7), 2 - 1.5 * 4 / (4 + 1e-7)], atol=1e-12)
    np.testing.assert_allclose(w1, [-5.5, 0.5], atol=1e-6)
    # g1 = (−0.55, 1); h2 = (0.7925, 17)
    x1, y1 = w1
    np.testing.assert_allclose(w2, [x1 + 1.5 * 0.55 / (math.sqrt(0.7925) + 1e-7),
                                    y1 - 1.5 * 1.0 / (math.sqrt(17.0) + 1e-7)], atol=1e-6)


def test_rmsprop_first_steps():
    res = run_paths(steps=2, optimizers=["rmsprop"])
    assert res["lr"] == {"rmsprop": 0.1}  # our rate for the book's function, reported in the JSON
    w1, w2 = res["paths"]["rmsprop"][1:]
    # h1 = 0.01·g0² → √h1 = (0.07, 0.4); step = 0.1·g0/√h1 = (0.1·(−0.7)/0.07, 0.1·4/0.4)
    np.testing.assert_allclose(w1, [-6.0, 1.0], atol=1e-5)
    # g1 = (−0.6, 2); h2 = 0.99·h1 + 0.01·g1² = (0.008451, 0.1984)
    np.testing.assert_allclose(w2, [-6.0 + 0.1 * 0.6 / math.sqrt(0.008451), 1.0 - 0.1 * 2 / math.sqrt(0.1984)],
                               atol=1e-5)


def test_adam_first_steps():
    w1, w2 = first_two("adam")
    # bias-corrected first step: lr·g/|g| = 0.3 in each coordinate, against the gradient
    np.testing.assert_allclose(w1, [-6.7, 1.7], atol=1e-8)
    # g1 = (−0.67, 3.4); m2 = 0.09·g0 + 0.1·g1 = (−0.13, 0.7);
    # v2 = 0.000999·g0² + 0.001·g1² = (0.00093841, 0.027544); m̂ = m2/0.19, v̂ = v2/0.001999
    m_hat = np.array([-0.13, 0.7]) / 0.19
    v_hat = np.array([0.00093841, 0.027544]) / (1 - 0.999 ** 2)
    np.testing.assert_allclose(w2, np.array([-6.7, 1.7]) - 0.3 * m_hat / (np.sqrt(v_hat) + 1e-8), atol=1e-8)


def test_defaults_are_the_books():
    res = run_paths()
    assert res["function"] == "book"
    assert res["start"] == [-7.0, 2.0]
    assert list(res["paths"]) == list(LAB_OPTIMIZERS)
    assert all(len(p) == 31 for p in res["paths"].values())
    assert all(p[0] == [-7.0, 2.0] for p in res["paths"].values())
    for name, lr in BOOK_RATES.items():
        assert res["lr"][name] == lr
    assert res["diverged"] == {}
    json.dumps(res, allow_nan=False)  # plain JSON, no NaN


def test_each_step_is_the_optimizers_own_rule():
    """Every point follows from the previous one by the update rule written in the test (SGD, 30 steps)."""
    pts = np.array(run_paths(optimizers="sgd")["paths"]["sgd"])
    for a, b in zip(pts[:-1], pts[1:]):
        gx, gy = book_grad(*a)
        np.testing.assert_allclose(b, [a[0] - 0.95 * gx, a[1] - 0.95 * gy], atol=1e-12)


# ------------------------------------------------------------------ Rosenbrock, gradients, divergence

def test_adam_reaches_rosenbrocks_minimum():
    res = run_paths("rosenbrock", steps=2500, optimizers=["adam"], tolerance=1e-3)
    assert res["minima"] == [[1.0, 1.0]]
    reached = res["reached"]["adam"]
    assert reached is not None and reached <= 2500, reached
    x, y = res["paths"]["adam"][-1]
    assert math.hypot(x - 1, y - 1) < 1e-3


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_analytic_gradients_match_central_differences(name):
    fn = FUNCTIONS[name]
    rng = np.random.default_rng(7)
    for x, y in zip(rng.uniform(*fn.x_range, 8), rng.uniform(*fn.y_range, 8)):
        analytic = fn.gradient(x, y)
        numeric = numeric_gradient(fn.expression, x, y)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-5 * (1 + np.abs(analytic).max()),
                                   err_msg=f"{name} at ({x:.3f}, {y:.3f})")


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if FUNCTIONS[n].minima])
def test_known_minima_are_minima(name):
    fn = FUNCTIONS[name]
    for m in fn.minima:
        assert fn.value(*m) == pytest.approx(fn.f_min, abs=1e-9)
        np.testing.assert_allclose(fn.gradient(*m), [0, 0], atol=1e-6)


def test_a_diverging_path_stops_and_the_others_go_on():
    # SGD with lr 1.1: y ← y − 2.2·y = −1.2·y, so |y| = 2·1.2ⁿ passes 1e6 first at n = 72
    res = run_paths(steps=200, optimizers="sgd,adam", lrs={"sgd": 1.1})
    assert res["diverged"] == {"sgd": 72}
    assert len(res["paths"]["sgd"]) == 72          # the start and steps 1..71; the escaping point is not kept
    assert abs(res["paths"]["sgd"][-1][1]) <= DIVERGENCE_BOUND
    assert len(res["paths"]["adam"]) == 201
    json.dumps(res, allow_nan=False)


def test_a_path_leaving_the_domain_stops():
    res = run_paths("log(x) + y**2", steps=5, start=(-1, 1), optimizers="sgd")
    assert res["diverged"] == {"sgd": 1}
    assert res["paths"]["sgd"] == [[-1.0, 1.0]]


def test_steps_to_tolerance():
    # SGD, lr 0.95: xₙ = −7·0.905ⁿ, yₙ = 2·(−0.9)ⁿ. xₙ² + yₙ² is 1.13e-4 at n = 65 and 9.64e-5 at n = 66.
    res = run_paths(steps=100, optimizers="sgd", tolerance=1e-2)
    assert res["reached"] == {"sgd": 66}
    lab = PathLab("book")
    lab.step(100)
    assert lab.paths["sgd"].reached_at(1e-2, first=40) == 66
    assert lab.paths["sgd"].reached_at(1e-2, first=80) == 80


def test_typed_function_uses_central_differences():
    res = run_paths("x**2 + 3*y**2", steps=1, start=(1, 1), optimizers="sgd", lrs={"sgd": 0.1})
    # ∇ = (2, 6): (1, 1) − 0.1·(2, 6)
    np.testing.assert_allclose(res["paths"]["sgd"][1], [0.8, 0.4], atol=1e-8)
    assert res["function"] == "x**2 + 3*y**2" and res["minima"] == [] and res["reached"]["sgd"] is None


# ------------------------------------------------------------------ the stepping object the GUI uses

def test_pathlab_preview_is_the_next_step():
    lab = PathLab("book")
    lab.step(3)
    previews = lab.preview()
    before = {n: lab.paths[n].position for n in LAB_OPTIMIZERS}
    results = lab.step(1)
    for name in LAB_OPTIMIZERS:
        g, delta = previews[name]
        (res,) = results[name]
        np.testing.assert_allclose(res.gradient, book_grad(*before[name]))
        np.testing.assert_allclose(res.delta, delta)
        np.testing.assert_allclose(lab.paths[name].position, before[name] + delta)
    assert lab.step_count == 4


def test_pathlab_live_settings_keep_state():
    lab = PathLab("book")
    lab.step(1)
    path = lab.paths["momentum"]
    v = path.optimizer.state["w"]["v"].copy()            # (0.07, −0.4)
    lab.set_setting("momentum", "lr", 0.2)
    w = path.position
    lab.step(1)
    gx, gy = book_grad(*w)
    np.testing.assert_allclose(path.position, w + 0.9 * v - 0.2 * np.array([gx, gy]))
    with pytest.raises(SpecError, match="lr"):
        lab.set_setting("momentum", "lr", -1)
    with pytest.raises(SpecError, match="momentum"):
        lab.set_setting("momentum", "momentum", 1.5)


def test_pathlab_toggle_replays_to_the_current_step():
    lab = PathLab("book")
    lab.set_enabled("adam", False)
    lab.step(5)
    assert lab.paths["adam"].steps == 0 and lab.paths["sgd"].steps == 5
    lab.set_enabled("adam", True)
    assert lab.paths["adam"].steps == 5
    np.testing.assert_allclose(lab.paths["adam"].points, run_paths(steps=5, optimizers="adam")["paths"]["adam"])


def test_pathlab_new_function_takes_its_rates_and_keeps_other_settings():
    lab = PathLab("book")
    lab.set_setting("momentum", "momentum", 0.5)
    lab.set_function("rosenbrock")
    assert lab.paths["sgd"].optimizer.lr == FUNCTIONS["rosenbrock"].lrs["sgd"]
    assert lab.paths["momentum"].optimizer.momentum == 0.5
    assert list(lab.start) == list(FUNCTIONS["rosenbrock"].start)


# ------------------------------------------------------------------ the expression parser

@pytest.mark.parametrize("text, x, y, expected", [
    ("x**2/20 + y**2", -7, 2, 6.45),
    ("-x**2", 3, 0, -9),                 # unary minus binds looser than **
    ("2**3**2", 0, 0, 512),              # ** is right-associative
    ("2**-1", 0, 0, 0.5),
    ("x^2 + 3*y^2", 2, 1, 7),            # ^ is a power, as on paper (not Python's exclusive or)
    ("-x^2", 3, 0, -9),
    ("2^3^2", 0, 0, 512),
    ("2**3^2", 0, 0, 512),
    ("x ^ -1", 4, 0, 0.25),
    ("x - y - 1", 5, 2, 2),              # left-associative
    ("8/2/2", 0, 0, 2),
    ("2*-x", 3, 0, -6),
    ("+x", 4, 0, 4),
    (".5e1 * 1.5E-1 + 1.", 0, 0, 1.75),
    ("sin(x)**2 + cos(x)**2", 1.3, 0, 1),
    ("exp(log(x)) + sqrt(abs(y)) + tanh(0)", 2, -9, 5),
    ("pi + e", 0, 0, math.pi + math.e),
    ("  x  *  (y + 1)  ", 2, 3, 8),
    ("3", 1, 1, 3),
])
def test_parser_accepts(text, x, y, expected):
    assert parse_expression(text)(x, y) == pytest.approx(expected)


@pytest.mark.parametrize("text, column, fragment", [
    ("x**2 + sin(y", 13, "expected ')' to close the '(' at column 11"),
    ("x^", 3, "expected a number, x, y, a function or '(' after '^'"),
    ("", 1, "empty"),
    ("2x", 2, "expected an operator between '2' and 'x'"),
    ("x y", 3, "write x*y"),
    ("x + ", 5, "after '+'"),
    ("(x))", 4, "no matching '('"),
    ("foo(x)", 1, "unknown name 'foo'"),
    ("Sin(x)", 1, "lower-case"),
    ("sin x", 5, "parentheses"),
    ("x(y)", 2, "x is not a function"),
    ("()", 2, "empty parentheses"),
    ("f = x", 3, "right-hand side"),
    ("__import__(x)", 1, "unknown name '__import__'"),
    ("open('f')", 6, "unexpected character"),
    ("x.real", 2, "unexpected character '.'"),
    ("(" * 100 + "x" + ")" * 100, 61, "nests deeper"),
])
def test_parser_rejects_with_the_column(text, column, fragment):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    err = info.value
    assert err.column == column, str(err)
    assert fragment in str(err)
    assert f"column {column}" in str(err) and "\n" not in str(err)
    problem, shown, caret = err.pointer().split("\n")
    assert shown == text and caret == " " * (column - 1) + "^"


def test_parser_is_not_eval():
    # A long sum nests nothing and evaluates without recursion.
    assert parse_expression("+".join(["1"] * 400))(0, 0) == 400
    # Overflow and domain errors give inf/NaN, not exceptions.
    assert parse_expression("9**9**9**9")(0, 0) == math.inf
    assert math.isnan(parse_expression("sqrt(x)")(-1, 0))
    grid = parse_expression("x + 2*y")(np.zeros((3, 4)), np.ones((3, 4)))
    assert grid.shape == (3, 4) and np.all(grid == 2)


def test_function_names_and_expressions():
    assert get_function("Rosenbrock") is FUNCTIONS["rosenbrock"]
    assert get_function("camel") is FUNCTIONS["six-hump-camel"]
    with pytest.raises(SpecError, match="unknown function 'rosenbrok'.*known: book, rosenbrock"):
        get_function("rosenbrok")
    with pytest.raises(ExpressionError):
        get_function("x**2 + sin(y")


# ------------------------------------------------------------------ the command

def parse(*argv):
    parser = argparse.ArgumentParser(prog="playground paths")
    add_paths_arguments(parser)
    return parser.parse_args(list(argv))


def run_cli(capsys, *argv):
    assert run_paths_command(parse(*argv)) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


def test_cli_defaults(capsys):
    res = run_cli(capsys)
    assert {"function", "start", "paths"} <= set(res)
    assert res["function"] == "book" and res["start"] == [-7.0, 2.0]
    assert set(res["paths"]) == set(LAB_OPTIMIZERS)
    assert all(len(p) == 31 for p in res["paths"].values())


def test_cli_options(capsys):
    res = run_cli(capsys, "--function", "himmelblau", "--steps", "4", "--start", "-1", "0.5",
                  "--optimizers", "sgd,adam", "--lr", "sgd=0.02", "--lr", "adam=0.2")
    assert res["function"] == "himmelblau" and res["start"] == [-1.0, 0.5]
    assert list(res["paths"]) == ["sgd", "adam"]
    assert res["lr"] == {"sgd": 0.02, "adam": 0.2}
    assert all(len(p) == 5 for p in res["paths"].values())


def test_cli_expression(capsys):
    res = run_cli(capsys, "--function", "x**2 + y**2", "--steps", "1", "--start", "1", "1", "--optimizers", "sgd",
                  "--lr", "sgd=0.25")
    np.testing.assert_allclose(res["paths"]["sgd"], [[1, 1], [0.5, 0.5]], atol=1e-8)


@pytest.mark.parametrize("argv, fragment", [
    (["--function", "rosenbrok"], "unknown function 'rosenbrok'"),
    (["--function", "x**2 + sin(y"], "column 13"),
    (["--optimizers", "sgd,lbfgs"], "unknown optimizer 'lbfgs'"),
    (["--optimizers", "sgd,sgd"], "twice"),
    (["--lr", "adam"], "NAME=VALUE"),
    (["--lr", "adam=fast"], "expected a number, got 'fast'"),
    (["--lr", "adam=0"], "> 0"),
    (["--lr", "lbfgs=0.1"], "unknown optimizer 'lbfgs'"),
    (["--optimizers", "sgd", "--lr", "adam=0.1"], "not among the optimizers"),
    (["--start", "nan", "1"], "finite"),
])
def test_cli_user_errors(argv, fragment):
    with pytest.raises(SpecError, match=None) as info:
        run_paths_command(parse(*argv))
    assert fragment in str(info.value)


def test_lr_assignments():
    assert parse_lr_assignments(["SGD=0.5", "adam=1e-3"]) == {"sgd": 0.5, "adam": 0.001}
    with pytest.raises(SpecError, match="twice"):
        parse_lr_assignments(["sgd=1", "sgd=2"])


def test_start_problem_says_when_no_step_can_leave_the_start():
    assert start_problem(get_function("log(x)"), (-3, 0)) == "f is not defined at the start (-3, 0)"
    # f is defined at x = 0 but sqrt's central difference reaches x < 0
    assert start_problem(get_function("sqrt(x) + y**2"), (0, 1)) == \
        "the gradient of f is not finite at the start (0, 1)"
    assert start_problem(FUNCTIONS["book"], (-7, 2)) is None
    assert start_problem(get_function("log(x)"), (3, 0)) is None
    lab = PathLab("log(x) + y**2", start=(-1, 1))
    assert lab.start_problem == "f is not defined at the start (-1, 1)"
    lab.reset((2, 1))
    assert lab.start_problem is None
