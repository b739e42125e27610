import pytest

from asr.config import BeamSearchOptions, ConfigError, ExperimentConfig, load_config, read_overrides, save_config


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
        ("decode:\n  lm: x.arpa\n", "need decode.decoder: beam"),
        ("decode:\n  beam:\n    beam_sise: 3\n", "unknown config key(s) decode.beam.beam_sise"),
        ("decode:\n  beam: 5\n", "decode.beam: expected a mapping"),
        ("decode:\n  decoder: viterbi\n", "decode.decoder must be one of greedy, beam"),
        ("decode:\n  decoder: beam\n  beam:\n    beam_size: 0\n", "beam_size, token_topk and nbest must be >= 1"),
        ("stream:\n  chunk_ms: 15\n", "stream.chunk_ms must be a positive multiple of 10"),
        ("features:\n  utterance_cmn: true\n  running_cmn: true\n", "exclude each other"),
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


def test_vtlp_range_is_checked():
    assert ExperimentConfig().with_overrides({"features.vtlp": [0.9, 1.2]}).features.vtlp == (0.9, 1.2)
    for bad in ([1.2, 0.9], [1.1], [0.1, 1.0], [1.0, 3.0]):
        with pytest.raises(ConfigError, match="vtlp"):
            ExperimentConfig().with_overrides({"features.vtlp": bad})


@pytest.mark.parametrize("key,value", [("model.rnn_type", "transformer"), ("model.subsampling", 3), ("train.precision", "fp8"), ("train.on_bad_audio", "ignore")])
def test_choices_are_checked(key, value):
    with pytest.raises(ConfigError, match=key):
        ExperimentConfig().with_overrides({key: value})


def _all_fields(cls, prefix=""):
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _all_fields(hints[f.name], f"{prefix}{f.name}.")
        else:
            yield prefix + f.name, f


def test_every_setting_has_help_text():
    """The CLI's help comes from here; a field without it would be a flag that explains nothing."""
    fields = dict(_all_fields(ExperimentConfig))
    assert {"decode.beam.beam_size", "decode.lm", "stream.chunk_ms", "features.running_cmn"} <= set(fields)
    assert all(len(f.metadata.get("help", "")) > 5 for f in fields.values()), [k for k, f in fields.items() if not f.metadata.get("help")]


def test_decode_and_stream_sections_load_from_yaml(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("decode:\n  decoder: beam\n  lm: lm.arpa\n  hotwords: [paris:5]\n  beam:\n    beam_size: 4\n    alpha: 1\nstream:\n  chunk_ms: 320\n")
    config = load_config(path)
    assert (config.decode.decoder, config.decode.lm, config.decode.hotwords) == ("beam", "lm.arpa", ("paris:5",))
    assert config.decode.beam.beam_size == 4 and config.decode.beam.alpha == 1.0 and config.stream.chunk_ms == 320
    assert config.decode.beam.token_topk == BeamSearchOptions().token_topk  # the rest stays default
    assert config.with_overrides({"decode.beam.alpha": 0.25}).decode.beam.alpha == 0.25
    assert load_config(path, base=ExperimentConfig().with_overrides({"model.hidden_size": 7})).model.hidden_size == 7


def test_read_overrides_restricts_sections(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("decode:\n  decoder: beam\nmodel:\n  hidden_size: 3\n")
    assert read_overrides(path) == {"decode.decoder": "beam", "model.hidden_size": 3}
    with pytest.raises(ConfigError, match="only the decode, stream section.s. apply here, not model"):
        read_overrides(path, sections=("decode", "stream"))


def test_differences_name_every_changed_key():
    a = ExperimentConfig()
    b = a.with_overrides({"train.lr": 0.5, "decode.beam.alpha": 2.0})
    assert a.differences(b) == [("decode.beam.alpha", 0.5, 2.0), ("train.lr", 0.001, 0.5)]
    assert a.differences(a) == []


def test_save_only_some_sections(tmp_path):
    config = ExperimentConfig().with_overrides({"decode.decoder": "beam", "decode.beam.beta": 3.0})
    save_config(config, tmp_path / "d.yaml", sections=("decode",))
    assert read_overrides(tmp_path / "d.yaml", sections=("decode",))["decode.beam.beta"] == 3.0
    assert load_config(tmp_path / "d.yaml").decode == config.decode
