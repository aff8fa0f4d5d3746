"""DNIClassifier.save and dnic.load: one checkpoint format with the
command line, both ways."""
import re

import numpy as np
import pytest

import dnic
from conftest import blobs


def printed_accuracy(text):
    return float(re.search(r"test accuracy ([0-9.]+)", text).group(1))


@pytest.mark.parametrize("settings", [dict(rule="sg"), dict(rule="backprop", batchnorm=True),
                                      dict(rule="dfa"), dict(rule="sg", schedule="pipeline")])
def test_a_saved_classifier_scores_the_same_in_dnic_eval_and_loads_back(cli, npy_data, tmp_path, settings):
    (X, y, Xt, yt), spec = npy_data
    labels = np.array(["coat", "shirt", "trouser"])
    model = dnic.DNIClassifier(hidden=2, width=16, epochs=3, lr=0.01, batch_size=32, **settings).fit(X, labels[y])
    model.save(tmp_path / "p.st")
    accuracy = model.score(Xt, labels[yt])
    done = cli(["eval", "--checkpoint", "p.st", "--data", spec, "--threads", 1], tmp_path)
    assert printed_accuracy(done.stdout) == round(accuracy, 4)
    back = dnic.load(tmp_path / "p.st")
    assert back.get_params() == model.get_params()
    assert list(back.classes_) == list(labels) and back.history_ == model.history_
    np.testing.assert_array_equal(back.predict_proba(Xt), model.predict_proba(Xt))
    np.testing.assert_array_equal(back.predict(Xt), model.predict(Xt))


def test_a_command_line_checkpoint_loads_as_a_classifier(cli, npy_data, tmp_path):
    (X, y, Xt, yt), spec = npy_data
    cli(["train", "--data", spec, "--hidden", 3, "--width", 32, "--rule", "sg", "--epochs", 2, "--seed", 4,
         "--threads", 1, "--save", "m.st", "--quiet"], tmp_path)
    done = cli(["eval", "--checkpoint", "m.st", "--data", spec, "--threads", 1], tmp_path)
    model = dnic.load(tmp_path / "m.st")
    assert (model.hidden, model.width, model.rule, model.seed, model.boundaries_) == (3, 32, "sg", 4, [2])
    assert list(model.classes_) == [0, 1, 2]
    assert round(model.score(Xt, yt), 4) == printed_accuracy(done.stdout)
    # it trains on from where the command line stopped
    before = model.network_.step
    model.partial_fit(X, y)
    assert model.network_.step == before + 10


def test_a_saved_classifier_resumes_in_dnic_train(cli, npy_data, tmp_path):
    (X, y, _, _), spec = npy_data
    model = dnic.DNIClassifier(hidden=2, width=16, epochs=1, batch_size=64).fit(X, y)
    files = ",".join(str(tmp_path / name) for name in spec[len("npy:"):].split(","))
    model.save(tmp_path / "p.st", data="npy:" + files)  # the training files, where the run finds them
    done = cli(["train", "--resume", "p.st", "--steps", 25, "--threads", 1, "--save", "more.st"], tmp_path)
    assert "resumed at step 10" in done.stdout
    assert dnic.load(tmp_path / "more.st").network_.step == 25


def test_load_refuses_what_a_classifier_cannot_be(cli, npy_data, tmp_path):
    _, spec = npy_data
    (tmp_path / "run.yaml").write_text("model:\n  layers:\n  - {width: 16}\n  - {width: 8}\n")
    cli(["train", "--config", "run.yaml", "--data", spec, "--steps", 3, "--threads", 1, "--save", "m.st", "--quiet"],
        tmp_path)
    with pytest.raises(ValueError, match="hidden layers differ.*dnic.checkpoint.load"):
        dnic.load(tmp_path / "m.st")
    with pytest.raises(ValueError, match="no such file"):
        dnic.load(tmp_path / "absent.st")
    with pytest.raises(Exception, match="fitted"):
        dnic.DNIClassifier().save(tmp_path / "x.st")


def test_probabilities_are_dnic_predicts_to_the_bit(cli, npy_data, tmp_path):
    """One definition of the probabilities (the core's): predict_proba of a
    saved classifier equals `dnic predict --proba` float for float."""
    (X, y, Xt, _), _ = npy_data
    model = dnic.DNIClassifier(hidden=2, width=16, epochs=2, batch_size=32).fit(X, y)
    model.save(tmp_path / "p.st")
    cli(["predict", "--checkpoint", "p.st", "--data", "npy:Xt.npy", "--proba", "--out", "p.csv", "--threads", 1], tmp_path)
    theirs = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1, dtype=np.float64)
    np.testing.assert_array_equal(theirs[:, 0], model.predict(Xt))
    np.testing.assert_array_equal(theirs[:, 1:].astype(np.float32), model.predict_proba(Xt))
