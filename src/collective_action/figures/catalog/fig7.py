"""Fig 7 (appendix): k-strips, a signal on the simple feature x1."""
from ..panels import Curves, Data, FigureSpec

DATA = Data("fig7b", member=6, title="(a) 6-strips")
CURVES = Curves("fig7b", hue="k", title="(b) k-strips")

FIGURES = {
    "fig7a": FigureSpec((DATA,), "Fig 7a: a 6-strips sample coloured by label; grey: the codomain of "
                                 "g(x1, x2) = (-|x1|, x2)."),
    "fig7b": FigureSpec((CURVES,), "Fig 7b: success vs alpha on k-strips (early-stopped ERM), one line per k; mean "
                                   "and Student-t interval over seeds."),
    "fig7": FigureSpec((DATA, CURVES), "Fig 7: k-strips. (a) a 6-strips sample with the signal's codomain; (b) "
                                       "success vs alpha per k."),
}
