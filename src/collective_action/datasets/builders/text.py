"""Text (Hardt et al. 2023, section 5): the resume corpus of Jiechieu & Tsopze (2021), or its offline
STAND-IN (WordNet definitions labelled by lexicographer file), as token ids.

Documents are tokenised (``text_sources.tokenize``), the first ``drop_first_words`` tokens dropped
(Hardt et al. drop a resume's first 20 words, its title, which names the occupation), and empty
documents are left out with a count in the log and in ``meta['n_empty_dropped']`` (an empty
document carries no signal and no label information; a corpus with nothing left is an error). One
label per document (a resume's first occupation, see ``text_sources``), restricted to ``classes``.
The documents are shuffled once and cut into test (``n_test``), validation (``n_val``) and training
splits. The vocabulary is PAD (0), UNK (1), then the training split's most frequent words, and
always the planted tokens (the signal's and a second collective's, ``collective_2.signal``), so a
collective's token has an id even if the clean data never contains it. Inputs are int64 ids
[N, max_len], truncated, padded with 0; ``vocab`` is stored as an array of utf-8 bytes. The share xi
of clean training documents that already contain a planted token is measured and stored
(``meta['signal_xi']``), with a warning above ``xi_warn``.
"""
from __future__ import annotations

import collections
import logging
from pathlib import Path

import numpy as np

from ... import rng
from .. import text_sources as ts
from .base import Builder

log = logging.getLogger(__name__)


class Text(Builder):
    name = "text"
    sources = ["resumes"]
    extra_sources = {"resumes": {"standin": ["wordnet"]}}  # the stand-in reads WordNet from sources.wordnet
    required = ["n_val", "n_test"]
    family = "k"  # 'ks: [1, 5, 20]': one dataset per spacing of the planted token ...
    family_signal = "every"  # ... which is the token signal's 'every' (datasets.signal_spec)
    data_kind = "text"  # token ids [max_len]
    n_classes = "classes"  # as many as the dataset's 'classes' lists (null: every label found, unknown until built)
    description = ("Text as token ids: the resume corpus of Jiechieu & Tsopze 2021 (Hardt et al. 2023), one label per "
                   "resume (its first occupation), or its STAND-IN when sources.resumes.kind is 'standin' (WordNet "
                   "definitions labelled by lexicographer file, from Debian's wordnet-base).")
    parameters = {
        "k": {"type": "integer", "minimum": 1,
              "description": "k, the spacing of the planted token: the collective inserts it every k words (it sets "
                             "the token signal's 'every'; Hardt et al. leave k open). 'ks: [...]' makes one dataset "
                             "per value (the spacing figure)."},
        "classes": {"type": ["array", "null"], "items": {"type": "string"}, "minItems": 2, "uniqueItems": True,
                    "description": "The label set, in label order (label i is classes[i]): occupations for resumes, "
                                   "lexicographer files (e.g. noun.animal) for the stand-in. Documents of other "
                                   "labels are left out. null: every label found, sorted by name."},
        "vocab_size": {"type": "integer", "minimum": 3, "default": 20000,
                       "description": "Vocabulary size including PAD, UNK and the planted token."},
        "max_len": {"type": "integer", "minimum": 1, "default": 128,
                    "description": "Document length in tokens: longer ones are truncated, shorter ones padded."},
        "min_count": {"type": "integer", "minimum": 1, "default": 1,
                      "description": "Words seen fewer times in the training split map to UNK."},
        "drop_first_words": {"type": "integer", "minimum": 0, "default": 0,
                             "description": "Tokens dropped from each document's start (Hardt et al.: 20, a "
                                            "resume's title)."},
        "n_val": {"type": "integer", "minimum": 1, "description": "Documents in the validation split."},
        "n_test": {"type": "integer", "minimum": 1,
                   "description": "Documents in the test split (Hardt et al.: 4,783 of 29,783 resumes)."},
        "max_train": {"type": ["integer", "null"], "minimum": 1,
                      "description": "Cap on the training split (a random subset), for CPU-scale runs."},
        "max_per_class": {"type": ["integer", "null"], "minimum": 1,
                          "description": "Cap on the documents of each class before splitting (a random subset), "
                                         "to balance classes; null keeps all."},
        "xi_warn": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.001,
                    "description": "Warn when more than this share of clean training documents already contains "
                                   "the planted token (xi, Hardt et al.'s signal uniqueness)."},
    }

    @classmethod
    def build(cls, spec, srcs, data_dir, base_seed) -> tuple[dict, dict]:
        p = {k: v.get("default") for k, v in cls.parameters.items()}
        p.update({k: v for k, v in spec.items() if k in cls.parameters and v is not None})
        classes = list(p["classes"]) if p["classes"] else None
        planted = []
        second = (spec.get("collective_2") or {}).get("signal")
        for key, signal in (("signal", spec.get("signal")), ("collective_2.signal", second)):
            if signal and "token" in signal:
                planted.append(ts.check_token(signal["token"], f"{key}.token"))
                if int(signal.get("start", 0)) >= int(p["max_len"]):
                    raise ValueError(f"{key}.start = {signal['start']} must be below max_len = {p['max_len']}: the "
                                     f"token would be truncated away")

        source = dict(srcs["resumes"])
        if source["kind"] == "standin" and "wordnet" in srcs:  # the stand-in's WordNet folder: sources.wordnet
            source.setdefault("path", srcs["wordnet"].get("path", ts.WORDNET["path"]))
        corpus = ts.load_resumes(source, data_dir, classes)
        docs = [ts.tokenize(t)[int(p["drop_first_words"]):] for t in corpus.texts]
        found = collections.Counter(corpus.labels)
        if classes is None:
            classes = sorted(found)
        missing = [c for c in classes if c not in found]
        if missing:
            common = ", ".join(f"{c} ({n})" for c, n in found.most_common(20))
            raise ValueError(f"classes {missing} do not occur in {corpus.source_label}; its labels (most common "
                             f"first): {common}")
        label_of = {c: i for i, c in enumerate(classes)}
        keep = [i for i, lab in enumerate(corpus.labels) if lab in label_of]
        if len(keep) < len(docs):
            log.info("text: %d of %d documents have a label outside classes and are left out", len(docs) - len(keep),
                     len(docs))
        nonempty = [i for i in keep if docs[i]]
        n_empty = len(keep) - len(nonempty)
        if n_empty:
            log.warning("text: %d empty documents (no word left after tokenising and dropping the first %d) are "
                        "left out", n_empty, p["drop_first_words"])
        y_all = np.array([label_of[corpus.labels[i]] for i in nonempty], dtype=np.int64)

        g = rng.numpy_rng(base_seed, spec["seed"], "data", "text")
        order = np.arange(len(nonempty))
        if p["max_per_class"]:
            order = np.sort(np.concatenate([g.permutation(np.flatnonzero(y_all == c))[:int(p["max_per_class"])]
                                            for c in range(len(classes))]))
        n_val, n_test = int(p["n_val"]), int(p["n_test"])
        if n_val + n_test >= len(order):
            raise ValueError(f"n_val + n_test = {n_val + n_test} leaves no training documents of the {len(order)} "
                             f"usable ones in {corpus.source_label}")
        perm = g.permutation(order)
        splits = {"test": np.sort(perm[:n_test]), "val": np.sort(perm[n_test:n_test + n_val]),
                  "train": np.sort(perm[n_test + n_val:])}
        if p["max_train"] and p["max_train"] < len(splits["train"]):
            splits["train"] = np.sort(g.choice(splits["train"], size=int(p["max_train"]), replace=False))

        split_docs = {s: [docs[nonempty[i]] for i in idx] for s, idx in splits.items()}
        vocab = ts.build_vocab(split_docs["train"], int(p["vocab_size"]), planted, int(p["min_count"]))
        arrays = {"vocab": ts.vocab_array(vocab)}
        for s, idx in splits.items():
            arrays[f"{s}/x"] = ts.encode(split_docs[s], vocab, int(p["max_len"]))
            arrays[f"{s}/y"] = y_all[idx]
        xi = {}
        for token in planted:
            xi[token] = float((arrays["train/x"] == vocab.index(token)).any(axis=1).mean())
            if xi[token] > float(p["xi_warn"]):
                log.warning("text: the planted token %r already occurs in %.4g of the clean training documents "
                            "(xi > xi_warn = %g): it is not a unique signal; choose a rarer token", token, xi[token],
                            p["xi_warn"])
        counts = np.bincount(arrays["train/y"], minlength=len(classes))
        log.info("text: %s: train %d, val %d, test %d documents; training class counts %s; vocabulary %d",
                 corpus.source_label, len(splits["train"]), n_val, n_test, dict(zip(classes, counts.tolist())),
                 len(vocab))
        meta = {"kind": "text", "class_names": list(classes), "vocab_size": len(vocab),
                "pad_id": ts.PAD_ID, "unk_id": ts.UNK_ID, "max_len": int(p["max_len"]), "input_range": None,
                "source_label": corpus.source_label, "standin": corpus.standin, "source_sha256": corpus.checksums,
                "planted_tokens": planted, "signal_xi": xi, "n_empty_dropped": n_empty,
                "label_rule": "lexicographer file" if corpus.standin else "first listed occupation",
                # the files read, recorded with their sha256 as the dataset's inputs (popped from meta)
                "input_files": {f"read_{i}_{Path(f).name}": f for i, f in enumerate(sorted(corpus.checksums))}}
        return arrays, meta
