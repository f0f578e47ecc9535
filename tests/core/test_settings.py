import os
from pathlib import Path

import pytest

from core.settings import ConfigError, load_settings


def test_defaults_live_in_the_user_directories():
    settings = load_settings(environ={})
    data_home, config_home = Path(os.environ["XDG_DATA_HOME"]), Path(os.environ["XDG_CONFIG_HOME"])
    assert settings.database_url == f"sqlite:///{data_home / 'tandem' / 'tandem.sqlite'}"
    assert settings.config_file == config_home / "tandem" / "config.toml"
    assert settings.database_source == "default"


def test_flag_beats_environment_beats_settings_file(tmp_path):
    config = tmp_path / "tandem.toml"
    config.write_text('[database]\nurl = "sqlite:///from-file.sqlite"\n')
    env = {"TANDEM_CONFIG": str(config)}
    assert load_settings(environ=env).database_url == "sqlite:///from-file.sqlite"
    env["TANDEM_DATABASE_URL"] = "sqlite:///from-env.sqlite"
    assert load_settings(environ=env).database_url == "sqlite:///from-env.sqlite"
    assert load_settings(db_url="sqlite:///from-flag.sqlite", environ=env).database_url == "sqlite:///from-flag.sqlite"


def test_config_flag_beats_environment(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('[shop]\nlanguage = "fr"\n')
    b.write_text('[shop]\nlanguage = "en"\n')
    assert load_settings(config_path=a, environ={"TANDEM_CONFIG": str(b)}).language == "fr"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[database\n", "not valid TOML"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[colours]\nx = 'y'\n", "unknown section [colours]"),
        (b"[database]\nulr = 'x'\n", "unknown setting database.ulr"),
        (b"[database]\nurl = 3\n", "database.url must be non-empty text"),
        (b"[shop]\nlanguage = 'de'\n", "shop.language must be English or French"),
        (b"[shop]\ncurrency = 'dollars'\n", "shop.currency must be a three-letter code"),
        (b"database = 1\n", "must be a table"),
    ],
)
def test_bad_settings_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")) as caught:
        load_settings(config_path=path, environ={})
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(("content", "named", "closest"), [
    ("[shop]\nlangauge = 'fr'\n", "unknown setting shop.langauge", "did you mean language?"),
    ("[console]\nrefresh_second = 5\n", "unknown setting console.refresh_second", "did you mean refresh_seconds?"),
    ("[channels.Web]\nplatform = 'shopify'\nurl = 'https://s.example.com'\nsafety_bufer = 2\n",
     "[channels.Web]: unknown setting safety_bufer", "did you mean safety_buffer?"),
    ("[backups]\nkeep_days = 30\n", "unknown section [backups]", "did you mean [backup]?"),
    ("[staff]\nrefund_limit = 50\n", "unknown setting staff.refund_limit", "did you mean cashier_refund_limit?"),
])
def test_a_misspelt_key_is_refused_naming_it_and_the_closest_known_one(tmp_path, content, named, closest):
    """Dropping it silently would leave the shop believing the setting applies."""
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_path=path, environ={})
    assert named in str(caught.value) and closest in str(caught.value)


def test_every_section_of_the_schema_is_read_with_its_defaults(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[backup]\nkeep_days = 30\nfolder = '/srv/tandem-backups'\n[staff]\ncashier_refund_limit = 80\n",
                    encoding="utf-8")
    settings = load_settings(config_path=path, environ={})
    assert (settings.backup_keep_days, str(settings.backup_folder)) == (30, "/srv/tandem-backups")
    assert str(settings.cashier_refund_limit) == "80.00"
    defaults = load_settings(config_path=tmp_path / "none.toml", environ={})
    assert defaults.backup_keep_days == 14 and defaults.backup_folder == defaults.data_dir / "backups"
    assert defaults.cashier_refund_limit is None


def test_missing_settings_file_means_defaults(tmp_path):
    settings = load_settings(config_path=Path(tmp_path / "none.toml"), environ={})
    assert not settings.config_file_exists
    assert settings.language is None, "then the help panel follows the locale"


@pytest.mark.parametrize(("line", "words"), [
    ('export_time = "25:00"', "export_time must be a time of day"),
    ('export_time = ":"', "export_time must be a time of day"),
    ('time_zone = "Mars/Olympus"', "time_zone must be a time zone name like America/New_York, not 'Mars/Olympus'"),
    ('time_zone = "' + "0" * 300 + '"', "time_zone must be a time zone name .*, not '000"),  # a name longer than any file name
    ("safety_buffer = 100000000000000000000", "safety_buffer must be a whole number of units from 0 to 1,000,000"),
    ('location = "Main\\u0000Street"', "location must be non-empty text"),
])
def test_a_channel_setting_the_sync_could_not_use_is_refused_at_load(tmp_path, line, words):
    config = tmp_path / "config.toml"
    config.write_text(f'[channels.Web]\nplatform = "shopify"\nurl = "https://shop.example.com"\n{line}\n')
    with pytest.raises(ConfigError, match=words):
        load_settings(config_path=config, environ={})


def test_a_store_address_must_be_a_web_address(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[channels.Web]\nplatform = "shopify"\nurl = "ftp://shop.example.com"\n')
    with pytest.raises(ConfigError, match="url must start with https://"):
        load_settings(config_path=config, environ={})
    config.write_text('[channels.Web]\nplatform = "shopify"\nurl = "https://shop.example.com"\n'
                      'export_time = "6:30"\ntime_zone = "America/New_York"\n')
    assert load_settings(config_path=config, environ={}).channels["Web"]["export_time"] == "6:30"


@pytest.mark.parametrize("lines, message", [
    ('bell = "no"', "console.bell must be true or false"),
    ("refresh_seconds = 0", "from 0.2 to 600"),
    ("refresh_seconds = true", "from 0.2 to 600"),
    ("beep = true", "unknown setting console.beep"),
])
def test_the_consoles_own_settings_are_checked(tmp_path, lines, message):
    path = tmp_path / "config.toml"
    path.write_text(f"[console]\n{lines}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(config_path=path, environ={})


def test_the_bell_and_the_refresh_are_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[console]\nbell = false\nrefresh_seconds = 5\n")
    settings = load_settings(config_path=path, environ={})
    assert (settings.bell, settings.refresh_seconds) == (False, 5.0)
    defaults = load_settings(config_path=tmp_path / "none.toml", environ={})
    assert (defaults.bell, defaults.refresh_seconds) == (True, 0.5)


def test_the_shops_language_region_and_currency_are_read(tmp_path):
    path = tmp_path / "fr.toml"
    path.write_text('[shop]\nlanguage = "fr_FR"\ncurrency = "EUR"\n', encoding="utf-8")
    settings = load_settings(config_path=path, environ={})
    assert (settings.language, settings.currency) == ("fr_FR", "EUR")
    assert load_settings(config_path=tmp_path / "none.toml", environ={}).currency == "CAD"


def test_remembering_the_language_changes_one_line_and_keeps_the_rest(tmp_path):
    from core.settings import remember_language

    path = tmp_path / "shop.toml"
    path.write_text('# our shop\n[shop]\nlanguage = "en"  # staff choose\ntime_zone = "America/Toronto"\n\n'
                    '[console]\nbell = false\n', encoding="utf-8")
    remember_language(path, "fr_CA")
    assert path.read_text(encoding="utf-8") == ('# our shop\n[shop]\nlanguage = "fr_CA"\ntime_zone = "America/Toronto"\n\n'
                                                '[console]\nbell = false\n')
    fresh = tmp_path / "new" / "config.toml"
    remember_language(fresh, "fr")
    assert load_settings(config_path=fresh, environ={}).language == "fr"


def test_remembering_the_language_replaces_the_file_whole_and_keeps_its_permissions(tmp_path, monkeypatch):
    """A crash in the middle of writing leaves the old settings file intact."""
    from core import settings as settings_module

    path = tmp_path / "shop.toml"
    path.write_text('[shop]\nlanguage = "en"\n', encoding="utf-8")
    path.chmod(0o600)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(settings_module.os, "replace", crash)
    with pytest.raises(OSError):
        settings_module.remember_language(path, "fr")
    assert path.read_text(encoding="utf-8") == '[shop]\nlanguage = "en"\n'
    monkeypatch.undo()
    settings_module.remember_language(path, "fr")
    assert 'language = "fr"' in path.read_text(encoding="utf-8") and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["shop.toml"]
