"""Gauthier, Bach and Jordan's synthetic car evaluations (ICML 2025, arXiv 2502.04879; their notebook
``notebooks/dataset/create_synthetic_dataset.ipynb``): 18 categorical features and a 4-way label.

Rules, as their notebook draws them (their feature names, snake-cased; the values and their order are theirs):

- Model type with probabilities (0.22, 0.45, 0.23, 0.02, 0.01, 0.01, 0.01, 0.05) for (Sedan, SUV, Coupe, Hatchback,
  Convertible, Wagon, Minivan, Truck).
- Every other feature but the sunroof: uniform over its values for a car that is not an SUV; for an SUV, its
  "high" value with probability p_h (``HIGH``), else uniform over all its values, the high one included.
- Sunroof: uniform for every car.
- Label (``score_based_evaluation``): for a car that is not a C2 SUV, with probability 0.95 the score is
  safety stars + fuel points (Electric 4, Hybrid 3, Gasoline 1, Diesel 1) + warranty points (10 years 5, 7 years
  4, 5 years 3, 3 years 2) + one of (1, 3, 4) uniformly, else 0; for a C2 SUV the score is 13, 0 or 2 with
  probabilities 0.6, 0.3, 0.1. Excellent from 13, Good from 8, Average from 2, else Poor.

Ours draws each feature from the run's own random stream (their notebook sets no seed, so their draw cannot be
repeated; ours is fixed by the dataset's ``seed``), all rows at once. Inputs are stored as uint8 codes [n, 18]
(the value's position in ``features``), labels 0..3 in the order of ``class_names`` (Poor, Average, Good,
Excellent: the score's order). The prepared file's meta carries the features, their values and their
cardinalities (``levels``), which the plug-in Bayes classifier and the ``set_features`` signal read.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Generator

MODEL_TYPE_P = (0.22, 0.45, 0.23, 0.02, 0.01, 0.01, 0.01, 0.05)
# the value an SUV takes with probability p_h (else uniform over all values); the sunroof is uniform for all
HIGH = {"safety_rating": ("4 stars", 0.7), "fuel_type": ("Diesel", 0.8), "interior_material": ("Synthetic", 0.9),
        "infotainment_system": ("Premium", 0.9), "country_of_manufacture": ("C5", 0.3),
        "warranty_length": ("10 years", 0.9), "number_of_doors": ("5", 0.95), "number_of_seats": ("5", 0.95),
        "air_conditioning": ("Yes", 0.95), "navigation_system": ("Advanced", 0.95), "tire_type": ("All-Season", 0.95),
        "sound_system": ("Premium", 0.95), "cruise_control": ("Yes", 0.95), "bluetooth_connectivity": ("Yes", 0.95),
        "transmission_type": ("Manual", 0.7), "drive_type": ("RWD", 0.95)}
FUEL_POINTS = {"Gasoline": 1, "Diesel": 1, "Electric": 4, "Hybrid": 3}
WARRANTY_POINTS = {"3 years": 2, "5 years": 3, "7 years": 4, "10 years": 5}
SAFETY_POINTS = {"1 star": 1, "2 stars": 2, "3 stars": 3, "4 stars": 4, "5 stars": 5}
EXTRA_POINTS = (1, 3, 4)  # the score's uniform random part
MAIN_BRANCH = 0.95  # probability of the score rule (else score 0), for every car but a C2 SUV
C2_SUV = ((13, 0.6), (0, 0.3), (2, 0.1))  # a C2 SUV's score and its probability
THRESHOLDS = (2, 8, 13)  # Average from 2, Good from 8, Excellent from 13 (below 2: Poor)


def label_of_score(score: np.ndarray) -> np.ndarray:
    """Poor 0, Average 1, Good 2, Excellent 3."""
    return np.searchsorted(np.array(THRESHOLDS), np.asarray(score), side="right").astype(np.int64)


@dataclass(frozen=True)
class CategoricalCars(Generator):
    name = "categorical_cars"
    data_kind = "categorical"
    n_classes = 4
    bounds = None  # codes, not points on a scale
    class_names = ["Poor", "Average", "Good", "Excellent"]
    features = {
        "model_type": ["Sedan", "SUV", "Coupe", "Hatchback", "Convertible", "Wagon", "Minivan", "Truck"],
        "fuel_type": ["Gasoline", "Diesel", "Electric", "Hybrid"],
        "transmission_type": ["Manual", "Automatic", "CVT"],
        "drive_type": ["FWD", "RWD", "AWD"],
        "safety_rating": ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
        "interior_material": ["Cloth", "Leather", "Synthetic"],
        "infotainment_system": ["Basic", "Advanced", "Premium", "None"],
        "country_of_manufacture": ["C1", "C2", "C3", "C4", "C5"],
        "warranty_length": ["3 years", "5 years", "7 years", "10 years"],
        "number_of_doors": ["2", "4", "5"],
        "number_of_seats": ["2", "4", "5", "7"],
        "air_conditioning": ["Yes", "No"],
        "navigation_system": ["None", "Basic", "Advanced"],
        "tire_type": ["All-Season", "Summer", "Winter"],
        "sunroof": ["Yes", "No"],
        "sound_system": ["Standard", "Premium", "High-end", "None"],
        "cruise_control": ["Yes", "No"],
        "bluetooth_connectivity": ["Yes", "No"],
    }
    description = ("Gauthier et al. 2025's synthetic car evaluations: 18 categorical features (uint8 codes; SUVs "
                   "concentrated on one value of each feature), labels Poor, Average, Good, Excellent from a noisy "
                   "score of safety, fuel and warranty (a C2 SUV scored at random).")

    def column(self, feature: str) -> int:
        return list(self.features).index(feature)

    def code(self, feature: str, value: str) -> int:
        return self.features[feature].index(value)

    def data_meta(self) -> dict:
        return {"features": list(self.features), "feature_values": {f: list(v) for f, v in self.features.items()},
                "levels": [len(v) for v in self.features.values()], "class_names": list(self.class_names)}

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = np.empty((n, len(self.features)), dtype=np.uint8)
        model = rng.choice(len(MODEL_TYPE_P), size=n, p=np.array(MODEL_TYPE_P))
        x[:, 0] = model
        suv = model == self.code("model_type", "SUV")
        for j, (feature, values) in enumerate(self.features.items()):
            if j == 0:
                continue
            uniform = rng.integers(0, len(values), size=n)
            if feature in HIGH:
                value, p_high = HIGH[feature]
                uniform = np.where(suv & (rng.random(n) < p_high), self.code(feature, value), uniform)
            x[:, j] = uniform
        return x, self._labels(x, rng)

    def _points(self, x: np.ndarray) -> np.ndarray:
        """Safety stars + fuel points + warranty points (the score without its random part)."""
        def lookup(feature, points):
            return np.array([points[v] for v in self.features[feature]])[x[:, self.column(feature)]]
        return (lookup("safety_rating", SAFETY_POINTS) + lookup("fuel_type", FUEL_POINTS)
                + lookup("warranty_length", WARRANTY_POINTS))

    def _c2_suv(self, x: np.ndarray) -> np.ndarray:
        return ((x[:, self.column("model_type")] == self.code("model_type", "SUV"))
                & (x[:, self.column("country_of_manufacture")] == self.code("country_of_manufacture", "C2")))

    def _labels(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = len(x)
        main = rng.random(n) < MAIN_BRANCH
        extra = np.array(EXTRA_POINTS)[rng.integers(0, len(EXTRA_POINTS), size=n)]
        r = rng.random(n)
        scores, probs = np.array([s for s, _ in C2_SUV]), np.cumsum([p for _, p in C2_SUV])
        c2_score = scores[np.minimum(np.searchsorted(probs, r, side="right"), len(scores) - 1)]
        score = np.where(self._c2_suv(x), c2_score, np.where(main, self._points(x) + extra, 0))
        return label_of_score(score)

    def posterior(self, x: np.ndarray) -> np.ndarray:
        """P(y | x) of the rules above, exactly: [n, 4]."""
        x = np.asarray(x)
        out = np.zeros((len(x), self.n_classes))
        points = self._points(x)
        rows = np.arange(len(x))
        out[:, 0] += 1.0 - MAIN_BRANCH  # score 0
        for extra in EXTRA_POINTS:
            np.add.at(out, (rows, label_of_score(points + extra)), MAIN_BRANCH / len(EXTRA_POINTS))
        c2 = self._c2_suv(x)
        out[c2] = 0.0
        for score, p in C2_SUV:
            out[c2, int(label_of_score(np.array([score]))[0])] += p
        return out

    def label_support(self, x: np.ndarray) -> np.ndarray:
        return self.posterior(x) > 0

    def reference_points(self) -> np.ndarray:
        raise NotImplementedError(f"generator '{self.name}': 18 categorical features have no grid of reference "
                                  "points; the tables leave xi, Delta and the ceiling out for it")
