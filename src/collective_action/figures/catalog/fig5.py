"""Fig 5 (section 4.2): LMS-k, where SGD's simplicity bias decides which signals work."""
from ..panels import Curves, Data, FigureSpec

DATA = Data("fig5b", member=6, title="(a) LMS-6")
CURVES = Curves("fig5b", hue="k", ceiling=True, title="(b) LMS-k")

FIGURES = {
    "fig5a": FigureSpec((DATA,), "Fig 5a: an LMS-6 sample coloured by label; grey: the codomain of "
                                 "g(x1, x2) = (x1, -|x2|)."),
    "fig5b": FigureSpec((CURVES,), "Fig 5b: success vs alpha on LMS-k, one line per k (ERM); mean and Student-t "
                                   "interval over seeds; dotted: the success reachable without contradicting clean "
                                   "data."),
    "fig5": FigureSpec((DATA, CURVES), "Fig 5: LMS-k. (a) an LMS-6 sample with the signal's codomain; (b) success vs "
                                       "alpha per k."),
}
