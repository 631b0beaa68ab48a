"""Fig 3 (section 3.3): CVaR-DRO per epoch, and stopping rules on a collective-free validation set."""
from ..panels import Curves, Epochs, FigureSpec

STOPPING_SERIES = (
    ("erm", "last", "ERM", "tab:blue", "o"),
    ("cvar_dro", "max_val_accuracy", "CVaR-DRO, max val. accuracy", "tab:green", "^"),
    ("cvar_dro", "max_val_success", "CVaR-DRO, max val. success", "tab:orange", "^"),
)

FIGURES = {
    "fig3_2d": FigureSpec(
        (Epochs("fig3_2d", title="(a) CVaR-DRO per epoch, 2D"),
         Curves("fig3_2d", series=STOPPING_SERIES, title="(b) 2D, collective-free validation set")),
        "Fig 3 on the 2D data: (a) test success of CVaR-DRO after every epoch at the panel's per-epoch alpha, one "
        "shade per seed; (b) success vs alpha for ERM (last epoch) and CVaR-DRO stopped at maximum accuracy (green) "
        "or maximum success (orange) on a collective-free validation set."),
    "fig3": FigureSpec(
        (Epochs("fig3", title="(a) CVaR-DRO per epoch, Waterbirds"),
         Curves("fig3", series=STOPPING_SERIES, title="(b) Waterbirds, collective-free validation set")),
        "Fig 3 on Waterbirds (or its stand-in, as the panel titles and tables say): (a) test success of CVaR-DRO "
        "after every epoch at alpha = 0.3, one shade per seed; (b) success vs alpha for ERM and CVaR-DRO stopped at "
        "maximum validation accuracy (green) or success (orange)."),
}
