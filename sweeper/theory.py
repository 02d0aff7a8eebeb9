"""Mean-field signal propagation for deep MLPs at initialization; numpy only.

For a Dense net whose kernels are iid N(0, sigma_w2 / fan_in) and biases iid
N(0, sigma_b2), wide layers make each pre-activation Gaussian with a variance q that
follows the length map (Poole et al. 2016, eq. 3)

    q_l = sigma_w2 * E[phi(sqrt(q_{l-1}) z)^2] + sigma_b2,   z ~ N(0, 1),

and the mean squared back-propagated signal is multiplied, going back through layer
l, by chi_l = sigma_w2 * E[phi'(sqrt(q_l) z)^2] (Schoenholz et al. 2017, eq. 5): per
layer its norm changes by 0.5 * log10(chi_l) decades. At the fixed point q* of the
map, chi_1 = chi(q*) sets the phase: ordered (< 1, signals vanish), critical (= 1),
chaotic (> 1, they explode), and the depth scale of correlations xi_c = -1 / ln(chi_c)
bounds the trainable depth (~6 xi_c, Schoenholz et al. 2017, sec. 5).

Expectations are integrals against the standard normal density by Gauss-Legendre
quadrature on each side of 0, which stays accurate for activations with a kink at 0
(ReLU), where Gauss-Hermite quadrature converges slowly.

Assumptions (the report states them): infinite width, independent weights, no
residual connections and no normalization, at initialization only; per-example
quantities (the batch gradient also carries correlations between examples).
"""

import math

import numpy as np

LEAKY_ALPHA = 0.2  # as sweeper's leaky_relu
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
CRITICAL_TOL = 0.02  # |chi_1 - 1| below this reads as critical
# Gauss-Legendre nodes on [-12, 0] and [0, 12] separately: every activation here is
# smooth on each side of 0, so a kink or a jump of phi' at 0 costs no accuracy.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(160)
_Z = np.concatenate([6.0 * (_NODES - 1.0), 6.0 * (_NODES + 1.0)])
_DZ = np.concatenate([6.0 * _WEIGHTS, 6.0 * _WEIGHTS])
_W = _DZ * np.exp(-0.5 * _Z**2) / math.sqrt(2 * math.pi)


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


def _phi(name: str, x):
    """The activation and its derivative, as sweeper's TensorFlow ops define them."""
    if name == "relu":
        return np.maximum(x, 0.0), (x > 0).astype(float)
    if name == "linear":
        return x, np.ones_like(x)
    if name == "tanh":
        t = np.tanh(x)
        return t, 1.0 - t**2
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-x))
        return s, s * (1.0 - s)
    if name == "leaky_relu":
        return np.where(x > 0, x, LEAKY_ALPHA * x), np.where(x > 0, 1.0, LEAKY_ALPHA)
    if name == "elu":
        e = np.expm1(np.minimum(x, 0.0))
        return np.where(x > 0, x, e), np.where(x > 0, 1.0, e + 1.0)
    if name == "selu":
        e = np.expm1(np.minimum(x, 0.0))
        value = SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * e)
        return value, SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * (e + 1.0))
    if name == "gelu":  # exact: x * Phi(x)
        cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
        return x * cdf, cdf + x * pdf
    raise ValueError(f"no mean-field maps for activation {name!r}")


ACTIVATIONS = ("relu", "linear", "tanh", "sigmoid", "leaky_relu", "elu", "selu", "gelu")
HOMOGENEOUS = ("relu", "linear", "leaky_relu")  # phi(a x) = a phi(x) for a > 0


def gaussian_mean(f, q: float) -> float:
    """E[f(sqrt(q) z)] for z ~ N(0, 1)."""
    return float(np.sum(_W * f(math.sqrt(max(q, 0.0)) * _Z)))


def length_map(name: str, q: float, sigma_w2: float, sigma_b2: float) -> float:
    """The next layer's pre-activation variance from this layer's, q."""
    return sigma_w2 * gaussian_mean(lambda x: _phi(name, x)[0] ** 2, q) + sigma_b2


def chi(name: str, q: float, sigma_w2: float) -> float:
    """sigma_w2 * E[phi'(sqrt(q) z)^2]: the factor on the mean squared signal."""
    return sigma_w2 * gaussian_mean(lambda x: _phi(name, x)[1] ** 2, q)


def fixed_point(
    name: str, sigma_w2: float, sigma_b2: float, q0: float = 1.0, steps: int = 2000
) -> float:
    """q* of the length map, iterated from q0; inf where q grows without bound."""
    q = q0
    for _ in range(steps):
        nxt = length_map(name, q, sigma_w2, sigma_b2)
        if not math.isfinite(nxt) or nxt > 1e12:
            return math.inf
        if abs(nxt - q) <= 1e-12 * max(1.0, q):
            return nxt
        q = nxt
    return q


def phase(chi_1: float) -> str:
    if abs(chi_1 - 1.0) < CRITICAL_TOL:
        return "critical"
    return "ordered" if chi_1 < 1.0 else "chaotic"


def layer_chis(
    name: str, sigma_w2: list[float], sigma_b2: list[float], q_input: float
) -> list[float]:
    """chi of each hidden layer, layer by layer from the first layer's input.

    `sigma_w2`, `sigma_b2` are per Dense layer (readout last); `q_input` is the mean
    squared input entry, |x|^2 / fan_in. Back through hidden layer l (l = 0 .. L-2) the
    mean squared signal is multiplied by sigma_w2[l + 1] * E[phi'(z_l)^2].
    """
    q = sigma_w2[0] * q_input + sigma_b2[0]
    chis = []
    for layer in range(len(sigma_w2) - 1):
        chis.append(chi(name, q, sigma_w2[layer + 1]))
        q = length_map(name, q, sigma_w2[layer + 1], sigma_b2[layer + 1])
    return chis


def predict(
    name: str, sigma_w2: list[float], sigma_b2: list[float], q_input: float
) -> dict | None:
    """The theory's figures for one net, or None where its maps are not known.

    Returns q_star, chi_1 and phase at the fixed point of the hidden layers' (first
    hidden layer's) sigmas; `slopes`, the predicted change of the signal's norm in
    decades back through each hidden layer, from the input's q; `slope`, their mean;
    `decades`, their sum; xi_c (inf when critical) and `trainable_depth` ~ 6 xi_c.
    """
    if name not in ACTIVATIONS or len(sigma_w2) < 2:
        return None
    w2, b2 = sigma_w2[1], sigma_b2[1]  # a hidden layer's; the first reads the input
    q_star = fixed_point(name, w2, b2)
    chi_1 = chi_at_fixed_point(name, w2, b2, q_star)
    chis = layer_chis(name, sigma_w2, sigma_b2, q_input)
    slopes = [0.5 * math.log10(c) if c > 0 else -math.inf for c in chis]
    xi_c = -1.0 / math.log(chi_1) if 0 < chi_1 < 1 else math.inf
    return {
        "q_star": q_star,
        "chi_1": chi_1,
        "phase": phase(chi_1),
        "slopes": slopes,
        "slope": float(np.mean(slopes)),
        "decades": float(np.sum(slopes)),
        "xi_c": xi_c,
        "trainable_depth": 6 * xi_c,
    }


def chi_at_fixed_point(
    name: str, sigma_w2: float, sigma_b2: float, q_star: float | None = None
) -> float:
    """chi_1 = chi at q* (`q_star` if already known); inf where q* is."""
    if name in HOMOGENEOUS:  # phi' takes the same values at every scale: chi(q) fixed
        return chi(name, 1.0, sigma_w2)
    if q_star is None:
        q_star = fixed_point(name, sigma_w2, sigma_b2)
    return chi(name, q_star, sigma_w2) if math.isfinite(q_star) else math.inf


def critical_line(name: str, q_stars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order-to-chaos line (chi_1 = 1) as (sigma_w2, sigma_b2) pairs, one per q*.

    Parametrized by the fixed point, as Poole et al. (2016) draw it: at q* the line
    has sigma_w2 = 1 / E[phi'(sqrt(q*) z)^2] and sigma_b2 = q* - sigma_w2 E[phi(sqrt(q*)
    z)^2], with no fixed-point iteration. For a homogeneous activation chi does not
    depend on q, and the line is sigma_w2 = that constant at every sigma_b2 (returned
    here with sigma_b2 = q_stars).
    """
    q_stars = np.asarray(q_stars, float)
    if name in HOMOGENEOUS:
        critical = 1.0 / gaussian_mean(lambda x: _phi(name, x)[1] ** 2, 1.0)
        return np.full(q_stars.shape, critical), q_stars
    slope2, value2 = (
        np.array([gaussian_mean(lambda x: _phi(name, x)[i] ** 2, q) for q in q_stars])
        for i in (1, 0)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_w2 = 1.0 / slope2
    return sigma_w2, q_stars - sigma_w2 * value2


def critical_sigma_w2(name: str, sigma_b2: float, low=0.5, high=4.0) -> float:
    """The sigma_w2 where chi_1 = 1 at sigma_b2 (the order-to-chaos line), by
    bisection on chi_1(q*(sigma_w2)) - 1."""

    def excess(w2):
        return chi_at_fixed_point(name, w2, sigma_b2) - 1.0

    for _ in range(60):
        mid = 0.5 * (low + high)
        if excess(mid) > 0:
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)
