"""Acquisition and parsing of the text corpora, and the tokeniser and vocabulary.

The resume corpus of Hardt et al. (2023) is the one of Jiechieu and Tsopze (Neural
Computing and Applications, 2021), published at github.com/florex/resume_corpus in two
layouts, both read here:

- ``resume_samples.zip``: one text file ``resume_samples.txt`` with one resume a line,
  three fields separated by ``:::``: the resume's reference, its occupations separated
  by ``;``, and the resume text (scraped HTML, with ``<span class="hl">`` highlights).
  29,783 resumes; Hardt et al. train on 25,000 and test on 4,783.
- ``resumes_corpus.zip``: one ``NAME.txt`` (the resume text) and ``NAME.lab`` (its
  occupations, one a line or separated by commas) per resume.

Source kinds (config ``sources.resumes``), as for the image sources:

- ``download``: ``resume_samples.zip`` from the repository at a pinned commit (so the
  bytes cannot change under the URL) into ``<data_dir>/resumes/``, checked against
  ``RESUMES['sha256']`` or the config's ``sha256``; the sha256 read is recorded.
- ``archive``: a staged copy at ``path``: either zip above, or the plain
  ``resume_samples.txt``; checked against the config's ``sha256`` where one is given.
- ``directory``: an extracted copy at ``path``: a folder holding ``resume_samples.txt``,
  or the ``.txt``/``.lab`` pairs of ``resumes_corpus.zip``.
- ``standin``: the offline STAND-IN, real labelled text from a package registry:
  WordNet 3.0's definitions (glosses) labelled by their lexicographer file (noun.animal,
  noun.food, ...), read from Debian's ``wordnet-base`` (``apt-get install -y
  --no-install-recommends wordnet-base`` puts ``data.noun`` etc. in /usr/share/wordnet;
  ``path`` points elsewhere). Every label it carries says STAND-IN.

A missing, corrupt or malformed source is one :class:`SourceError` naming the file (and
line) and saying what to put where; nothing is written.

Labels: the corpus is multi-label. Hardt et al. fine-tune a multi-label classifier and count a
success when y* is among the predicted labels; this pipeline's models are single-label (softmax,
a success is argmax = y*), so each resume gets ONE label: its FIRST listed occupation. Our
choice, for these reasons: it is deterministic and exact for every single-occupation resume; it
reads nothing from the text, so the planted token cannot leak into labels; the list is the
corpus's own annotation, in its own order, with no ranking of ours imposed on it; and it keeps
every resume, whereas keeping single-occupation resumes only would bias the corpus towards
narrow profiles. (Whether the first listed occupation is also the main one is not documented
by the corpus.) The label set is the dataset's ``classes``; resumes whose first occupation is
outside it are left out, counted in the log.
"""
from __future__ import annotations

import collections
import html
import logging
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..store import sha256_file
from .sources import SourceError, _download, _require

log = logging.getLogger(__name__)

RESUMES = {
    "repository": "https://github.com/florex/resume_corpus",
    "url": "https://raw.githubusercontent.com/florex/resume_corpus/24de39957d99caf2c89cf384ba2396bafe16050d/"
           "resume_samples.zip",
    "archive": "resume_samples.zip",
    "member": "resume_samples.txt",
    # the repository publishes no checksum; this is the sha256 of resume_samples.zip at the pinned
    # commit as pinned by another public project that downloads the same URL (not verifiable from
    # here: no internet). sources.resumes.sha256 overrides it.
    "sha256": "e49b0e7ee8752b51a4ac046f3fc07c2331749d136823e72c9a7bb5908ecf1beb",
    "n_resumes": 29783,
}
WORDNET = {
    "path": "/usr/share/wordnet",
    "package": "wordnet-base",
    "install": "apt-get install -y --no-install-recommends wordnet-base",
    "files": {"noun": "data.noun", "verb": "data.verb", "adj": "data.adj", "adv": "data.adv"},
    # lexnames(5WN) of WordNet 3.0: lexicographer file number -> name (Debian does not ship the file)
    "lexnames": (
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute",
        "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
        "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
        "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
        "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition", "verb.communication",
        "verb.competition", "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
        "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl"),
    "ss_types": {"noun": {"n"}, "verb": {"v"}, "adj": {"a", "s"}, "adv": {"r"}},
}
KINDS = ("download", "archive", "directory", "standin")
SOURCES = ("resumes", "wordnet")  # the config's text sources: the corpus, and the stand-in's WordNet folder


@dataclass
class Corpus:
    """Raw documents with one label name each, and where they came from."""

    texts: list[str]
    labels: list[str]
    source_label: str
    standin: bool
    checksums: dict[str, str]  # file -> sha256 of what was read (provenance)


# ----------------------------------------------------------------------------- tokeniser and vocabulary
PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[a-z0-9]+[+#]*")  # keeps c++ and c#; drops punctuation


def clean(text: str) -> str:
    """Scraped HTML to plain text: tags removed, entities decoded."""
    return html.unescape(_TAG.sub(" ", text))


def tokenize(text: str) -> list[str]:
    """Lower-cased words: runs of letters and digits (with trailing + or #, as in c++, c#)."""
    return _WORD.findall(clean(text).lower())


def check_token(token: str, what: str = "signal.token") -> str:
    """A planted token must be one word of the tokeniser, or it could never be seen as one."""
    if not isinstance(token, str) or tokenize(token) != [token]:
        raise ValueError(f"{what} = {token!r} is not a single token of the tokeniser (lower-case letters and "
                         f"digits, optionally ending in + or #); tokenize gives {tokenize(str(token))}")
    return token


def build_vocab(docs: Iterable[Sequence[str]], size: int, reserved: Sequence[str] = (),
                min_count: int = 1) -> list[str]:
    """[PAD, UNK, the most frequent words (ties: alphabetical), then any ``reserved`` word (a planted
    token) not among them], ``size`` entries at most: a reserved word always gets an id."""
    if size < 2 + len(reserved):
        raise ValueError(f"vocab_size={size} leaves no room for PAD, UNK and the planted tokens {list(reserved)}")
    counts = collections.Counter(w for doc in docs for w in doc)
    extra = [w for w in dict.fromkeys(reserved) if w not in (PAD, UNK)]
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    room = size - 2 - sum(1 for w in extra if w not in ranked[:size - 2])
    top = ranked[:room]
    return [PAD, UNK, *top, *[w for w in extra if w not in top]]


def encode(docs: Sequence[Sequence[str]], vocab: Sequence[str], max_len: int) -> np.ndarray:
    """Token ids [N, max_len] int64: truncated at max_len, padded with PAD_ID; unknown words UNK_ID."""
    index = {w: i for i, w in enumerate(vocab)}
    out = np.full((len(docs), max_len), PAD_ID, dtype=np.int64)
    for i, doc in enumerate(docs):
        ids = [index.get(w, UNK_ID) for w in doc[:max_len]]
        out[i, :len(ids)] = ids
    return out


def vocab_array(vocab: Sequence[str]) -> np.ndarray:
    """The vocabulary as an h5-storable array of utf-8 bytes (h5py cannot store numpy unicode)."""
    return np.array([w.encode("utf-8") for w in vocab], dtype="S")


def vocab_list(array: np.ndarray) -> list[str]:
    return [w.decode("utf-8") if isinstance(w, bytes) else str(w) for w in np.asarray(array).tolist()]


# ----------------------------------------------------------------------------- the resume corpus: readers
def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def parse_resume_samples(text: str, where: str) -> tuple[list[str], list[list[str]], dict[str, int]]:
    """Lines ``ref:::occ1;occ2;...:::text`` -> texts, occupation lists, counts of odd lines.

    A line without ':::' that follows a record continues that record's text (a resume whose
    text held a line break); a line with ':::' but not three fields is malformed. A file
    whose first line is not a record, or with more than 1% malformed lines, is not in this
    format: SourceError naming it and the first bad line."""
    texts: list[str] = []
    labels: list[list[str]] = []
    counts = {"continuation": 0, "malformed": 0}
    first_bad = None
    n_lines = 0
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines(): text may hold \x0c or \u2028
        line = line.rstrip("\r")
        if not line.strip():
            continue
        n_lines += 1
        parts = line.split(":::", 2)
        if len(parts) == 3:
            texts.append(parts[2])
            labels.append([o.strip() for o in parts[1].split(";") if o.strip()])
        elif ":::" not in line and texts:
            texts[-1] += "\n" + line
            counts["continuation"] += 1
        else:
            counts["malformed"] += 1
            first_bad = first_bad or (number, line[:80])
            if not texts:
                break
    if not texts or counts["malformed"] > 0.01 * n_lines:
        at = f"; line {first_bad[0]} reads {first_bad[1]!r}" if first_bad else ""
        raise SourceError(f"resumes: {where} is not in the resume_samples format (one resume a line: "
                          f"'reference:::occupation;occupation;...:::text'){at}")
    return texts, labels, counts


def parse_lab(text: str) -> list[str]:
    """A .lab file: occupations one a line (or separated by commas)."""
    return [o.strip() for line in text.splitlines() for o in line.split(",") if o.strip()]


def _pairs(names: Iterable[str], read, where: str) -> tuple[list[str], list[list[str]]]:
    """The NAME.txt / NAME.lab layout: texts and occupation lists, in name order."""
    names = set(names)
    stems = sorted(n[:-4] for n in names if n.endswith(".txt"))
    paired = [s for s in stems if s + ".lab" in names]
    if not paired:
        raise SourceError(f"resumes: {where} holds neither {RESUMES['member']} nor pairs of NAME.txt and NAME.lab "
                          f"files (the layouts of resume_samples.zip and resumes_corpus.zip)")
    if len(paired) < len(stems):
        log.warning("resumes: %d .txt files in %s have no .lab file and are left out", len(stems) - len(paired), where)
    texts = [_decode(read(s + ".txt")) for s in paired]
    labels = [parse_lab(_decode(read(s + ".lab"))) for s in paired]
    return texts, labels


def read_resumes_zip(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            samples = [n for n in names if Path(n).name == RESUMES["member"]]
            if samples:
                texts, labels, counts = parse_resume_samples(_decode(z.read(samples[0])), f"{path}:{samples[0]}")
                _log_counts(counts, f"{path}:{samples[0]}")
                return texts, labels
            return _pairs(names, z.read, str(path))
    except zipfile.BadZipFile as exc:
        raise SourceError(f"resumes: {path} is not a readable zip archive ({exc}); replace it") from exc


def read_resumes_file(path: Path) -> tuple[list[str], list[list[str]]]:
    texts, labels, counts = parse_resume_samples(_decode(path.read_bytes()), str(path))
    _log_counts(counts, str(path))
    return texts, labels


def read_resumes_directory(folder: Path) -> tuple[list[str], list[list[str]]]:
    samples = folder / RESUMES["member"]
    if samples.is_file():
        return read_resumes_file(samples)
    files = {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.suffix in (".txt", ".lab") and p.is_file()}
    return _pairs(files, lambda n: files[n].read_bytes(), str(folder))


def _log_counts(counts: Mapping[str, int], where: str) -> None:
    if counts.get("continuation"):
        log.info("resumes: %s: %d lines continue the previous resume's text", where, counts["continuation"])
    if counts.get("malformed"):
        log.warning("resumes: %s: %d malformed lines (':::' but not 3 fields) left out", where, counts["malformed"])


def first_label(occupations: Sequence[str]) -> str | None:
    """The one label of a multi-label resume: its first listed occupation (see the module docstring)."""
    return occupations[0] if occupations else None


def resumes_file(source: Mapping[str, Any], data_dir: str) -> Path:
    """The file a resumes source reads (the zip, the text file or the folder), fetched if need be."""
    kind = source["kind"]
    alternatives = (f"set sources.resumes to {{kind: archive, path: .../{RESUMES['archive']}}} or {{kind: directory, "
                    f"path: ...}} with a copy from {RESUMES['repository']}, or use the offline stand-in "
                    f"{{kind: standin}} ({WORDNET['install']})")
    if kind == "download":
        target = Path(data_dir) / "resumes" / RESUMES["archive"]
        if not target.exists():
            _download(source.get("url", RESUMES["url"]), target, f"Without internet, {alternatives}")
        return target
    if kind in ("archive", "directory"):
        if not source.get("path"):
            raise SourceError(f"sources.resumes: kind '{kind}' needs a 'path'; {alternatives}")
        return _require(Path(source["path"]), f"resumes ({kind} source)",
                        f"Stage {RESUMES['archive']} (or resume_samples.txt, or the extracted resumes_corpus.zip) "
                        f"there, or {alternatives}.")
    raise SourceError(f"sources.resumes: unknown kind '{kind}' ({', '.join(KINDS)})")


def staged_file(source: Mapping[str, Any]) -> Path | None:
    """The file that stands for a staged resumes source in provenance: the zip or text file itself,
    or a directory's resume_samples.txt; None for a folder of .txt/.lab pairs and the other kinds."""
    if source.get("kind") not in ("archive", "directory") or not source.get("path"):
        return None
    path = Path(source["path"])
    if path.is_dir():
        path = path / RESUMES["member"]
    return path if path.is_file() else None


def load_resumes(source: Mapping[str, Any], data_dir: str, classes: Sequence[str] | None = None) -> Corpus:
    """The resume corpus with one label per resume (its first occupation), or its stand-in (which
    reads only the WordNet files that ``classes`` need)."""
    if source["kind"] == "standin":
        parts = sorted({c.split(".")[0] for c in classes}) if classes else tuple(WORDNET["files"])
        unknown = [c for c in classes or () if c not in WORDNET["lexnames"]]
        if unknown:
            raise SourceError(f"resumes STAND-IN: classes {unknown} are not WordNet lexicographer files (known: "
                              f"{', '.join(WORDNET['lexnames'])})")
        return load_wordnet(source.get("path", WORDNET["path"]), parts)
    path = resumes_file(source, data_dir)
    checksums = {}
    if path.is_file():
        checksum = sha256_file(path)
        expected = source.get("sha256", RESUMES["sha256"] if source["kind"] == "download" else None)
        if expected and checksum != expected:
            raise SourceError(f"resumes: {path} has sha256 {checksum}, expected {expected} (sources.resumes.sha256"
                              f"{'' if source.get('sha256') else ', default: the pinned download'}); the file is "
                              f"corrupt or not the published one: delete or replace it, or set sources.resumes.sha256")
        checksums[str(path)] = checksum
        texts, occupations = read_resumes_zip(path) if zipfile.is_zipfile(path) else read_resumes_file(path)
    else:
        texts, occupations = read_resumes_directory(path)
    labels = [first_label(o) for o in occupations]
    keep = [i for i, lab in enumerate(labels) if lab is not None]
    if len(keep) < len(labels):
        log.warning("resumes: %d resumes list no occupation and are left out", len(labels) - len(keep))
        texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    kind = {"download": "official archive", "archive": "staged copy", "directory": "local directory"}[source["kind"]]
    return Corpus(list(texts), list(labels), f"Resumes, Jiechieu & Tsopze 2021 ({kind})", False, checksums)


# ----------------------------------------------------------------------------- staged sources, checked early
def check_staged(name: str, source: Mapping[str, Any]) -> list[str]:
    """The files of a staged text source (for the prepare job's inputs), or one SourceError saying what to
    put where; called when the workflow is planned, so a missing corpus stops it before any job.

    ``resumes`` (kinds archive, directory): the copy at ``path``. ``wordnet`` (kind directory; read
    when ``resumes`` is the stand-in): the WordNet folder with data.noun, ... Other kinds: nothing
    staged (a download is fetched by the prepare job)."""
    kind = source.get("kind")
    if name == "wordnet":
        if kind != "directory":
            raise SourceError(f"sources.wordnet: kind '{kind}' is not supported; use {{kind: directory, path: "
                              f"{WORDNET['path']}}}")
        folder = Path(source.get("path") or WORDNET["path"])
        files = [folder / f for f in WORDNET["files"].values() if (folder / f).is_file()]
        if not files:
            raise SourceError(f"sources.wordnet: {folder} holds none of {', '.join(WORDNET['files'].values())}: the "
                              f"text STAND-IN needs WordNet 3.0; install it with '{WORDNET['install']}' (files in "
                              f"{WORDNET['path']}), or point sources.wordnet.path at a WordNet dict folder")
        return [str(f) for f in files]
    if kind in ("archive", "directory"):
        path = resumes_file(source, "")
        staged = staged_file(source)
        return [str(staged)] if staged else [str(path)]
    if kind not in KINDS:
        raise SourceError(f"sources.resumes: unknown kind '{kind}' ({', '.join(KINDS)})")
    return []


# ----------------------------------------------------------------------------- the stand-in: WordNet definitions
def read_wordnet_data(path: Path, pos: str) -> tuple[list[str], list[str]]:
    """A WordNet 3.0 ``data.<pos>`` file (wndb(5WN)): license lines start with two spaces; a synset
    line is ``offset lex_filenum ss_type w_cnt word lex_id ... p_cnt pointers... | gloss``.
    Returns the glosses and their lexicographer file names."""
    lexnames, allowed = WORDNET["lexnames"], WORDNET["ss_types"][pos]
    texts, labels = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if line.startswith("  ") or not line.strip():
                continue
            head, bar, gloss = line.partition(" | ")
            fields = head.split()
            if not bar or len(fields) < 4 or not fields[0].isdigit() or not fields[1].isdigit() \
                    or fields[2] not in allowed:
                raise SourceError(f"WordNet: {path} line {number} is not a data.{pos} synset line "
                                  f"('offset lex_filenum ss_type ... | gloss'): {line[:80]!r}")
            lexnum = int(fields[1])
            if lexnum >= len(lexnames) or not lexnames[lexnum].startswith(pos):
                raise SourceError(f"WordNet: {path} line {number}: lexicographer file number {lexnum} is outside "
                                  f"the {pos} files of lexnames(5WN) (known: 00-{len(lexnames) - 1:02d})")
            texts.append(gloss.strip())
            labels.append(lexnames[lexnum])
    return texts, labels


def load_wordnet(folder: str | Path, parts: Sequence[str] = ("noun", "verb", "adj", "adv")) -> Corpus:
    """WordNet definitions labelled by lexicographer file, from every ``data.<pos>`` in ``folder``."""
    folder = Path(folder)
    hint = (f"The offline stand-in reads WordNet 3.0 from Debian's {WORDNET['package']}: run "
            f"'{WORDNET['install']}' (files in {WORDNET['path']}), or set sources.resumes.path to a WordNet dict "
            f"folder with data.noun, or use a real resumes source (kind download, archive or directory)")
    _require(folder, "resumes STAND-IN (WordNet)", hint)
    texts, labels, checksums = [], [], {}
    for pos in parts:
        path = folder / WORDNET["files"][pos]
        if not path.exists():
            continue
        t, lab = read_wordnet_data(path, pos)
        texts += t
        labels += lab
        checksums[str(path)] = sha256_file(path)
    if not checksums:
        raise SourceError(f"resumes STAND-IN (WordNet): {folder} holds none of "
                          f"{', '.join(WORDNET['files'].values())}. {hint}")
    return Corpus(texts, labels, f"Resumes STAND-IN (WordNet 3.0 definitions labelled by lexicographer file; not "
                                 f"resumes) from {folder}", True, checksums)
