"""Fig 2: the CIFAR-10 signal (+2 at every second pixel of every second row)."""
from ..panels import FigureSpec, SignalExample

FIGURES = {
    "fig2": FigureSpec((SignalExample("fig1c", exaggerate=50),),
                       "Fig 2: a CIFAR-10 test image, its transform (+2 at every second pixel of every second row, "
                       "all channels) and the difference exaggerated 50 times."),
}
