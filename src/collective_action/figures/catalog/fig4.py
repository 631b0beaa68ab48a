"""Fig 4 (section 3.3): the collective also controls a share alpha_val of the validation set."""
from ..panels import Curves, FigureSpec


def _by_alpha_val(panel: str, algorithm: str, title: str) -> Curves:
    return Curves(panel, x="alpha_val", hue="alpha", where=(("algorithm", algorithm),), title=title)


FIGURES = {
    "fig4_2d": FigureSpec(
        (_by_alpha_val("fig4_2d", "erm", "ERM, 2D"), _by_alpha_val("fig4_2d", "cvar_dro", "CVaR-DRO, 2D")),
        "Fig 4 on the 2D data: success vs the collective's share of the validation set for ERM and CVaR-DRO, "
        "stopped at maximum validation accuracy; blue circles alpha_train = 0.001, orange squares alpha_train = 0.1."),
    "fig4": FigureSpec(
        (_by_alpha_val("fig4_cifar", "erm", "(a) ERM, CIFAR-10"),
         _by_alpha_val("fig4_cifar", "cvar_dro", "(b) CVaR-DRO, CIFAR-10"),
         _by_alpha_val("fig4_waterbirds", "erm", "(c) ERM, Waterbirds"),
         _by_alpha_val("fig4_waterbirds", "cvar_dro", "(d) CVaR-DRO, Waterbirds")),
        "Fig 4: success vs the collective's share of the validation set for ERM and CVaR-DRO (stopped at maximum "
        "validation accuracy) on CIFAR-10 and Waterbirds (or its stand-in); blue circles alpha_train = 0.001, "
        "orange squares alpha_train = 0.1."),
}
