"""Tiny text corpora written in the original on-disk formats, for the loaders' tests.

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
