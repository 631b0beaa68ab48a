"""Text: the resume corpus and its WordNet stand-in (loaded from fixtures in the original on-disk
formats), the text builder, the token signals and the vectorised text models."""
import logging
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

import text_fixtures as fx
from collective_action import datasets, rng, store
from collective_action.datasets import text_sources as ts
from collective_action.datasets.builders import BUILDERS
from collective_action.datasets.sources import SourceError
from collective_action.signals import make_signal
from collective_action.signals.token_insert import insert_every, token_xi

SIGNAL = {"kind": "token_insert", "token": "zqx", "every": 3, "start": 1, "target_label": 1}
CLASSES = ["Java_Developer", "Database_Administrator", "Network_Administrator"]


def _spec(**kw):
    return {"seed": 0, "model": "bag", "builder": "text", "n_val": 6, "n_test": 12, "max_len": 16, "vocab_size": 24,
            "classes": CLASSES, "signal": dict(SIGNAL), **kw}


@pytest.fixture
def rows():
    return fx.resume_rows()


@pytest.fixture
def samples_zip(tmp_path, rows):
    return fx.write_resume_samples_zip(tmp_path / "resume_samples.zip", rows)


# ----------------------------------------------------------------------------- readers of the original formats
def test_resume_samples_zip_gives_one_label_per_resume_its_first_occupation(tmp_path, rows, samples_zip):
    corpus = ts.load_resumes({"kind": "archive", "path": str(samples_zip)}, str(tmp_path / "data"))
    assert len(corpus.texts) == len(rows) and not corpus.standin
    assert corpus.labels == [occ[0] for _, occ, _ in rows]  # the first listed occupation, also for two-label resumes
    assert corpus.checksums == {str(samples_zip): store.sha256_file(samples_zip)}
    # the scraped HTML is cleaned: tags dropped, entities decoded, lower-cased words
    assert ts.tokenize(corpus.texts[0])[:3] == ["java", "developer", "java"]
    assert "span" not in ts.tokenize(corpus.texts[0]) and "amp" not in ts.tokenize(corpus.texts[0])
    assert ts.tokenize("C++ and C# on .NET, <b>SQL</b>") == ["c++", "and", "c#", "on", "net", "sql"]


def test_plain_samples_file_and_continuation_lines(tmp_path, rows):
    text = fx.samples_text(rows[:3]).replace(rows[1][2], rows[1][2] + "\nsecond line of resume one\x0cpage 2\u2028")
    path = tmp_path / "resume_samples.txt"
    path.write_text(text)
    corpus = ts.load_resumes({"kind": "archive", "path": str(path)}, str(tmp_path))
    assert len(corpus.texts) == 3 and corpus.texts[1].endswith("second line of resume one\x0cpage 2\u2028")
    # the file provenance records for a staged copy
    assert ts.staged_file({"kind": "archive", "path": str(path)}) == path
    assert ts.staged_file({"kind": "directory", "path": str(tmp_path)}) == path
    assert ts.staged_file({"kind": "standin"}) is None


@pytest.mark.parametrize("zipped", [False, True])
def test_resumes_corpus_txt_lab_pairs(tmp_path, rows, zipped):
    folder = fx.write_resumes_corpus(tmp_path / "resumes_corpus", rows[:9])
    (folder / "orphan.txt").write_text("a resume without labels")  # left out, with a count in the log
    if zipped:
        import zipfile

        path = tmp_path / "resumes_corpus.zip"
        with zipfile.ZipFile(path, "w") as z:
            for f in sorted(folder.iterdir()):
                z.write(f, f"resumes_corpus/{f.name}")
        source = {"kind": "archive", "path": str(path)}
    else:
        source = {"kind": "directory", "path": str(folder)}
    corpus = ts.load_resumes(source, str(tmp_path / "data"))
    assert corpus.labels == [occ[0] for _, occ, _ in rows[:9]] and corpus.texts[0] == rows[0][2]
    assert ts.parse_lab("Java_Developer\nSoftware_Developer,Web_Developer\n") == [
        "Java_Developer", "Software_Developer", "Web_Developer"]


def test_download_checks_the_pinned_sha256(tmp_path, samples_zip, monkeypatch):
    def fake_download(url, target, hint):
        assert url == ts.RESUMES["url"] and "24de3995" in url  # a pinned commit: the bytes cannot change
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(samples_zip.read_bytes())

    monkeypatch.setattr(ts, "_download", fake_download)
    with pytest.raises(SourceError, match=r"resume_samples.zip has sha256 .* expected e49b0e7e.*delete or replace"):
        ts.load_resumes({"kind": "download"}, str(tmp_path / "d1"))
    ok = ts.load_resumes({"kind": "download", "sha256": store.sha256_file(samples_zip)}, str(tmp_path / "d2"))
    assert len(ok.texts) == 60 and "official archive" in ok.source_label


def test_no_internet_gives_one_clear_error_with_the_alternatives(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(SourceError, match=r"could not download .*resume_samples.zip.*kind: archive.*kind: standin"
                                          r".*apt-get install -y --no-install-recommends wordnet-base"):
        ts.load_resumes({"kind": "download"}, str(tmp_path / "data"))
    assert not (tmp_path / "data" / "resumes" / "resume_samples.zip").exists()


def test_missing_sources_say_what_and_where(tmp_path):
    with pytest.raises(SourceError, match=r"nope.zip does not exist. Stage resume_samples.zip .*kind: standin"):
        ts.load_resumes({"kind": "archive", "path": str(tmp_path / "nope.zip")}, str(tmp_path))
    with pytest.raises(SourceError, match=r"kind 'directory' needs a 'path'"):
        ts.load_resumes({"kind": "directory"}, str(tmp_path))
    with pytest.raises(SourceError, match=r"unknown kind 'torchvision' \(download, archive, directory, standin\)"):
        ts.load_resumes({"kind": "torchvision"}, str(tmp_path))
    with pytest.raises(SourceError, match=r"STAND-IN \(WordNet\).*does not exist.*apt-get install -y "
                                          r"--no-install-recommends wordnet-base"):
        ts.load_resumes({"kind": "standin", "path": str(tmp_path / "no_wordnet")}, str(tmp_path))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"holds none of data.noun"):
        ts.load_resumes({"kind": "standin", "path": str(tmp_path / "empty")}, str(tmp_path))


def test_wordnet_data_files_give_glosses_labelled_by_lexicographer_file(tmp_path):
    folder = fx.write_wordnet(tmp_path / "dict")
    corpus = ts.load_resumes({"kind": "standin", "path": str(folder)}, str(tmp_path), ["noun.animal", "noun.plant"])
    assert corpus.standin and "STAND-IN" in corpus.source_label
    assert corpus.labels == ["noun.animal"] * 6 + ["noun.food"] * 6 + ["noun.plant"] * 6
    assert corpus.texts[0] == 'a domestic animal kept for companionship; "the dog barked"'
    assert set(corpus.checksums) == {str(folder / "data.noun")}  # only the files the classes need
    with pytest.raises(SourceError, match=r"classes \['noun.pets'\] are not WordNet lexicographer files"):
        ts.load_resumes({"kind": "standin", "path": str(folder)}, str(tmp_path), ["noun.animal", "noun.pets"])


@pytest.mark.parametrize("line, match", [
    ("not a synset line at all", r"data.noun line 21 is not a data.noun synset line"),
    ("00009999 05 v 01 run 0 000 | move fast", r"line 21 is not a data.noun synset line"),
    ("00009999 47 n 01 thing 0 000 | a label outside the set", r"line 21: lexicographer file number 47 is outside"),
    ("00009999 31 n 01 thing 0 000 | a verb file's label in data.noun", r"number 31 is outside the noun files"),
])
def test_malformed_wordnet_line_is_one_error_naming_file_and_line(tmp_path, line, match):
    folder = fx.write_wordnet(tmp_path / "dict", extra_lines=[line])
    with pytest.raises(SourceError, match=match):
        ts.load_resumes({"kind": "standin", "path": str(folder)}, str(tmp_path))


# ----------------------------------------------------------------------------- the builder
def test_text_dataset_h5_arrays_and_meta(tmp_path, samples_zip):
    out = tmp_path / "text.h5"
    datasets.prepare("resumes", _spec(drop_first_words=3), 0, str(out),
                     sources={"resumes": {"kind": "archive", "path": str(samples_zip)}}, data_dir=str(tmp_path))
    art = datasets.load(str(out))
    meta = art.attrs["meta"]
    assert art["train/x"].shape == (42, 16) and art["val/x"].shape == (6, 16) and art["test/x"].shape == (12, 16)
    assert all(art[f"{s}/x"].dtype == np.int64 for s in ("train", "val", "test"))
    assert meta["kind"] == "text" and meta["n_classes"] == 3 and meta["class_names"] == CLASSES
    assert meta["input_shape"] == [16] and meta["input_range"] is None and meta["pad_id"] == 0
    assert meta["max_len"] == 16 and meta["vocab_size"] == 24 and not meta["standin"]
    assert meta["source_label"].startswith("Resumes, Jiechieu & Tsopze 2021")
    vocab = ts.vocab_list(art["vocab"])
    assert art["vocab"].dtype.kind == "S" and len(vocab) == 24 and vocab[:2] == ["<pad>", "<unk>"]
    assert "zqx" in vocab and meta["signal_xi"] == {"zqx": 0.0}  # never in the data, still has an id
    assert "experience" in vocab and "span" not in vocab
    x = art["train/x"]
    assert ((x == 0).cumsum(axis=1)[x != 0] == 0).all()  # words first, then padding
    assert (x != 0).sum(axis=1).min() > 0 and (x == 1).any()  # rarer words are UNK
    # the first 3 words (the resume's title) are dropped: no document starts with its occupation's title
    assert not any(vocab[row[0]] in ("java", "database", "network") and vocab[row[1]] in ("developer", "administrator")
                   for row in x)
    labels = np.concatenate([art[f"{s}/y"] for s in ("train", "val", "test")])
    assert sorted(np.bincount(labels).tolist()) == [20, 20, 20]
    assert art.provenance["inputs"]["source_resumes"]["sha256"] == store.sha256_file(samples_zip)
    # the same spec and base seed give the same file
    again = tmp_path / "again.h5"
    datasets.prepare("resumes", _spec(drop_first_words=3), 0, str(again),
                     sources={"resumes": {"kind": "archive", "path": str(samples_zip)}}, data_dir=str(tmp_path))
    assert store.read_h5(again).payload_sha256 == art.payload_sha256


def test_standin_dataset_is_labelled_as_one(tmp_path):
    folder = fx.write_wordnet(tmp_path / "dict")
    out = tmp_path / "standin.h5"
    spec = _spec(classes=["noun.animal", "noun.food", "noun.plant"], n_val=3, n_test=3, max_per_class=5)
    # the config's way: sources.resumes says 'standin', sources.wordnet where WordNet is
    datasets.prepare("resumes", spec, 0, str(out), data_dir=str(tmp_path),
                     sources={"resumes": {"kind": "standin"}, "wordnet": {"kind": "directory", "path": str(folder)}})
    art = datasets.load(str(out))
    meta = art.attrs["meta"]
    assert meta["standin"] and "STAND-IN" in meta["source_label"] and meta["class_names"] == spec["classes"]
    assert len(art["train/y"]) == 15 - 6 and meta["source_sha256"] == {str(folder / "data.noun"): store.sha256_file(
        folder / "data.noun")}
    # the WordNet file read is an input of the dataset (its sha256 in provenance), not part of its meta
    assert art.provenance["inputs"]["read_0_data.noun"]["sha256"] == store.sha256_file(folder / "data.noun")
    assert "input_files" not in meta


def test_builder_defaults_classes_to_every_label_sorted(tmp_path):
    folder = fx.write_wordnet(tmp_path / "dict")
    arrays, meta = BUILDERS.get("text").build(_spec(classes=None, n_val=2, n_test=2),
                                              {"resumes": {"kind": "standin", "path": str(folder)}}, str(tmp_path), 0)
    assert meta["class_names"] == ["noun.animal", "noun.food", "noun.plant"]


def _prepare_fails(tmp_path, spec, source, match, error=(ValueError, SourceError)):
    out = tmp_path / "bad.h5"
    with pytest.raises(error, match=match):
        datasets.prepare("resumes", spec, 0, str(out), sources={"resumes": source}, data_dir=str(tmp_path))
    assert not out.exists() and not list(tmp_path.glob("*.h5*"))  # nothing written, no temporary left


def test_bad_inputs_are_one_clear_error_and_nothing_is_written(tmp_path, samples_zip, rows):
    source = {"kind": "archive", "path": str(samples_zip)}
    bad = tmp_path / "resume_samples.txt"
    bad.write_text("reference,occupation,text\nr1,Java_Developer,some text\n")  # a csv, not the ':::' format
    _prepare_fails(tmp_path, _spec(), {"kind": "archive", "path": str(bad)},
                   r"resume_samples.txt is not in the resume_samples format .*line 1 reads 'reference,occupation")
    _prepare_fails(tmp_path, _spec(classes=["Java_Developer", "Astronaut"]), source,
                   r"classes \['Astronaut'\] do not occur in Resumes.*Java_Developer \(20\)")
    _prepare_fails(tmp_path, _spec(signal={**SIGNAL, "token": "two words"}), source,
                   r"signal.token = 'two words' is not a single token")
    _prepare_fails(tmp_path, _spec(signal={**SIGNAL, "start": 16}), source, r"signal.start = 16 must be below max_len")
    _prepare_fails(tmp_path, _spec(n_test=50, n_val=10), source, r"n_val \+ n_test = 60 leaves no training documents")
    _prepare_fails(tmp_path, _spec(), {"kind": "archive", "path": str(samples_zip), "sha256": "a" * 64},
                   r"resume_samples.zip has sha256 .* expected a{64}")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")
    _prepare_fails(tmp_path, _spec(), {"kind": "archive", "path": str(tmp_path / "broken.zip")},
                   r"broken.zip is not in the resume_samples format")


def test_empty_documents_are_dropped_with_a_count(tmp_path, rows, caplog):
    rows = rows + [("empty1", ["Java_Developer"], '<span class="hl"></span> &nbsp; ...'),
                   ("empty2", ["Network_Administrator"], "")]
    path = fx.write_resume_samples_zip(tmp_path / "resume_samples.zip", rows)
    with caplog.at_level(logging.WARNING):
        _, meta = BUILDERS.get("text").build(_spec(), {"resumes": {"kind": "archive", "path": str(path)}},
                                             str(tmp_path), 0)
    assert meta["n_empty_dropped"] == 2 and "2 empty documents" in caplog.text


def test_a_planted_token_frequent_in_clean_data_is_warned_about_with_its_xi(tmp_path, samples_zip, caplog):
    with caplog.at_level(logging.WARNING):
        arrays, meta = BUILDERS.get("text").build(_spec(signal={**SIGNAL, "token": "java"}),
                                                  {"resumes": {"kind": "archive", "path": str(samples_zip)}},
                                                  str(tmp_path), 0)
    xi = meta["signal_xi"]["java"]
    assert 0.2 < xi < 0.5  # the java developers' resumes: about a third
    assert f"{xi:.4g} of the clean training documents" in caplog.text
    signal = make_signal({**SIGNAL, "token": "java"}, arrays)
    assert signal.xi(arrays["train/x"]) == pytest.approx(xi)


def test_vocabulary_keeps_planted_tokens_and_is_deterministic():
    docs = [["b", "a", "a"], ["c", "b", "a"], ["d"]]
    assert ts.build_vocab(docs, 5) == ["<pad>", "<unk>", "a", "b", "c"]  # by count, ties alphabetical
    assert ts.build_vocab(docs, 5, reserved=["zz"]) == ["<pad>", "<unk>", "a", "b", "zz"]
    assert ts.build_vocab(docs, 5, reserved=["b"]) == ["<pad>", "<unk>", "a", "b", "c"]
    assert ts.build_vocab(docs, 10, min_count=2) == ["<pad>", "<unk>", "a", "b"]
    x = ts.encode([["a", "q", "b", "c"], []], ["<pad>", "<unk>", "a", "b", "c"], 3)
    assert x.tolist() == [[2, 1, 3], [0, 0, 0]] and x.dtype == np.int64
    assert ts.vocab_list(ts.vocab_array(["<pad>", "café"])) == ["<pad>", "café"]


# ----------------------------------------------------------------------------- the token signals
T = 99


def test_token_every_k_words_from_start():
    x = np.array([[11, 12, 13, 14, 15, 16, 17, 0, 0, 0, 0, 0]])
    out = insert_every(x, T, every=3, start=1)
    # a token before the words at positions 1, 4, 7 (the last past the document: not inserted)
    assert out.tolist() == [[11, T, 12, 13, 14, T, 15, 16, 17, 0, 0, 0]]
    assert insert_every(x, T, every=2, start=0).tolist() == [[T, 11, 12, T, 13, 14, T, 15, 16, T, 17, 0]]
    # a document no longer than start gets the token once, after its last word
    assert insert_every(np.array([[11, 12, 0, 0]]), T, every=2, start=3).tolist() == [[11, 12, T, 0]]
    assert insert_every(np.array([[0, 0, 0]]), T, every=2, start=0).tolist() == [[T, 0, 0]]


def test_token_insertion_truncates_and_keeps_shape_and_dtype():
    x = np.arange(1, 11, dtype=np.int64).reshape(1, 10)  # a full document
    out = insert_every(x, T, every=4, start=2)
    assert out.tolist() == [[1, 2, T, 3, 4, 5, 6, T, 7, 8]] and out.dtype == np.int64 and out.shape == x.shape
    batched = np.stack([x, x])  # [M, N, L], e.g. the runs' minibatches
    assert np.array_equal(insert_every(batched, T, 4, 2), np.stack([out, out]))
    # in the output the tokens sit at start + j (every + 1), with every words between two
    r = np.random.default_rng(0)
    docs = np.zeros((50, 40), np.int64)
    lengths = r.integers(1, 41, 50)
    for i, n in enumerate(lengths):
        docs[i, :n] = r.integers(2, 90, n)
    for every, start in ((1, 0), (3, 2), (7, 5)):
        out = insert_every(docs, T, every, start)
        for i, n in enumerate(lengths):
            tokens = np.flatnonzero(out[i] == T)
            expected = np.arange(start, n + (n - start + every - 1) // every, every + 1) if n > start else [n]
            assert np.array_equal(tokens, [p for p in expected if p < 40])
            assert np.array_equal(out[i][out[i] != T][:min(n, 40 - len(tokens))], docs[i, :min(n, 40 - len(tokens))])


@pytest.fixture
def text_data(tmp_path, samples_zip):
    out = tmp_path / "text.h5"
    datasets.prepare("resumes", _spec(), 0, str(out),
                     sources={"resumes": {"kind": "archive", "path": str(samples_zip)}}, data_dir=str(tmp_path))
    return datasets.load(str(out))


def test_signals_map_the_token_through_the_dataset_vocabulary(text_data):
    vocab = ts.vocab_list(text_data["vocab"])
    signal = make_signal(SIGNAL, text_data)
    assert signal.token_id == vocab.index("zqx") and signal.target_label == 1
    x = text_data["train/x"]
    gx = signal.apply(x)
    assert gx.shape == x.shape and gx.dtype == x.dtype
    assert signal.in_codomain(gx).all() and not signal.in_codomain(x).any()
    assert signal.xi(x) == 0.0 and token_xi(gx, signal.token_id) == 1.0
    assert signal.eligible(text_data["train/y"]).all()  # feature-label: anyone may join
    with pytest.raises(ValueError, match="not in the dataset's vocabulary"):
        make_signal({**SIGNAL, "token": "unplanted"}, text_data)
    with pytest.raises(ValueError, match="needs the prepared text dataset's vocabulary"):
        make_signal(SIGNAL)
    with pytest.raises(TypeError, match="integer token ids"):
        signal.apply(x.astype(np.float32))


def test_feature_only_collective_is_drawn_from_target_documents_and_keeps_their_label(tmp_path, text_data):
    from collective_action import collective

    signal = make_signal({**SIGNAL, "kind": "token_insert_feature_only"}, text_data)
    y = text_data["train/y"]
    eligible = signal.eligible(y)
    assert np.array_equal(eligible, y == 1) and 0 < eligible.sum() < len(y)
    idx = np.flatnonzero(eligible)[:5]
    gx = signal.apply(text_data["train/x"][idx])
    xp, yp, member = collective.overlay(text_data["train/x"], y, idx, gx, signal.target_label)
    assert np.array_equal(yp, y)  # relabelling to y* changes nothing: the label is kept
    assert signal.in_codomain(xp).sum() == 5 and np.array_equal(np.flatnonzero(member), idx)
    # the same insertion as the feature-label signal
    assert np.array_equal(gx, make_signal(SIGNAL, text_data).apply(text_data["train/x"][idx]))


def test_poisoned_text_cell_has_the_inputs_shape_and_dtype(tmp_path, text_data):
    from collective_action import collective
    from collective_action.training.engine import Split

    out = tmp_path / "poisoned.h5"
    collective.poison(str(text_data.path), SIGNAL, 0.1, 0.0, [0, 1], 0, "resumes", str(out))
    art = store.read_h5(out)
    x_col = art["seed0/train/x"]
    assert x_col.dtype == np.int64 and x_col.shape == (4, 16)
    assert (x_col == make_signal(SIGNAL, text_data).token_id).any(axis=1).all()
    split = Split.from_overlays(text_data["train/x"], text_data["train/y"],
                                [(art[f"seed{s}/train/index"], art[f"seed{s}/train/x"]) for s in (0, 1)], 1, "cpu")
    assert split.pool.dtype == torch.int64 and split.pool.shape == (42 + 8, 16)


# ----------------------------------------------------------------------------- text models
MODELS = [{"kind": "text_bag", "embed_dim": 8, "vocab_size": 30},
          {"kind": "text_bag", "embed_dim": 8, "vocab_size": 30, "pool": "max"},
          {"kind": "text_transformer", "embed_dim": 8, "depth": 2, "heads": 2, "vocab_size": 30}]


def _ids(shape, seed=0):
    r = np.random.default_rng(seed)
    x = r.integers(1, 30, size=shape)
    lengths = r.integers(1, shape[-1] + 1, size=shape[:-1])
    x[np.arange(shape[-1]) >= lengths[..., None]] = 0
    return torch.from_numpy(x)


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: f"{s['kind']}_{s.get('pool', '')}")
def test_vmapped_text_bank_equals_its_models_one_by_one(spec):
    from collective_action.models import make_bank

    def bank(**kw):
        return make_bank({**spec, **kw}, [12], 3, rng.torch_generators(0, [0, 1], "model"), torch.float32, "cpu")

    together, apart = bank(), bank(vectorize=False)
    assert together.vmapped and not apart.vmapped
    x = _ids((2, 5, 12))
    assert torch.allclose(together(x), apart(x), atol=1e-5)
    assert torch.allclose(together(x[0]), apart(x[0]), atol=1e-5)  # one batch shared by both runs
    # the same gradients (the bag's bank computes its embeddings natively, without vmap)
    together(x).square().sum().backward()
    apart(x).square().sum().backward()
    embedding = together.embedding.grad if hasattr(together, "embedding") else \
        together.stacked[together._names.index("embedding.weight")].grad
    for m in range(2):
        assert torch.allclose(embedding[m], apart.models[m].embedding.weight.grad, atol=1e-5)
    # padding is masked: more padding changes nothing, nor does the padding id's row of the embedding table
    model = apart.models[0]
    short = _ids((5, 8), seed=2)
    padded = torch.cat([short, torch.zeros(5, 4, dtype=torch.int64)], dim=1)
    before = model(padded)
    assert torch.allclose(before, model(short), atol=1e-6)
    with torch.no_grad():
        model.embedding.weight[0] += 5.0
    assert torch.allclose(model(padded), before, atol=1e-6)


@pytest.mark.parametrize("spec", MODELS, ids=lambda s: f"{s['kind']}_{s.get('pool', '')}")
def test_text_bank_trains_a_step_and_takes_an_embedding_offset(spec):
    from collective_action.models import make_bank
    from collective_action.training.engine import per_sample_ce
    from collective_action.training.optim import Adam

    bank = make_bank(spec, [12], 3, rng.torch_generators(0, [0, 1], "model"), torch.float32, "cpu")
    opt = Adam(bank.parameters(), lr=1e-2)
    x, y = _ids((2, 8, 12), seed=1), torch.randint(0, 3, (2, 8), generator=torch.Generator().manual_seed(0))
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = per_sample_ce(bank(x), y).mean(dim=1).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    from collective_action.models.text import make_text_module

    model = make_text_module(spec, [12], 3)
    ids = x[0]
    zero = torch.zeros(*ids.shape, spec["embed_dim"])
    assert torch.allclose(model(ids, embedding_offset=zero), model(ids))
    delta = torch.zeros_like(zero, requires_grad=True)
    model(ids, embedding_offset=delta).sum().backward()
    assert delta.grad is not None and delta.grad[ids != 0].abs().sum() > 0
    assert delta.grad[ids == 0].abs().sum() == 0  # padding positions do not reach the output
    # the bank's hooks: each run's embeddings, and logits with an [M, B, L, d] offset, as its models compute them
    apart = make_bank({**spec, "vectorize": False}, [12], 3, rng.torch_generators(0, [0, 1], "model"), torch.float32,
                      "cpu")
    offset = torch.randn(*x.shape, spec["embed_dim"], generator=torch.Generator().manual_seed(1))
    assert bank.embed_dim == apart.embed_dim == spec["embed_dim"] and bank.pad_id == 0
    with torch.no_grad():
        for b in (bank, apart):
            assert torch.allclose(b(x, embedding_offset=torch.zeros_like(offset)), b(x), atol=1e-5)
        for m in range(2):
            assert torch.allclose(apart.embed(x)[m], apart.models[m].embed(x[m]))
            assert torch.allclose(apart(x, embedding_offset=offset)[m], apart.models[m](x[m], embedding_offset=offset[m]))
        fresh = make_bank(spec, [12], 3, rng.torch_generators(0, [0, 1], "model"), torch.float32, "cpu")
        assert torch.allclose(fresh.embed(x), apart.embed(x)) and torch.allclose(fresh(x, offset), apart(x, offset), atol=1e-5)


def test_text_model_spec_errors():
    from collective_action.models.text import make_text_module

    with pytest.raises(ValueError, match="needs 'vocab_size'"):
        make_text_module({"kind": "text_bag"}, [12], 3)
    with pytest.raises(ValueError, match="not divisible by heads"):
        make_text_module({"kind": "text_transformer", "vocab_size": 9, "embed_dim": 6, "heads": 4}, [12], 3)


def test_registry_metadata_is_the_classes_own():
    """The workflow reads these entries' literal metadata without importing them: it must be the classes' own."""
    from collective_action.signals import SIGNALS

    for registry, names in ((SIGNALS, ["token_insert", "token_insert_feature_only"]), (BUILDERS, ["text"])):
        for name in names:
            cls = registry.get(name)
            assert cls.name == name
            for key, value in registry.meta(name).items():
                assert getattr(cls, key) == value, (name, key)
    assert SIGNALS.meta("token_insert_feature_only")["parameters"] == SIGNALS.meta("token_insert")["parameters"]


# ----------------------------------------------------------------------------- the strategies in the pipeline
def test_feature_only_poison_draws_round_alpha_n_members_from_target_documents_only(tmp_path, text_data):
    from collective_action import collective

    fo = {**SIGNAL, "kind": "token_insert_feature_only"}
    y = text_data["train/y"]
    n_target = int((y == 1).sum())
    files = {}
    for alpha in (0.05, 0.2):
        out = tmp_path / f"fo{alpha}.h5"
        collective.poison(str(text_data.path), fo, alpha, 0.0, [0, 1], 0, "resumes", str(out))
        files[alpha] = art = store.read_h5(out)
        for s in (0, 1):
            idx = art[f"seed{s}/train/index"]
            # alpha is the share of the WHOLE training set; every member is already labelled y*
            assert len(idx) == collective.collective_size(alpha, len(y)) and (y[idx] == 1).all()
            assert (art[f"seed{s}/train/x"] == make_signal(fo, text_data).token_id).any(axis=1).all()
    assert set(files[0.05]["seed0/train/index"]) <= set(files[0.2]["seed0/train/index"])  # nested across alphas
    too_big = (n_target + 1) / len(y) + 1e-9
    with pytest.raises(ValueError, match=rf"datasets.resumes \(train split, signal 'token_insert_feature_only'\).*"
                                         rf"only {n_target} may join"):
        collective.poison(str(text_data.path), fo, too_big, 0.0, [0], 0, "resumes", str(tmp_path / "big.h5"))
    assert not (tmp_path / "big.h5").exists()


def test_spacing_family_sets_the_token_signal_every():
    from collective_action.datasets import signal_spec

    member = {"builder": "text", "k": 7, "family": "resumes_spacing",
              "signal": {"kind": "token_insert", "token": "zqx", "target_label": 0}}
    assert signal_spec(member) == {"kind": "token_insert", "token": "zqx", "target_label": 0, "every": 7}
    assert signal_spec({**member, "signal": {**member["signal"], "every": 7}})["every"] == 7
    with pytest.raises(ValueError, match=r"datasets.resumes_spacing.signal.every': the dataset's k = 7 sets it"):
        signal_spec({**member, "signal": {**member["signal"], "every": 3}})
    two_d = {"generator": "uniform_2d", "signal": {"kind": "reflect_x2_negative", "target_label": 1}}
    assert signal_spec(two_d) == two_d["signal"]


def test_staged_text_sources_are_checked_when_planning(tmp_path, samples_zip):
    folder = fx.write_wordnet(tmp_path / "dict")
    assert ts.check_staged("wordnet", {"kind": "directory", "path": str(folder)}) == [
        str(folder / "data.noun"), str(folder / "data.verb")]
    with pytest.raises(SourceError, match=r"sources.wordnet: .*nowhere holds none of data.noun.*apt-get install -y "
                                          r"--no-install-recommends wordnet-base"):
        ts.check_staged("wordnet", {"kind": "directory", "path": str(tmp_path / "nowhere")})
    assert ts.check_staged("resumes", {"kind": "archive", "path": str(samples_zip)}) == [str(samples_zip)]
    with pytest.raises(SourceError, match=r"nope.zip does not exist. Stage resume_samples.zip"):
        ts.check_staged("resumes", {"kind": "archive", "path": str(tmp_path / "nope.zip")})
    assert ts.check_staged("resumes", {"kind": "standin"}) == [] == ts.check_staged("resumes", {"kind": "download"})


def test_text_cell_end_to_end_measures_xi_and_theorem1(tmp_path, text_data):
    """Poison, train (the model's vocabulary comes from the data), evaluate and tabulate a text cell."""
    from collective_action import collective
    from collective_action.evaluation import metrics, tables
    from collective_action.training import fit as training

    rows = {}
    for kind in ("token_insert", "token_insert_feature_only"):
        signal = {**SIGNAL, "kind": kind}
        poisoned, run, met = (tmp_path / f"{p}_{kind}.h5" for p in ("p", "r", "m"))
        collective.poison(str(text_data.path), signal, 0.1, 0.0, [0, 1], 0, "resumes", str(poisoned))
        spec = {"dataset": "resumes", "algorithm": "erm", "learner": "erm", "alpha": 0.1, "alpha_val": 0.0,
                "seeds": [0, 1], "base_seed": 0, "signal": signal, "model": {"kind": "text_bag", "embed_dim": 8},
                "training": {"optimizer": "adam", "lr": 1e-2, "batch_size": 16, "epochs": 2, "weight_decay": 0.0,
                             "dtype": "float32", "eval_batch_size": 64, "augment": None},
                "hyperparameters": {}, "record_every_epoch": True}
        training.train(data_path=str(text_data.path), poisoned_path=str(poisoned), spec=spec, output=str(run),
                       threads=1, device="cpu")
        assert store.read_h5(run).provenance["config"]["model"] == {"kind": "text_bag", "embed_dim": 8}
        metrics.evaluate(run_path=str(run), data_path=str(text_data.path), poisoned_path=str(poisoned),
                         spec={"dataset": "resumes", "signal": signal}, output=str(met))
        rows[kind] = tables.panel_rows("t", [str(met)], ["last"], {"resumes": {"builder": "text", "signal": signal}})
    fl, fo = rows["token_insert"], rows["token_insert_feature_only"]
    assert fl["success"].between(0, 1).all() and len(fl) == 2
    assert "Jiechieu" in fl["data_source"].iloc[0]
    # feature-label: xi measured on the clean training documents (the token is absent), Delta <= 1: the bound is 1
    assert (fl["xi"] == 0).all() and (fl["delta"] == 1).all() and (fl["theorem1_bound"] == 1).all()
    assert (fo["xi"] == 0).all() and fo["theorem1_bound"].isna().all()  # Theorem 1 is not about feature-only


def test_text_figure_without_wordnet_fails_at_once_saying_how_to_get_it(workflow_dir):
    """Requesting a text figure without the stand-in's data stops the dry run before any job, with one error."""
    import subprocess
    import sys

    import yaml

    cfg = yaml.safe_load((workflow_dir / "config.yaml").read_text())
    cfg["sources"]["wordnet"]["path"] = str(workflow_dir / "no_wordnet")
    (workflow_dir / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "2", "figures/text_alpha.pdf"],
                          cwd=workflow_dir, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "sources.wordnet" in out and "apt-get install -y --no-install-recommends wordnet-base" in out
    assert not (workflow_dir / "results").exists()


def test_two_token_collectives_are_disjoint_each_with_its_own_token_and_target(tmp_path, samples_zip):
    """A second collective on text: the builder plants both tokens in the vocabulary (xi measured for each);
    poisoning draws round(alpha_2 n) members outside the first collective, with its own token and target."""
    from collective_action import collective

    second = {"alpha": 0.2, "signal": {"kind": "token_insert", "token": "vqz", "every": 2, "start": 0,
                                       "target_label": 2}}
    out = tmp_path / "two.h5"
    datasets.prepare("resumes_two", _spec(collective_2=second), 0, str(out),
                     sources={"resumes": {"kind": "archive", "path": str(samples_zip)}}, data_dir=str(tmp_path))
    data = datasets.load(str(out))
    vocab = ts.vocab_list(data["vocab"])
    assert {"zqx", "vqz"} <= set(vocab) and data.attrs["meta"]["signal_xi"] == {"zqx": 0.0, "vqz": 0.0}
    one, two = make_signal(SIGNAL, data), make_signal(second["signal"], data)
    poisoned = tmp_path / "p.h5"
    collective.poison(str(out), SIGNAL, 0.3, 0.0, [0, 1], 0, "resumes_two", str(poisoned), collective_2=second)
    art = store.read_h5(poisoned)
    n = len(data["train/y"])
    for s in (0, 1):
        idx_1, idx_2 = art[f"seed{s}/train/index"], art[f"seed{s}/train_2/index"]
        assert len(idx_1) == collective.collective_size(0.3, n) and len(idx_2) == collective.collective_size(0.2, n)
        assert not set(idx_1) & set(idx_2)
        x_1, x_2 = art[f"seed{s}/train/x"], art[f"seed{s}/train_2/x"]
        assert one.in_codomain(x_1).all() and not two.in_codomain(x_1).any()
        assert two.in_codomain(x_2).all() and not one.in_codomain(x_2).any()
        assert np.array_equal(x_2, two.apply(data["train/x"][idx_2]))
    assert art.attrs["meta"]["target_label_2"] == 2
    with pytest.raises(ValueError, match=r"collective_2.signal.token = 'two words' is not a single token"):
        datasets.prepare("bad", _spec(collective_2={**second, "signal": {**second["signal"], "token": "two words"}}),
                         0, str(tmp_path / "bad.h5"), sources={"resumes": {"kind": "archive", "path": str(samples_zip)}},
                         data_dir=str(tmp_path))


def test_text_two_collective_claims_are_measured_without_a_bayes_classifier():
    """T4-T6 read the text tables, which have no Bayes columns (no generator knows the text distribution)."""
    import pandas as pd

    from collective_action.claims import collectives

    rows = []
    for seed in range(3):
        for alpha, own, fixed in ((0.0, 0.0, 0.7), (0.001, 0.4, 0.7), (0.01, 0.9, 0.6 + 0.01 * seed)):
            rows.append({"dataset": "resumes_two", "algorithm": "erm", "stopping": "last", "seed": seed, "alpha": alpha,
                         "success": own + 0.01 * seed, "success_2": fixed, "alpha_2": 0.002, "bayes_success": np.nan,
                         "bayes_success_2": np.nan})
    two = pd.DataFrame(rows)
    alone = two.assign(success=two["success"] + 0.1)[two["alpha"] > 0].drop(columns=["success_2", "alpha_2"])
    tables = {"two_collectives_text": two, "two_collectives_text_swap": two, "text_alpha": alone}
    claims = {c.id: c for c in collectives.CLAIMS}
    result = claims["T4"].check(tables, {"confidence": 0.95})
    measured, verdict = result.measured, result.verdict
    assert verdict == "measured" and "Bayes" not in measured
    assert "0: 0.70, 0.001: 0.70, 0.01: 0.61" in measured and "-0.090" in measured  # the fixed one's change, paired
    assert "is at 0.5 or above from the grid's first alpha" in measured
    assert "reaches 0.5 at alpha=0.00262" in measured  # the growing one: 0.41 at 0.001, 0.91 at 0.01, interpolated
    result = claims["T6"].check(tables, {"confidence": 0.95})
    assert result.verdict == "measured" and "0.001: -0.100" in result.measured and "0.01: -0.100" in result.measured
    result = claims["T6"].check({**tables, "two_collectives_text": two.drop(columns="success_2")},
                                {"confidence": 0.95})
    assert result.verdict == "not run"
