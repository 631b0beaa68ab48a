"""Text (Hardt et al. 2023, section 5): a token planted every k words; feature-label and feature-only
strategies, the spacing k, and every learner. On request (they need data: by default the offline
STAND-IN, WordNet definitions, named as one in every title and caption)."""
from ..panels import Curves, Epochs, FigureSpec

FIGURES = {
    "text_alpha": FigureSpec(
        (Curves("text_alpha", title="(a) feature-label", bound=True, xscale="log"),
         Curves("text_alpha_feature_only", title="(b) feature-only", xscale="log"),
         Epochs("text_alpha", algorithm="erm", title=r"(c) feature-label, $\alpha$ = 0.002, per epoch")),
        "Text: success vs alpha (log axis) of a collective that plants a token absent from clean data every k words "
        "(a) and relabels its documents to y* (feature-label), or (b) keeps their label, drawn only from documents "
        "already labelled y* (feature-only); ERM on the text_bag model, last epoch; mean and Student-t interval over "
        "seeds; dashed: Theorem 1's bound with xi the measured frequency of the token in clean training documents "
        "(Delta = 1). (c) feature-label success after every epoch at alpha = 0.2%, one line per seed."),
    "text_spacing": FigureSpec(
        (Curves("text_spacing", hue="alpha", x="k", xscale="log", title="feature-label, by spacing k"),),
        "Text: success vs the spacing k of the planted token (one every k words; log axis) at two small alphas, "
        "feature-label, ERM, last epoch; mean and Student-t interval over seeds (Hardt et al.'s open question)."),
    "text_learners": FigureSpec(
        (Curves("text_learners", title="(a) success", xscale="log"),
         Curves("text_learners", value="accuracy", title="(b) clean test accuracy", xscale="log")),
        "Text: success (a) and clean test accuracy (b) vs alpha (log axis) of the feature-label collective for every "
        "learner of the text_learners panel (neither paper has it); mean and Student-t interval over seeds. "
        "Adversarial training is left out (it perturbs inputs on a continuous scale, and token ids have none), and "
        "so is DP-SGD (its per-sample gradients of the embedding table are too slow on a CPU)."),
}
