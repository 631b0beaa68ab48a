"""What each figure reads and says (kept free of heavy imports: the Snakefile uses it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FigureSpec:
    """A figure reads panel tables and/or the prepared data of a panel's dataset."""

    tables: tuple[str, ...] = ()
    data_of: tuple[str, ...] = ()
    caption: str = ""


FIGURES: dict[str, FigureSpec] = {
    "fig1a": FigureSpec(
        data_of=("fig1b",),
        caption="Fig 1a: the 2D dataset (training split) coloured by label; grey: the codomain of the signal "
                "g(x1, x2) = (x1, -|x2|)."),
    "fig1b": FigureSpec(
        tables=("fig1b",),
        caption="Fig 1b: collective success vs alpha on the 2D dataset for ERM (blue circles), JTT (orange squares) "
                "and LfF (green triangles); mean and Student-t interval over seeds; dashed: Theorem 1's bound (eps = 0)."),
    "alpha_eff": FigureSpec(
        tables=("fig1b",),
        caption="JTT's measured effective collective size (Prop 3.2, from its stage-one error set) vs alpha on the "
                "2D dataset, with the diagonal alpha_eff = alpha."),
}
