"""dnic.DNIClassifier: `dnic train`'s parameters bit for bit, scikit-learn's
conventions (labels of any kind, validation, clone, pipelines, grid
search), partial_fit, history, threads and progress."""
import pickle
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import dnic
from conftest import blobs


def small(**settings):
    """A classifier that learns the blobs in a fraction of a second."""
    base = dict(hidden=2, width=16, epochs=3, lr=0.01, batch_size=32)
    base.update(settings)
    return dnic.DNIClassifier(**base)


# DNIClassifier's settings and the same as `dnic train` flags
FLAGS = {"rule": "--rule", "schedule": "--schedule", "sg_at": "--sg-at", "optimizer": "--optimizer", "l2": "--l2",
         "sg_lr": "--sg-lr", "lr": "--lr", "sg_kind": "--sg-kind", "sg_hidden": "--sg-hidden", "sg_warmup": "--sg-warmup"}


@pytest.mark.parametrize("settings", [
    dict(rule="backprop"), dict(rule="sg"), dict(rule="sg", schedule="pipeline"),
    dict(rule="sg", sg_at="every"),  # two predicted boundaries in series: the default rate 1e-3 / 2
    dict(rule="dfa", batchnorm=True),
    dict(rule="sg", l2=0.01),  # the interfaces take the network's optimizer, l2 included
    dict(rule="sgprop", optimizer="momentum", l2=0.01, sg_lr=0.003),  # --sg-lr: the network's kind, no l2
    dict(rule="sg", sg_kind="mlp", sg_hidden=[16, 8], sg_warmup=5),
], ids=lambda settings: ",".join("%s=%s" % item for item in settings.items()))
def test_fit_equals_dnic_train(cli, npy_data, tmp_path, settings):
    (X, y, _, _), spec = npy_data
    args = ["train", "--data", spec, "--hidden", 3, "--width", 32, "--epochs", 2, "--seed", 5, "--batch", 64,
            "--threads", 1, "--save", "m.st", "--quiet", "--batchnorm" if settings.get("batchnorm") else "--no-batchnorm"]
    for name, value in settings.items():
        if name in FLAGS:
            args += [FLAGS[name], ",".join(map(str, value)) if isinstance(value, list) else value]
    cli(args, tmp_path)
    theirs = load_file(str(tmp_path / "m.st"))
    model = dnic.DNIClassifier(hidden=3, width=32, epochs=2, seed=5, batch_size=64, **settings).fit(X, y)
    ours = model.network_.parameters()
    assert set(ours) == {k for k in theirs if k.startswith("layer")}
    for name, value in ours.items():
        np.testing.assert_array_equal(value, theirs[name].reshape(value.shape), err_msg=name)


def test_default_learning_rates_follow_dnic_train():
    X, y = blobs(200)
    assert small(rule="backprop", lr=None).fit(X, y).lr_ == 1e-3
    assert small(rule="sg", lr=None).fit(X, y).lr_ == 1e-3
    assert small(rule="sg", lr=None, hidden=3, sg_at="every").fit(X, y).lr_ == 1e-3 / 2
    assert small(rule="sg", lr=None, schedule="pipeline").fit(X, y).lr_ == 1e-3 / 2
    assert small(rule="dfa", lr=None, hidden=3).fit(X, y).lr_ == 1e-3  # fixed projections predict nothing
    assert small(rule="sg", lr=None, optimizer="momentum").fit(X, y).lr_ == 0.01
    assert dnic.classifier.default_learning_rate("sgd", "locked", blocks=2, predicted=1) == 0.05
    model = small(rule="sg", lr=None, sg_lr=3e-4, schedule="pipeline").fit(X, y)
    assert (model.lr_, model.sg_lr_) == (1e-3 / 2, 3e-4)


def test_string_and_sparse_integer_labels():
    X, y = blobs(300)
    names = np.array(["cat", "dog", "emu"])[y]
    model = small().fit(X, names)
    assert list(model.classes_) == ["cat", "dog", "emu"]
    assert model.score(X, names) > 0.9
    assert set(model.predict(X)) <= set(names)
    far = np.array([-7, 10, 1000])[y]
    assert list(small().fit(X, far).classes_) == [-7, 10, 1000]
    # the same classes in the same order: the same network as labels 0..K-1
    np.testing.assert_array_equal(small().fit(X, far).predict_proba(X), small().fit(X, y).predict_proba(X))


def test_binary_probabilities():
    X, y = blobs(300, classes=2)
    model = small().fit(X, y == 1)
    proba = model.predict_proba(X)
    assert proba.shape == (300, 2) and list(model.classes_) == [False, True]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.score(X, y == 1) > 0.9


def test_refuses_regression_targets_and_nan():
    X, y = blobs(100)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        small().fit(X, y + 0.5)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        small().fit(bad, y)
    model = small().fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        model.predict(bad)
    with pytest.raises(ValueError, match="X has 5 features, but DNIClassifier is expecting 6 features"):
        model.predict(X[:, :5])
    with pytest.raises(ValueError, match="only one class"):
        small().fit(X, np.zeros(100, dtype=int))


def test_overflow_names_the_step_and_the_rate():
    X, y = blobs(200)
    with pytest.raises(ValueError, match=r"step \d+ of this fit: .*NaN or infinite.*try a smaller lr \(it is 1000\)"):
        small(optimizer="sgd", lr=1000.0).fit(X * 1000, y)
    with pytest.raises(ValueError, match=r"NaN or infinite.*try a smaller lr"):
        small(optimizer="sgd", lr=1000.0, schedule="pipeline").fit(X * 1000, y)
    with pytest.raises(ValueError, match=r"NaN or infinite.*try a smaller sg_lr \(it is 1e\+06\)"):
        small(optimizer="sgd", lr=1e-3, sg_lr=1e6).fit(X * 1000, y)  # the interface overflowed


def test_unfitted_and_bad_settings():
    with pytest.raises(NotFittedError):
        small().predict(np.zeros((2, 6)))
    X, y = blobs(100)
    for settings, words in [(dict(rule="hebb"), "rule 'hebb' is not one of"),
                            (dict(schedule="pipeline", rule="backprop"), "needs rule 'sg'"),
                            (dict(hidden=1, rule="sg"), "sg_at 'mid' needs at least 2 hidden layers"),
                            (dict(epochs=0), "epochs must be an integer >= 1"),
                            (dict(lr=-1.0), "lr must be a positive number")]:
        model = small(**settings)
        with pytest.raises(ValueError, match=words):
            model.fit(X, y)
        with pytest.raises(NotFittedError):  # a fit that failed leaves nothing half made
            model.predict(X)


def test_get_set_params_and_clone():
    model = small(rule="sgprop", sg_at=[1])
    assert model.get_params()["sg_at"] == [1] and model.get_params()["rule"] == "sgprop"
    copy = clone(model).set_params(lr=0.002, rule="backprop")
    assert (copy.lr, copy.rule, model.lr, model.rule) == (0.002, "backprop", 0.01, "sgprop")
    X, y = blobs(200)
    fitted = model.fit(X, y)
    assert not hasattr(clone(fitted), "network_")


def test_history_and_validation():
    X, y = blobs(400)
    model = small(epochs=4).fit(X[:300], y[:300], validation_data=(X[300:], y[300:]))
    assert [h["epoch"] for h in model.history_] == [1, 2, 3, 4]
    assert set(model.history_[0]) == {"epoch", "loss", "val_loss", "val_accuracy"}
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]
    assert model.history_[-1]["val_accuracy"] == model.score(X[300:], y[300:])
    assert set(small().fit(X, y, epochs=2).history_[0]) == {"epoch", "loss"}
    assert len(small().fit(X, y, epochs=2).history_) == 2


def test_partial_fit_continues_fit_and_checks_classes():
    X, y = blobs(300)
    model = small()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X, y)
    for _ in range(3):
        model.partial_fit(X, y, classes=[0, 1, 2])
    # locked: three calls on the same data are fit's three epochs, bit for bit
    np.testing.assert_array_equal(model.predict_proba(X), small(epochs=3).fit(X, y).predict_proba(X))
    assert len(model.history_) == 3
    with pytest.raises(ValueError, match="not the same as on the first call"):
        model.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="not in classes_"):
        small().partial_fit(X, y, classes=[0, 1])
    pipelined = small(schedule="pipeline")
    pipelined.partial_fit(X, y, classes=np.array([0, 1, 2]))
    pipelined.partial_fit(X[:100], y[:100])
    assert pipelined.score(X, y) > 0.8


def test_in_a_pipeline_and_grid_search():
    X, y = blobs(300)
    X = X * 50 + 1000  # StandardScaler matters
    pipe = make_pipeline(StandardScaler(), small())
    assert pipe.fit(X, y).score(X, y) > 0.9
    search = GridSearchCV(make_pipeline(StandardScaler(), small(epochs=2)),
                          {"dniclassifier__lr": [1e-3, 1e-2], "dniclassifier__rule": ["backprop", "sg"]}, cv=3)
    search.fit(X, y)
    assert set(search.best_params_) == {"dniclassifier__lr", "dniclassifier__rule"}
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.9
    direct = GridSearchCV(small(epochs=2), {"lr": [1e-3, 1e-2], "rule": ["backprop", "sg"]}, cv=3).fit(X / 1000, y)
    assert direct.best_estimator_.classes_.tolist() == [0, 1, 2]


def test_pickle_keeps_predictions_and_training_state():
    X, y = blobs(300)
    model = small(rule="sg").fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
    model.partial_fit(X, y)
    copy.partial_fit(X, y)  # optimizer, interfaces and batch order came along
    np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))


def test_threads_set_for_fit_and_restored():
    X, y = blobs(200)
    before = dnic.lib.dnic_get_num_threads()
    seen = []
    model = small(threads=2)
    original = model._report
    model._report = lambda progress, record: seen.append(dnic.lib.dnic_get_num_threads()) or original(progress, record)
    model.fit(X, y)
    assert dnic.lib.dnic_get_num_threads() == before
    if dnic.lib.dnic_has_openmp():
        assert seen and set(seen) == {2}


def test_verbose_without_tqdm_prints_a_line_an_epoch(capsys, monkeypatch):
    X, y = blobs(200)
    small(verbose=0, epochs=2).fit(X, y)
    assert capsys.readouterr() == ("", "")
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # as if tqdm were not installed
    small(verbose=1, epochs=2).fit(X, y)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1", "epoch 2"] and "loss" in lines[0]


def test_verbose_with_tqdm_shows_a_bar(capsys):
    pytest.importorskip("tqdm", reason="tqdm is not installed: the progress bar is not tested")
    X, y = blobs(200)
    small(verbose=1, epochs=2).fit(X, y)
    err = capsys.readouterr().err
    assert "batch" in err and "loss" in err  # tqdm counts batches, the epoch's loss beside


def test_validation_data_is_checked():
    X, y = blobs(300)
    with pytest.raises(ValueError, match="validation_data's y holds labels not in classes_"):
        small().fit(X, y, validation_data=(X, y + 1))
    with pytest.raises(ValueError, match="X has 5 features, but DNIClassifier is expecting 6"):
        small().fit(X, y, validation_data=(X[:, :5], y))
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(X, y\)"):
        small().fit(X, y, validation_data=X)
