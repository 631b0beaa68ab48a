"""Fig 8 (appendix): decision boundaries of ERM on LMS-k without a collective."""
from ..panels import Boundaries, FigureSpec

FIGURES = {
    "fig8": FigureSpec((Boundaries("fig8"),),
                       "Fig 8: LMS-k with no collective: each pair shows the data and the decision boundary of an "
                       "ERM model (seed 0); the boundary depends more on x1 as k grows.", max_columns=4),
}
