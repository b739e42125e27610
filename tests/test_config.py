import pytest

from asr.config import ConfigError, ExperimentConfig, load_config, save_config


def test_round_trip_through_dict_and_yaml(tmp_path):
    config = ExperimentConfig().with_overrides({"model.hidden_size": 64, "features.speeds": [1.0, 1.1]})
    assert ExperimentConfig.from_dict(config.to_dict()) == config
    save_config(config, tmp_path / "c.yaml")
    assert load_config(tmp_path / "c.yaml") == config


def test_partial_yaml_keeps_defaults(tmp_path):
    (tmp_path / "c.yaml").write_text("train:\n  epochs: 3\n  lr: 1\n")
    config = load_config(tmp_path / "c.yaml")
    assert config.train.epochs == 3 and config.train.lr == 1.0
    assert config.model == ExperimentConfig().model


@pytest.mark.parametrize(
    "text,message",
    [
        ("train:\n  epoch: 3\n", "unknown config key(s) train.epoch"),
        ("modle: {}\n", "unknown config key(s) modle"),
        ("train:\n  epochs: three\n", "train.epochs: expected int"),
        ("model:\n  bidirectional: 1\n", "expected true/false"),
        ("- a\n", "expected a mapping"),
        ("train: [\n", "not valid YAML"),
    ],
)
def test_bad_yaml_names_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_unknown_override():
    with pytest.raises(ConfigError, match="model.nope"):
        ExperimentConfig().with_overrides({"model.nope": 1})


def test_configs_are_frozen():
    with pytest.raises(AttributeError):
        ExperimentConfig().train.epochs = 1


def test_gain_range_is_checked():
    assert ExperimentConfig().with_overrides({"features.gain_db": [-30, 0]}).features.gain_db == (-30.0, 0.0)
    for bad in ([0, -30], [1.0], [0, 1, 2]):
        with pytest.raises(ConfigError, match="gain_db"):
            ExperimentConfig().with_overrides({"features.gain_db": bad})


@pytest.mark.parametrize("key,value", [("model.rnn_type", "transformer"), ("model.subsampling", 3), ("train.precision", "fp8"), ("train.on_bad_audio", "ignore")])
def test_choices_are_checked(key, value):
    with pytest.raises(ConfigError, match=key):
        ExperimentConfig().with_overrides({key: value})
