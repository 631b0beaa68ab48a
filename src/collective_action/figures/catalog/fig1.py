"""Fig 1 (section 3.2): the 2D data, success against alpha for ERM, JTT and LfF on 2D and
CIFAR-10, and JTT's measured effective size (Prop 3.2)."""
from ..panels import AlphaEff, Curves, Data, FigureSpec

DATA_2D = Data("fig1b", title="(a) 2D data")
CURVES_2D = Curves("fig1b", title="(b) 2D", bound=True)
CURVES_CIFAR = Curves("fig1c", title="(c) CIFAR-10")

FIGURES = {
    "fig1a": FigureSpec((DATA_2D,), "Fig 1a: the 2D dataset (training split) coloured by label; grey: the codomain of "
                                    "the signal g(x1, x2) = (x1, -|x2|)."),
    "fig1b": FigureSpec((CURVES_2D,), "Fig 1b: collective success vs alpha on the 2D dataset for ERM (blue circles), "
                                      "JTT (orange squares) and LfF (green triangles); mean and Student-t interval over "
                                      "seeds; dashed: Theorem 1's bound (eps = 0)."),
    "alpha_eff": FigureSpec((AlphaEff("fig1b"),),
                            "JTT's measured effective collective size (Prop 3.2, from its stage-one error set) vs alpha "
                            "on the 2D dataset, with the diagonal alpha_eff = alpha."),
    "fig1c": FigureSpec((CURVES_CIFAR,), "Fig 1c: success vs alpha on CIFAR-10 for ERM, JTT and LfF; mean and Student-t "
                                         "interval over seeds."),
    "fig1": FigureSpec((DATA_2D, CURVES_2D, CURVES_CIFAR),
                       "Fig 1: (a) the 2D data; (b, c) success vs alpha for ERM (blue circles), JTT (orange squares) "
                       "and LfF (green triangles) on 2D and CIFAR-10."),
}
