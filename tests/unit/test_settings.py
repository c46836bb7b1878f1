from pathlib import Path

import pytest
from pydantic import ValidationError

from runtime.settings import Settings


def test_settings_read_kairo_prefixed_environment(monkeypatch):
    monkeypatch.setenv("KAIRO_DATA_DIR", "~/somewhere")
    monkeypatch.setenv("KAIRO_DATABASE_URL", "postgresql://db.example/kairo")
    monkeypatch.setenv("KAIRO_CHROMA_URL", "")
    settings = Settings()
    assert settings.data_dir == Path("~/somewhere").expanduser()
    assert settings.database_url == "postgresql://db.example/kairo"
    assert settings.chroma_url is None  # blank means unset: the embedded default


def test_defaults_are_the_embedded_services(monkeypatch):
    for name in ("KAIRO_DATA_DIR", "KAIRO_DATABASE_URL", "KAIRO_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url is None and settings.chroma_url is None
    assert settings.chroma_dir == Path("~/.kairo").expanduser() / "chroma"


def test_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("KAIRO_DB_POOL_MAX", "0")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert caught.value.errors()[0]["loc"] == ("db_pool_max",)
