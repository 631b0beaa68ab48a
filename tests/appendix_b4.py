"""The discrete example of appendix B.4 (Prop B.4), a yardstick for the theory module's bounds."""
from __future__ import annotations

import numpy as np

from collective_action.evaluation.theory import theorem1_bound, theorem2_bound


def _codomain_stats(joint: np.ndarray, codomain: np.ndarray, target: int) -> tuple[float, float]:
    """(mass, gap) of a codomain under a discrete joint P(x1, x2, y): P(X*) and
    max over x in X* with P(x) > 0 of max_y P(y|x) - P(y*|x)."""
    px = joint.sum(axis=-1)
    mass = float(px[codomain].sum())
    inside = codomain & (px > 0)
    cond = joint[inside] / px[inside][:, None]
    return mass, float((cond.max(axis=1) - cond[:, target]).max())


class TheoremTwoExample:
    """The discrete example of appendix B.4 (Prop B.4).

    x1 and x2 take 10 values each, 5 per label, both perfectly correlated with y;
    P0(y) = 1/2. The collective (alpha = 0.1) maps (x1, x2) to (x1, C) with C a
    y+ value of x2, and wants y* = y-. The algorithm first learns the Bayes classifier
    on x1 alone, then memorises its mistakes: h(x1, x2) = y* if x2 = C, else by x1.
    Theorem 1 guarantees 1 - 9/10 = 0.1; with the surrogate Q0 that keeps P0(y | x1)
    but spreads x2 uniformly and independently over N values, Theorem 2 guarantees
    1 - 9/N (for N >= 10, where the Bayes classifier on Q_alpha equals h, so omega = 0).
    """

    Y_PLUS, Y_MINUS = 0, 1

    def __init__(self, alpha: float = 0.1, values: int = 10, constant: int = 0):
        self.alpha, self.values, self.constant = alpha, values, constant
        self.target = self.Y_MINUS
        half = values // 2
        self.x_label = np.where(np.arange(values) < half, self.Y_PLUS, self.Y_MINUS)  # X_i+ then X_i-
        # P0(x1, x2, y) = 1/2 P_1y(x1) P_2y(x2), each P_iy uniform over the values of label y
        p = np.zeros((values, values, 2))
        for y in (self.Y_PLUS, self.Y_MINUS):
            p1 = (self.x_label == y) / half
            p[:, :, y] = 0.5 * np.outer(p1, p1)
        self.p0 = p

    def codomain(self, n_x2: int) -> np.ndarray:
        mask = np.zeros((self.values, n_x2), dtype=bool)
        mask[:, self.constant] = True
        return mask

    def theorem1(self) -> float:
        xi, delta = _codomain_stats(self.p0, self.codomain(self.values), self.target)
        return float(theorem1_bound(self.alpha, delta, xi))

    def surrogate(self, n_x2: int) -> np.ndarray:
        """Q0(x1, x2, y) = P0(x1, y) / N: x2 uniform over N values, independent of y."""
        return np.repeat(self.p0.sum(axis=1, keepdims=True), n_x2, axis=1) / n_x2

    def algorithm_output(self, n_x2: int) -> np.ndarray:
        """h(x1, x2) of the two-stage algorithm, on the (x1, x2) grid."""
        by_x1 = np.argmax(self.p0.sum(axis=1), axis=-1)
        h = np.repeat(by_x1[:, None], n_x2, axis=1)
        h[:, self.constant] = self.target
        return h

    def omega(self, n_x2: int) -> float:
        """TV(P*(X) x h, P*(X) x f_Q_alpha): the P*-mass where h and the Bayes classifier on Q_alpha differ."""
        q0 = self.surrogate(n_x2)
        p_star = np.zeros_like(q0)
        p_star[:, self.constant, self.target] = self.p0.sum(axis=(1, 2))  # x1 ~ P0, x2 = C, y = y*
        q_alpha = self.alpha * p_star + (1 - self.alpha) * q0
        f_q = np.argmax(q_alpha, axis=-1)
        p_star_x = p_star.sum(axis=-1)
        return float(p_star_x[f_q != self.algorithm_output(n_x2)].sum())

    def theorem2(self, n_x2: int) -> float:
        mass, gap = _codomain_stats(self.surrogate(n_x2), self.codomain(n_x2), self.target)
        return theorem2_bound(self.alpha, self.omega(n_x2), mass, gap)
