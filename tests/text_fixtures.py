"""Tiny text corpora written in the original on-disk formats, for the loaders' tests, and random token
documents in a training context, for the learners' tests on text.

- the resume corpus of Jiechieu & Tsopze (github.com/florex/resume_corpus): ``resume_samples.txt``
  (``reference:::occupation;occupation;...:::text``, one resume a line, scraped HTML) inside
  ``resume_samples.zip``, or the ``NAME.txt`` / ``NAME.lab`` pairs of ``resumes_corpus.zip``;
- WordNet 3.0's ``data.<pos>`` files (wndb(5WN)): license lines starting with two spaces, then
  ``offset lex_filenum ss_type w_cnt word lex_id ... p_cnt | gloss`` with byte offsets.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

OCCUPATIONS = {
    "Java_Developer": "java spring hibernate maven servlet jsp",
    "Database_Administrator": "oracle sql backup tuning replication schema",
    "Network_Administrator": "cisco routers switches firewall vpn tcp",
}
COMMON = "experience team project work responsible managed years company skills client support".split()


def resume_rows(n: int = 60, seed: int = 0) -> list[tuple[str, list[str], str]]:
    """(reference, occupations, text): the first occupation cycles over OCCUPATIONS, some resumes list a
    second one; texts are HTML with the highlight spans of the scraped pages."""
    r = np.random.default_rng(seed)
    names = list(OCCUPATIONS)
    rows = []
    for i in range(n):
        first = names[i % len(names)]
        occ = [first] + ([names[(i + 1) % len(names)]] if i % 4 == 0 else [])
        words = list(r.choice(OCCUPATIONS[first].split(), size=8)) + list(r.choice(COMMON, size=12))
        r.shuffle(words)
        title = first.replace("_", " ")
        text = f'{title} <span class="hl">{title.split()[0]}</span> &amp; ' + " ".join(words)
        rows.append((f"C:\\scrape\\part_{i // 10}\\{i}.html#{i}", occ, text))
    return rows


def samples_text(rows) -> str:
    return "".join(f"{ref}:::{';'.join(occ)};:::{text}\n" for ref, occ, text in rows)


def write_resume_samples_zip(path: Path, rows, member: str = "resume_samples.txt") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, samples_text(rows))
    return path


def write_resumes_corpus(folder: Path, rows) -> Path:
    """The resumes_corpus.zip layout, extracted: 00000.txt with 00000.lab (one occupation a line)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (_, occ, text) in enumerate(rows):
        (folder / f"{i:05d}.txt").write_text(text)
        (folder / f"{i:05d}.lab").write_text("\n".join(occ) + "\n")
    return folder


LICENSE = ["  1 This software and database is being provided to you, the LICENSEE, by  ",
           "  2 Princeton University under the following license.  "]
NOUN_GLOSSES = {  # lexicographer file number -> glosses
    5: ["a domestic animal kept for companionship; \"the dog barked\"", "large carnivorous feline mammal of asia",
        "any of numerous small rodents", "a bird that feeds on fish", "a small burrowing mammal with long ears",
        "freshwater fish of the carp family"],
    13: ["a sweet baked food made of dough", "the edible fruit of an apple tree", "a dish of cooked rice",
         "a thick soup made of vegetables", "a beverage made from roasted coffee beans", "cheese made from goat milk"],
    20: ["a tall perennial woody plant having a main trunk", "a flowering shrub of the rose family",
         "any plant of the genus quercus", "a climbing vine with small leaves", "a fern with fronds",
         "aquatic plant with floating leaves"],
}


def write_wordnet(folder: Path, glosses=None, extra_lines=()) -> Path:
    """data.noun with correct byte offsets (and an empty data.verb); ``extra_lines`` are appended as is."""
    folder.mkdir(parents=True, exist_ok=True)
    glosses = NOUN_GLOSSES if glosses is None else glosses
    lines = [line + "\n" for line in LICENSE]
    offset = sum(len(line.encode()) for line in lines)
    i = 0
    for lexnum, texts in glosses.items():
        for text in texts:
            line = f"{offset:08d} {lexnum:02d} n 01 word_{i} 0 001 @ 00001740 n 0000 | {text}  \n"
            lines.append(line)
            offset += len(line.encode())
            i += 1
    lines += [line + "\n" for line in extra_lines]
    (folder / "data.noun").write_text("".join(lines))
    (folder / "data.verb").write_text("".join(line + "\n" for line in LICENSE))
    return folder


def token_ids(n: int, length: int, vocab: int, seed: int = 0) -> np.ndarray:
    """Random documents [n, length] of ids 2..vocab-1 (no PAD, no UNK), of random lengths, padded with 0;
    some words repeat within a document."""
    r = np.random.default_rng(seed)
    x = r.integers(2, vocab, size=(n, length))
    x[:, 1::4] = x[:, :1]  # repeated words: the embedding-bag's per-sample norms count them
    x[np.arange(length) >= r.integers(1, length + 1, size=n)[:, None]] = 0
    return x


def text_context(model_spec, seeds, hp=None, epochs: int = 2, n: int = 96, length: int = 12, vocab: int = 30,
                 alpha: float = 0.1):
    """A FitContext on random token documents (label: parity of the first word) whose collectives plant the
    last id of the vocabulary every 3 words with y* = 1, one collective per run; token ids have no input range."""
    import torch

    from collective_action import collective
    from collective_action.signals.token_insert import insert_every
    from collective_action.training.engine import Evaluator, FitContext, Split

    x = token_ids(n, length, vocab - 1)
    y = (x[:, 0] % 2).astype(np.int64)
    overlays = []
    for s in seeds:
        idx = collective.select_members(n, alpha, np.random.default_rng(100 + s))
        overlays.append((idx, insert_every(x[idx], vocab - 1, 3)))
    return FitContext(
        train=Split.from_overlays(x, y, overlays, 1, "cpu"),
        evaluator=Evaluator(per_run={}, shared={"test": torch.from_numpy(x)}, batch_size=64),
        model_spec={**model_spec, "vocab_size": vocab}, input_shape=[length], n_classes=2, seeds=seeds, base_seed=0,
        epochs=epochs, batch_size=16, lr=1e-2, weight_decay=0.0, hp=hp or {}, device=torch.device("cpu"),
        dtype=torch.float32, input_range=None)
