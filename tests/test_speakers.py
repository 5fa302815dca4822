"""audiomap_lib.speakers (Chapter 6): leave-one-speaker-out folds, test conditions, the study's record."""
from __future__ import annotations

import json
from typing import Any

import pytest
import torch

from audiomap_lib import augment, speakers, training
from audiomap_lib.cnn import LogMelCNN1d
from audiomap_lib.data import noises
from audiomap_lib.data.datasets import compute_corpus_fingerprint
from audiomap_lib.digital import compute_snr_db

SR = 16000


class _Split(torch.utils.data.Dataset):
    """A split of a fake digit corpus: clips whose first sample tells which row they are."""

    def __init__(self, rows: list[dict[str, Any]], offset: int) -> None:
        self.rows = rows
        self.sample_rate_hz = SR
        g = torch.Generator().manual_seed(offset)
        self.items = []
        for i, r in enumerate(rows):
            w = 0.1 * torch.randn(1, 2000, generator=g)
            w[0, 0] = offset + i
            self.items.append((w, r["label_index"]))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Any:
        return self.items[i]


def _corpus(per_speaker: int = 4) -> dict[str, _Split]:
    plan = {"train": [("espeak", "en-us+m1"), ("espeak", "en-gb+f2"), ("flite", "kal"), ("flite", "slt")],
            "validation": [("espeak", "en-us+m3"), ("flite", "awb")],
            "test": [("espeak", "en-029+m2"), ("flite", "rms"), ("festival", "ked")]}
    out = {}
    for k, (split, voices) in enumerate(plan.items()):
        rows = [{"family": fam, "speaker": spk, "path": f"{i % 10}/{spk}_{i}.wav", "sha256": f"{spk}{i}",
                 "label_index": i % 10} for fam, spk in voices for i in range(per_speaker)]
        out[split] = _Split(rows, 1000 * k)
    return out


def test_natural_speakers_are_every_family_but_espeak() -> None:
    assert speakers.list_natural_speakers(_corpus()) == ["awb", "kal", "ked", "rms", "slt"]


@pytest.mark.parametrize("held", ["kal", "awb", "rms"])
def test_fold_holds_out_one_speaker_and_keeps_the_others(held: str) -> None:
    corpus = _corpus()
    fold = speakers.make_leave_one_speaker_out(corpus, held)
    tag = {float(w[0, 0]): (split, r) for split, ds in corpus.items() for w, r in
           ((ds.items[i][0], ds.rows[i]) for i in range(len(ds)))}

    def who(clips: speakers.TensorClips) -> list[tuple[str, dict[str, Any]]]:
        return [tag[float(c[0, 0])] for c in clips.clips]

    test = who(fold["test"])
    assert test and all(r["speaker"] == held for _, r in test)
    assert len(test) == 4  # every clip of the held-out speaker, whichever split it was in
    train = who(fold["train"])
    assert held not in {r["speaker"] for _, r in train}
    others = set(speakers.list_natural_speakers(corpus)) - {held}
    assert {r["speaker"] for _, r in train if r["family"] != "espeak"} == others  # four natural voices heard
    assert not any(split == "test" and r["family"] == "espeak" for split, r in train)  # test espeak stays out
    val = who(fold["validation"])
    assert val and all(split == "validation" and r["family"] == "espeak" for split, r in val)
    assert fold["train"].sample_rate_hz == SR and fold["test"].clips.shape[1:] == (1, 2000)
    labels = [r["label_index"] for _, r in test]
    assert fold["test"].targets.tolist() == labels


def test_fold_refuses_an_unknown_speaker_and_a_bad_corpus() -> None:
    with pytest.raises(ValueError, match=r"natural speakers \['awb', 'kal', 'ked', 'rms', 'slt'\]"):
        speakers.make_leave_one_speaker_out(_corpus(), "en-us+m1")
    with pytest.raises(ValueError, match="datasets must be"):
        speakers.make_leave_one_speaker_out({"train": _corpus()["train"]}, "kal")
    with pytest.raises(ValueError, match="manifest row"):
        speakers.list_natural_speakers({"train": [], "validation": [], "test": []})


def test_test_conditions_are_the_library_distortions() -> None:
    clips = 0.1 * torch.randn(3, 1, 4000, generator=torch.Generator().manual_seed(0))
    talkers = 0.1 * torch.randn(8, 1, 4000, generator=torch.Generator().manual_seed(1))
    cond = speakers.make_test_conditions(clips, 16000, talkers)
    assert list(cond) == list(speakers.CONDITIONS)
    assert torch.equal(cond["clean"], clips)
    torch.testing.assert_close(cond["band"], augment.band_limit(clips, 16000, speakers.BAND_TEST_SR_HZ))
    room = augment.make_room_impulse_response(speakers.ROOM_TEST["rt60_s"], 16000, speakers.ROOM_TEST["drr_db"],
                                              torch.Generator().manual_seed(int(speakers.ROOM_TEST["seed"])))
    torch.testing.assert_close(speakers.make_test_room(16000), room)
    torch.testing.assert_close(cond["room"], augment.reverberate(clips, room))
    assert speakers.BAND_TEST_SR_HZ not in speakers.RECIPES["+ band-limiting"]["band_sr_hz"]  # a rate never trained on
    babble = augment.make_babble(talkers, 3, int(speakers.BABBLE_TEST["talkers"]),
                                 torch.Generator().manual_seed(int(speakers.BABBLE_TEST["seed"])))
    torch.testing.assert_close(cond["babble"], augment.add_noise_at_snr(clips, speakers.BABBLE_TEST["snr_db"], noise=babble))
    bank = noises.load_noise_bank(noises.TEST_NOISES, 16000)
    segments = augment.make_noise_segments(bank, 3, 4000, torch.Generator().manual_seed(int(speakers.NOISE_TEST["seed"])))
    torch.testing.assert_close(cond["noise"], augment.add_noise_at_snr(clips, speakers.NOISE_TEST["snr_db"], noise=segments))
    for name, test in (("babble", speakers.BABBLE_TEST), ("noise", speakers.NOISE_TEST)):
        torch.testing.assert_close(compute_snr_db(clips, cond[name], axis=-1), torch.full((3, 1), test["snr_db"]),
                                   atol=1e-3, rtol=0)
    again = speakers.make_test_conditions(clips, 16000, talkers)
    assert all(torch.equal(again[c], cond[c]) for c in speakers.CONDITIONS)  # every recipe meets the same clips
    last = speakers.RECIPES[list(speakers.RECIPES)[-1]]
    assert speakers.BABBLE_TEST["talkers"] != last["babble_talkers"]  # a babble never drawn in training
    assert not set(last["recorded_noises"]) & set(noises.TEST_NOISES)  # and no test recording either
    with pytest.raises(ValueError, match=r"talkers must be \(K, 1, T\) clips as long as the clips"):
        speakers.make_test_conditions(clips, 16000, talkers[..., :100])


def test_babble_talkers_are_the_test_splits_espeak_clips() -> None:
    corpus = _corpus()
    talkers = speakers.make_babble_talkers(corpus)
    test = corpus["test"]
    expected = [test.items[i][0] for i, r in enumerate(test.rows) if r["family"] == "espeak"]
    assert talkers.shape == (len(expected), 1, 2000) and torch.equal(talkers, torch.stack(expected))
    for held in speakers.list_natural_speakers(corpus):  # no fold trains or validates on them
        fold = speakers.make_leave_one_speaker_out(corpus, held)
        heard = {float(c[0, 0]) for part in ("train", "validation") for c in fold[part].clips}
        assert not heard & {float(c[0, 0]) for c in talkers}


def test_make_augment_builds_each_recipe() -> None:
    assert speakers.make_augment("none", 16000, 1) is None
    aug = speakers.make_augment("chapter 6", 16000, 3)
    assert aug.seed == 3 and aug.describe()["speed"] == speakers.RECIPES["chapter 6"]["speed"]
    with pytest.raises(ValueError, match="recipe must be one of RECIPES"):
        speakers.make_augment("everything", 16000, 0)


def test_recipes_are_a_ladder() -> None:
    names = list(speakers.RECIPES)
    assert speakers.RECIPES[names[0]] is None
    for a, b in zip(names[1:], names[2:]):
        assert set(speakers.RECIPES[a]) < set(speakers.RECIPES[b])  # each step adds a family
        assert all(speakers.RECIPES[b][k] == v for k, v in speakers.RECIPES[a].items())
    for kwargs in speakers.RECIPES.values():
        if kwargs is not None:
            augment.WaveformAugment(sr=16000, **kwargs)  # every recipe is a valid augmentation


def test_study_record_round_trips_and_summarizes(tmp_path) -> None:
    corpus = _corpus(per_speaker=6)
    record = speakers.run_speaker_study(corpus, lambda sr: LogMelCNN1d(n_classes=10, channels=4, input_sr=sr),
                                        epochs=1, lr=1e-3, batch_size=8, seeds=[0, 1], recipes=["none", "chapter 6"],
                                        speakers=["kal", "rms"], log=None, settings={"network": "tiny"})
    assert len(record["runs"]) == 2 * 2 * 2
    assert record["settings"]["corpus"] == compute_corpus_fingerprint(corpus)
    assert record["settings"]["network"] == "tiny" and record["settings"]["seeds"] == [0, 1]
    for run in record["runs"]:
        assert set(run["accuracy"]) == set(speakers.CONDITIONS) and run["n_test"] == 6
        assert all(0.0 <= a <= 1.0 for a in run["accuracy"].values())
    path = tmp_path / "study.json"
    path.write_text(json.dumps(record))
    loaded = speakers.load_speaker_study(path)
    summary = speakers.summarize_speaker_study(loaded)
    assert list(summary) == ["none", "chapter 6"]
    cells = [r["accuracy"]["band"] for r in record["runs"] if r["recipe"] == "none"]
    assert summary["none"]["all"]["band"].values == tuple(cells)
    assert summary["none"]["speakers"]["kal"]["clean"].n == 2  # two seeds
    again = speakers.run_speaker_study(corpus, lambda sr: LogMelCNN1d(n_classes=10, channels=4, input_sr=sr),
                                       epochs=1, lr=1e-3, batch_size=8, seeds=[1], recipes=["chapter 6"],
                                       speakers=["rms"], log=None)
    first = next(r for r in record["runs"] if (r["recipe"], r["speaker"], r["seed"]) == ("chapter 6", "rms", 1))
    assert again["runs"][0]["accuracy"] == first["accuracy"]  # seeded: the same cell gives the same numbers


def test_study_refuses_bad_arguments(tmp_path) -> None:
    corpus = _corpus()
    model = lambda sr: LogMelCNN1d(n_classes=10, channels=4, input_sr=sr)  # noqa: E731
    with pytest.raises(ValueError, match="recipes must be names"):
        speakers.run_speaker_study(corpus, model, epochs=1, lr=1e-3, recipes=["mixup"])
    with pytest.raises(ValueError, match="speakers must be natural speakers"):
        speakers.run_speaker_study(corpus, model, epochs=1, lr=1e-3, speakers=["bob"])
    with pytest.raises(ValueError, match="seeds must be distinct"):
        speakers.run_speaker_study(corpus, model, epochs=1, lr=1e-3, seeds=[0, 0])
    with pytest.raises(ValueError, match="epochs"):
        speakers.run_speaker_study(corpus, model, epochs=0, lr=1e-3)
    low = {k: v for k, v in corpus.items()}
    for split in low.values():
        split.sample_rate_hz = 8000
    with pytest.raises(ValueError, match="above 8000 Hz"):
        speakers.run_speaker_study(low, model, epochs=1, lr=1e-3)
    with pytest.raises(FileNotFoundError, match="python -m audiomap_lib.speakers"):
        speakers.load_speaker_study(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not a study record"):
        speakers.load_speaker_study(tmp_path / "bad.json")


def test_compare_recipes_pairs_runs_by_speaker_and_seed() -> None:
    def run(recipe: str, speaker: str, seed: int, acc: float) -> dict[str, Any]:
        return {"recipe": recipe, "speaker": speaker, "seed": seed,
                "accuracy": {"clean": acc, "band": acc / 2, "room": acc}}

    record = {"settings": {}, "runs": [run("none", "kal", 0, 0.5), run("none", "rms", 0, 0.9),
                                       run("chapter 6", "rms", 0, 0.95), run("chapter 6", "kal", 0, 0.4)]}
    cmp = speakers.compare_recipes(record, "none", "chapter 6", "clean")
    assert (cmp["n"], cmp["n_better"], cmp["n_worse"]) == (2, 1, 1)
    assert sorted(round(v, 6) for v in cmp["change"].values) == [-0.1, 0.05]  # paired: kal with kal, rms with rms
    with pytest.raises(ValueError, match="condition"):
        speakers.compare_recipes(record, "none", "chapter 6", "noisy")
    with pytest.raises(ValueError, match="holds the recipes"):
        speakers.compare_recipes(record, "none", "mixup", "clean")
    record["runs"].pop()
    with pytest.raises(ValueError, match="same"):
        speakers.compare_recipes(record, "none", "chapter 6", "clean")


def test_sign_test_matches_scipy() -> None:
    from scipy.stats import binomtest

    for better, worse in [(13, 1), (7, 8), (5, 0), (0, 3), (10, 5), (1, 1)]:
        ref = binomtest(better, better + worse, 0.5, alternative="two-sided").pvalue
        assert abs(training.compute_sign_test_p(better, worse) - ref) < 1e-12
    assert training.compute_sign_test_p(0, 0) == 1.0
    with pytest.raises(ValueError, match="n_better"):
        training.compute_sign_test_p(1.5, 2)  # type: ignore[arg-type]


def test_architecture_study_trains_every_network_and_records_it(tmp_path) -> None:
    from audiomap_lib import architectures

    corpus = _corpus(per_speaker=3)
    for split in corpus.values():  # the raw networks need 1 s at 8 kHz at least: make the clips 1 s long
        split.items = [(torch.nn.functional.pad(w, (0, SR - w.shape[-1])), y) for w, y in split.items]
    record = architectures.run_architecture_study(corpus, n_classes=10, channels=4, epochs=1, lr=1e-3, batch_size=8,
                                                  seeds=[0], networks=["M3 (8 kHz)", "M5 (16 kHz)"], log=None)
    assert [r["network"] for r in record["runs"]] == ["M3 (8 kHz)", "M5 (16 kHz)"]
    assert record["runs"][1]["model_sr"] == 16000 and record["runs"][0]["config"] == "m3"
    for run in record["runs"]:
        assert {"espeak", "flite", "festival", "natural", "all"} <= set(run["accuracy"])
        assert abs(run["accuracy"]["natural"] - (run["accuracy"]["flite"] + run["accuracy"]["festival"]) / 2) < 1e-9
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(record))
    summary = architectures.summarize_architecture_study(architectures.load_architecture_study(path))
    assert summary["M3 (8 kHz)"]["parameters"] < summary["M5 (16 kHz)"]["parameters"]
    with pytest.raises(ValueError, match="networks must be names"):
        architectures.run_architecture_study(corpus, n_classes=10, channels=4, epochs=1, lr=1e-3, networks=["M18"])
    low = dict(corpus)
    for split in low.values():
        split.sample_rate_hz = 8000
    with pytest.raises(ValueError, match="nothing is upsampled silently"):
        architectures.run_architecture_study(low, n_classes=10, channels=4, epochs=1, lr=1e-3, networks=["M5 (16 kHz)"])


def test_find_study_record_uses_a_record_only_when_corpus_and_settings_match(tmp_path) -> None:
    path = tmp_path / "study.json"
    assert training.find_study_record(path, "abc", {"epochs": 4}) == (None, "no record at study.json")
    record = {"settings": {"corpus": "abc", "epochs": 4, "lr": 0.005}, "runs": [{"x": 1}]}
    path.write_text(json.dumps(record))
    assert training.find_study_record(path, "abc", {"epochs": 4, "lr": 0.005}) == (record, "")
    other_build = "the record was made from another build of the corpus"
    assert training.find_study_record(path, "abd", {"epochs": 4}) == (None, other_build)
    assert training.find_study_record(path, "abd", {"epochs": 4}, allow_other_corpus=True) == (record, other_build)
    assert training.find_study_record(path, "abc", {"epochs": 5, "lr": 0.005})[1] == "the record was made with other settings (epochs)"
    assert training.find_study_record(path, "abd", {"epochs": 5}, allow_other_corpus=True)[0] is None  # settings still count
    path.write_text("[]")
    with pytest.raises(ValueError, match="not a study record"):
        training.find_study_record(path, "abc", {})


def test_write_study_record_is_atomic_and_reads_back(tmp_path) -> None:
    record = {"settings": {"corpus": "abc"}, "runs": [{"x": 1}]}
    path = training.write_study_record(record, tmp_path / "sub" / "study.json")
    assert training.read_study_record(path) == record
    assert not list((tmp_path / "sub").glob("*.part"))  # the temporary file was renamed, not left behind
