"""Fig 1c's and Fig 4's protocols on Fashion-MNIST, not the paper's dataset: the same pixel-grid signal
(Fig 2), learners, stopping rules and claims as on CIFAR-10, on a real ten-class image dataset that the
CPU-scale CNN fits well (the CIFAR-10 verdicts at CPU scale are about an underfitting model). Each legend
entry states the clean test accuracy its runs reached."""
from ..panels import Curves, FigureSpec

NOT_THE_PAPERS = "Fashion-MNIST, not the paper's dataset"


def _by_alpha_val(algorithm: str, title: str) -> Curves:
    return Curves("fig4_fashion", x="alpha_val", hue="alpha", where=(("algorithm", algorithm),), title=title,
                  show_accuracy=True)


FIGURES = {
    "fig1c_fashion": FigureSpec(
        (Curves("fig1c_fashion", title=NOT_THE_PAPERS, show_accuracy=True),),
        f"Fig 1c's protocol on {NOT_THE_PAPERS}: success vs alpha for ERM (blue circles), JTT (orange squares) and "
        "LfF (green triangles), the pixel-grid signal of Fig 2 (y* = T-shirt/top); mean and Student-t interval over "
        "seeds; each legend entry gives the clean test accuracy reached."),
    "fig4_fashion": FigureSpec(
        (_by_alpha_val("erm", "(a) ERM, Fashion-MNIST (not the paper's)"),
         _by_alpha_val("cvar_dro", "(b) CVaR-DRO, Fashion-MNIST (not the paper's)")),
        f"Fig 4's protocol on {NOT_THE_PAPERS}: success vs the collective's share of the validation set for ERM and "
        "CVaR-DRO, stopped at maximum validation accuracy; blue circles alpha_train = 0.001, orange squares "
        "alpha_train = 0.1; each legend entry gives the clean test accuracy reached."),
}
