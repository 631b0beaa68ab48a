"""Beyond the paper: every registered learner the 'learners' panel names, on the collectives of Fig 1b."""
from ..panels import Curves, FigureSpec

FIGURES = {
    "learners": FigureSpec(
        (Curves("learners", title="(a) success"),
         Curves("learners", value="accuracy", title="(b) clean test accuracy"),
         Curves("learners", value="alpha_eff_weights", diagonal=True,
                title="(c) effective size from the learner's weights")),
        "Learners beyond the paper on the 2D data of Fig 1b (the same collectives): (a) success and (b) clean test "
        "accuracy vs alpha for each algorithm of the 'learners' panel (DP-SGD at two privacy levels, PGD "
        "adversarial training at two radii, and the paper's learners); (c) the effective collective size "
        "(Definition 1) measured from the weights of the learners that reweight, against the diagonal; mean and "
        "Student-t interval over seeds."),
}
