"""Settings: defaults, the TOML file, options; unsafe or impossible ones refused with a fix."""

from __future__ import annotations

import pytest

from aitrail.collector.config import CollectorConfig, load
from aitrail.errors import ConfigError


def test_loopback_by_default():
    assert CollectorConfig().host == "127.0.0.1"


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com"])
def test_listening_beyond_loopback_needs_an_explicit_yes(host):
    with pytest.raises(ConfigError, match="--allow-insecure-listen"):
        CollectorConfig(host=host).check()
    assert CollectorConfig(host=host, allow_insecure_listen=True).check().host == host


def test_file_then_options(tmp_path):
    path = tmp_path / "aitrail.toml"
    path.write_text('[collector]\nhttp_port = 5318\nflush_interval = 0.5\n[store]\ndata_dir = "%s"\n' % (tmp_path / "d"))
    cfg = load(path, http_port=6318, grpc_port=None)
    assert cfg.http_port == 6318 and cfg.flush_interval == 0.5 and cfg.grpc_port == 4317
    assert cfg.location.data_dir == tmp_path / "d"


def test_unknown_settings_are_named(tmp_path):
    path = tmp_path / "aitrail.toml"
    path.write_text("[collector]\nhttp_prot = 1\n")
    with pytest.raises(ConfigError, match="http_prot"):
        load(path)


def test_bad_port():
    with pytest.raises(ConfigError, match="http-port 70000"):
        CollectorConfig(http_port=70000).check()


def test_min_batch_rows_is_read_from_the_file_and_bounded(tmp_path):
    path = tmp_path / "aitrail.toml"
    path.write_text("[collector]\nmin_batch_rows = 0\n")
    assert load(path).min_batch_rows == 0
    for bad in (-1, CollectorConfig.max_batch_rows + 1):
        with pytest.raises(ConfigError, match="min_batch_rows must be from 0"):
            CollectorConfig(min_batch_rows=bad).check()
