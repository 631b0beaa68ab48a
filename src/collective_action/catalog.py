"""The figure catalogue: which panels make up each figure and what each panel reads.

Kept free of heavy imports, since the Snakefile uses it to derive each figure
job's inputs. A figure is a row of panels; each panel draws from one config
panel (its table, the prepared data of its dataset, or its runs' stored models).
Composite figures (fig5, fig7) reuse the panels of their parts.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PanelSpec:
    """One axes of a figure.

    kind: 'data' (a dataset sample with the signal's codomain shaded), 'curves'
    (success against ``x``, one line per ``hue``, or one per entry of ``series``),
    'alpha_eff' (JTT's effective size), 'epochs' (per-epoch success of one
    algorithm, one shade per seed), 'boundaries' (data beside the decision
    boundary of the panel's first run, one pair of axes per dataset of the panel).
    """

    kind: str
    panel: str
    hue: str = "algorithm"
    x: str = "alpha"
    k: int | None = None  # the member of a dataset family ('data' panels)
    where: tuple = ()  # (column, value) filters on the table rows
    series: tuple = ()  # ((algorithm, stopping rule, label, colour, marker), ...): lines instead of hue
    title: str = ""
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FigureSpec:
    panels: tuple[PanelSpec, ...]
    caption: str = ""


def key_table(panel: str) -> str:
    return f"table_{panel}"


def key_epochs(panel: str) -> str:
    return f"epochs_{panel}"


def key_data(dataset: str) -> str:
    return f"data_{dataset}"


def key_run(dataset: str, algorithm: str) -> str:
    return f"run_{dataset}_{algorithm}"


_FIG1A = PanelSpec("data", "fig1b", title="(a) 2D data")
_FIG1B = PanelSpec("curves", "fig1b", title="(b) 2D", options={"bound": True})
_FIG5A = PanelSpec("data", "fig5b", k=6, title="(a) LMS-6")
_FIG5B = PanelSpec("curves", "fig5b", hue="k", title="(b) LMS-k")
_FIG7A = PanelSpec("data", "fig7b", k=6, title="(a) 6-strips")
_FIG7B = PanelSpec("curves", "fig7b", hue="k", title="(b) k-strips")

_FIG3_SERIES = (
    ("erm", "last", "ERM", "tab:blue", "o"),
    ("cvar_dro", "max_val_accuracy", "CVaR-DRO, max val. accuracy", "tab:green", "^"),
    ("cvar_dro", "max_val_success", "CVaR-DRO, max val. success", "tab:orange", "^"),
)
_FIG3_2D = (PanelSpec("epochs", "fig3_2d", where=(("algorithm", "cvar_dro"),), title="(a) CVaR-DRO per epoch, 2D"),
            PanelSpec("curves", "fig3_2d", series=_FIG3_SERIES, title="(b) 2D, collective-free validation set"))
_FIG4_2D = (PanelSpec("curves", "fig4_2d", x="alpha_val", hue="alpha", where=(("algorithm", "erm"),), title="ERM, 2D"),
            PanelSpec("curves", "fig4_2d", x="alpha_val", hue="alpha", where=(("algorithm", "cvar_dro"),),
                      title="CVaR-DRO, 2D"))

_FIG1C = PanelSpec("curves", "fig1c", title="(c) CIFAR-10")
_FIG3 = (PanelSpec("epochs", "fig3", where=(("algorithm", "cvar_dro"),), title="(a) CVaR-DRO per epoch, Waterbirds"),
         PanelSpec("curves", "fig3", series=_FIG3_SERIES, title="(b) Waterbirds, collective-free validation set"))
_FIG4 = (PanelSpec("curves", "fig4_cifar", x="alpha_val", hue="alpha", where=(("algorithm", "erm"),), title="(a) ERM, CIFAR-10"),
         PanelSpec("curves", "fig4_cifar", x="alpha_val", hue="alpha", where=(("algorithm", "cvar_dro"),),
                   title="(b) CVaR-DRO, CIFAR-10"),
         PanelSpec("curves", "fig4_waterbirds", x="alpha_val", hue="alpha", where=(("algorithm", "erm"),),
                   title="(c) ERM, Waterbirds"),
         PanelSpec("curves", "fig4_waterbirds", x="alpha_val", hue="alpha", where=(("algorithm", "cvar_dro"),),
                   title="(d) CVaR-DRO, Waterbirds"))
_FIG6 = (PanelSpec("signal_example", "fig6b", title="(a) MNIST-CIFAR and the automobile signal",
                   options={"per_class": True}),
         PanelSpec("curves", "fig6b", hue="c", title="(b) signal: automobile, y* = truck"),
         PanelSpec("curves", "fig6c", hue="c", title="(c) signal: truck, y* = truck"))

FIGURES: dict[str, FigureSpec] = {
    "fig1a": FigureSpec((_FIG1A,), "Fig 1a: the 2D dataset (training split) coloured by label; grey: the codomain of "
                                   "the signal g(x1, x2) = (x1, -|x2|)."),
    "fig1b": FigureSpec((_FIG1B,), "Fig 1b: collective success vs alpha on the 2D dataset for ERM (blue circles), JTT "
                                   "(orange squares) and LfF (green triangles); mean and Student-t interval over seeds; "
                                   "dashed: Theorem 1's bound (eps = 0)."),
    "alpha_eff": FigureSpec((PanelSpec("alpha_eff", "fig1b"),),
                            "JTT's measured effective collective size (Prop 3.2, from its stage-one error set) vs alpha "
                            "on the 2D dataset, with the diagonal alpha_eff = alpha."),
    "fig5a": FigureSpec((_FIG5A,), "Fig 5a: an LMS-6 sample coloured by label; grey: the codomain of g(x1, x2) = (x1, -|x2|)."),
    "fig5b": FigureSpec((_FIG5B,), "Fig 5b: success vs alpha on LMS-k, one line per k (ERM); mean and Student-t interval "
                                   "over seeds; dotted: the success reachable without contradicting clean data."),
    "fig5": FigureSpec((_FIG5A, _FIG5B), "Fig 5: LMS-k. (a) an LMS-6 sample with the signal's codomain; (b) success vs alpha per k."),
    "fig7a": FigureSpec((_FIG7A,), "Fig 7a: a 6-strips sample coloured by label; grey: the codomain of g(x1, x2) = (-|x1|, x2)."),
    "fig7b": FigureSpec((_FIG7B,), "Fig 7b: success vs alpha on k-strips (early-stopped ERM), one line per k; mean and "
                                   "Student-t interval over seeds."),
    "fig7": FigureSpec((_FIG7A, _FIG7B), "Fig 7: k-strips. (a) a 6-strips sample with the signal's codomain; (b) success vs alpha per k."),
    "fig3_2d": FigureSpec(_FIG3_2D, "Fig 3 on the 2D data: (a) test success of CVaR-DRO after every epoch at the panel's "
                                    "per-epoch alpha, one shade per seed; (b) success vs alpha for ERM (last epoch) and "
                                    "CVaR-DRO stopped at maximum accuracy (green) or maximum success (orange) on a "
                                    "collective-free validation set."),
    "fig4_2d": FigureSpec(_FIG4_2D, "Fig 4 on the 2D data: success vs the collective's share of the validation set for "
                                    "ERM and CVaR-DRO, stopped at maximum validation accuracy; blue circles alpha_train = "
                                    "0.001, orange squares alpha_train = 0.1."),
    "fig1c": FigureSpec((_FIG1C,), "Fig 1c: success vs alpha on CIFAR-10 for ERM, JTT and LfF; mean and Student-t interval "
                                   "over seeds."),
    "fig1": FigureSpec((_FIG1A, _FIG1B, _FIG1C), "Fig 1: (a) the 2D data; (b, c) success vs alpha for ERM (blue "
                                                 "circles), JTT (orange squares) and LfF (green triangles) on 2D and "
                                                 "CIFAR-10."),
    "fig2": FigureSpec((PanelSpec("signal_example", "fig1c", options={"exaggerate": 50}),),
                       "Fig 2: a CIFAR-10 test image, its transform (+2 at every second pixel of every second row, all "
                       "channels) and the difference exaggerated 50 times."),
    "fig3": FigureSpec(_FIG3, "Fig 3 on Waterbirds (or its stand-in, as the panel titles and tables say): (a) test success "
                              "of CVaR-DRO after every epoch at alpha = 0.3, one shade per seed; (b) success vs alpha for "
                              "ERM and CVaR-DRO stopped at maximum validation accuracy (green) or success (orange)."),
    "fig4": FigureSpec(_FIG4, "Fig 4: success vs the collective's share of the validation set for ERM and CVaR-DRO "
                              "(stopped at maximum validation accuracy) on CIFAR-10 and Waterbirds (or its stand-in); "
                              "blue circles alpha_train = 0.001, orange squares alpha_train = 0.1."),
    "fig6": FigureSpec(_FIG6, "Fig 6: MNIST-CIFAR. (a) an automobile and a truck and their transforms, whose CIFAR half "
                              "is replaced by a pool automobile; (b, c) success (y* = truck) vs alpha when the signal is "
                              "an automobile (b) or a truck (c), one line per MNIST-label correlation c."),
    "fig8": FigureSpec((PanelSpec("boundaries", "fig8"),),
                       "Fig 8: LMS-k with no collective: each pair shows the data and the decision boundary of an ERM "
                       "model (seed 0); the boundary depends more on x1 as k grows."),
}
