"""The mean-field module against values derived here, independently of its code."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize

from sweeper import theory


def _expect(f, q):
    """E[f(sqrt(q) z)], z ~ N(0, 1), by scipy's adaptive quadrature."""
    density = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    return integrate.quad(lambda z: f(math.sqrt(q) * z) * density(z), -12, 12)[0]


@pytest.mark.parametrize("sigma_w2", [1.0, 2.0, 3.0])
@pytest.mark.parametrize("q", [0.1, 1.0, 7.0])
def test_relu_chi_is_half_sigma_w2_at_every_q(sigma_w2, q):
    # phi'(x)^2 = 1 on half the line: E = 1/2 exactly
    assert theory.chi("relu", q, sigma_w2) == pytest.approx(sigma_w2 / 2, abs=1e-6)
    # E[relu(sqrt(q) z)^2] = q / 2
    got = theory.length_map("relu", q, sigma_w2, 0.1)
    assert got == pytest.approx(sigma_w2 * q / 2 + 0.1, rel=1e-6)


def test_linear_chi_is_sigma_w2():
    for sigma_w2 in (0.5, 1.0, 2.0):
        assert theory.chi("linear", 3.0, sigma_w2) == pytest.approx(sigma_w2, rel=1e-9)
        assert theory.predict("linear", [sigma_w2] * 4, [0.0] * 4, 1.0)[
            "chi_1"
        ] == pytest.approx(sigma_w2, rel=1e-9)


@pytest.mark.parametrize("sigma_w2", [0.5, 0.8])
def test_tanh_without_bias_orders_to_zero_with_chi_sigma_w2(sigma_w2):
    q_star = theory.fixed_point("tanh", sigma_w2, 0.0)
    assert q_star < 1e-9
    # at q = 0, tanh'(0)^2 = 1: chi = sigma_w2
    assert theory.chi("tanh", q_star, sigma_w2) == pytest.approx(sigma_w2, rel=1e-6)
    assert theory.predict("tanh", [sigma_w2] * 5, [0.0] * 5, 1.0)["phase"] == "ordered"


def test_tanh_order_to_chaos_line_matches_scipy():
    sigma_b2 = 0.05

    def q_star(w2):  # iterate the length map with scipy's quadrature
        q = 1.0
        for _ in range(300):
            q = w2 * _expect(lambda x: math.tanh(x) ** 2, q) + sigma_b2
        return q

    def excess(w2):
        q = q_star(w2)
        return w2 * _expect(lambda x: (1 - math.tanh(x) ** 2) ** 2, q) - 1

    want = optimize.brentq(excess, 1.0, 3.0, xtol=1e-6)
    got = theory.critical_sigma_w2("tanh", sigma_b2)
    assert got == pytest.approx(want, abs=1e-3)
    assert 1.0 < got < 3.0


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "elu", "selu", "gelu"])
def test_length_map_and_chi_match_scipy(name):
    f = {
        "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
        "sigmoid": (
            lambda x: 1 / (1 + math.exp(-x)),
            lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
        ),
        "elu": (
            lambda x: x if x > 0 else math.expm1(x),
            lambda x: 1.0 if x > 0 else math.exp(x),
        ),
        "selu": (
            lambda x: (
                1.0507009873554805
                * (x if x > 0 else 1.6732632423543772 * math.expm1(x))
            ),
            lambda x: (
                1.0507009873554805
                * (1.0 if x > 0 else 1.6732632423543772 * math.exp(x))
            ),
        ),
        "gelu": (
            lambda x: x * 0.5 * (1 + math.erf(x / math.sqrt(2))),
            lambda x: (
                0.5 * (1 + math.erf(x / math.sqrt(2)))
                + x * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
            ),
        ),
    }[name]
    for q in (0.3, 1.0, 4.0):
        want_q = 1.5 * _expect(lambda x: f[0](x) ** 2, q) + 0.1
        want_chi = 1.5 * _expect(lambda x: f[1](x) ** 2, q)
        assert theory.length_map(name, q, 1.5, 0.1) == pytest.approx(want_q, rel=1e-6)
        assert theory.chi(name, q, 1.5) == pytest.approx(want_chi, rel=1e-6)


def test_a_relu_net_predicts_half_log_sigma_over_two_per_layer():
    for sigma_w2 in (1.0, 2.0, 3.0):
        got = theory.predict("relu", [sigma_w2] * 21, [0.0] * 21, 1.0)
        assert np.allclose(got["slopes"], 0.5 * math.log10(sigma_w2 / 2), atol=1e-6)
        assert got["decades"] == pytest.approx(10 * math.log10(sigma_w2 / 2), abs=1e-5)
        assert (
            got["phase"] == {1.0: "ordered", 2.0: "critical", 3.0: "chaotic"}[sigma_w2]
        )


def test_no_theory_where_the_maps_are_unknown():
    assert theory.predict("swish", [2.0] * 3, [0.0] * 3, 1.0) is None
