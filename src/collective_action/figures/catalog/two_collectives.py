"""Beyond both papers: two collectives in one training set (Hardt et al.'s open question), on the 2D data."""
from ..panels import FigureSpec, TwoCollectives

FIGURES = {
    "two_collectives": FigureSpec(
        (TwoCollectives("two_collectives", title="(a) collective 1 grows, collective 2 fixed"),
         TwoCollectives("two_collectives_swap", title="(b) collective 2 grows, collective 1 fixed",
                        colors=(("tab:red", "s"), ("tab:blue", "o")))),
        "Two collectives in one 2D training set (ERM, last epoch): collective 1 plants g1(x) = (x1, -|x2|) with "
        "y* = 1, collective 2 plants g2(x) = (x1, |x2|) with y* = 0, drawn disjoint. (a) each one's success as "
        "collective 1 grows (alpha) while collective 2 holds 20% of the training set; (b) the same with the roles "
        "swapped. Mean and Student-t interval over seeds; dotted: the success of the Bayes classifier of the "
        "poisoned distribution, whose threshold for one collective is (1 - alpha_other)/3 instead of 1/3, and "
        "for the fixed one alpha > 1 - 3 x 0.2 = 0.4."),
}
