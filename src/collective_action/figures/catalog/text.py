"""Text (Hardt et al. 2023, section 5): a token planted every k words; feature-label and feature-only
strategies, the spacing k, every learner, and two collectives at once. On request (they need data: by
default the offline STAND-IN, WordNet definitions, named as one in every title and caption)."""
from ..panels import Curves, Epochs, FigureSpec, TwoCollectives

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
        (Curves("text_learners", title="(a) success", xscale="log", legend=False),
         Curves("text_learners", value="accuracy", title="(b) clean test accuracy", xscale="log")),
        "Text: success (a) and clean test accuracy (b, with the legend) vs alpha (log axis) of the feature-label "
        "collective for every learner of the text_learners panel (neither paper has it); mean and Student-t interval "
        "over seeds. "
        "Adversarial training perturbs the token embeddings (l-infinity radius eps in embedding units, padding "
        "untouched); DP-SGD clips per-sample gradients over the embedding table and the head."),
    "two_collectives_text": FigureSpec(
        (TwoCollectives("two_collectives_text", title="(a) collective 1 grows, collective 2 fixed", xscale="symlog"),
         TwoCollectives("two_collectives_text_swap", title="(b) collective 2 grows, collective 1 fixed",
                        colors=(("tab:red", "s"), ("tab:blue", "o")), xscale="symlog")),
        "Two collectives in one text training set (ERM on the text_bag model, last epoch): collective 1 plants "
        "the token 'zqx' every 5 words with y* = classes[0], collective 2 the token 'vqz' every 5 words with "
        "y* = classes[1], drawn disjoint; both tokens are absent from clean data. (a) each one's success as "
        "collective 1 grows (alpha, symmetric log axis) while collective 2 holds 0.2% of the training set; (b) the "
        "same with the roles swapped. Mean and Student-t interval over seeds."),
}
