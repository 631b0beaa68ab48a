"""Fig 6 (section 4.3): MNIST-CIFAR, a signal on the complex (CIFAR) half of the image."""
from ..panels import Curves, FigureSpec, SignalExample

FIGURES = {
    "fig6": FigureSpec(
        (SignalExample("fig6b", per_class=True, title="(a) MNIST-CIFAR and the automobile signal"),
         Curves("fig6b", hue="c", title="(b) signal: automobile, y* = truck"),
         Curves("fig6c", hue="c", title="(c) signal: truck, y* = truck")),
        "Fig 6: MNIST-CIFAR. (a) an automobile and a truck and their transforms, whose CIFAR half is replaced by a "
        "pool automobile; (b, c) success (y* = truck) vs alpha when the signal is an automobile (b) or a truck (c), "
        "one line per MNIST-label correlation c."),
}
