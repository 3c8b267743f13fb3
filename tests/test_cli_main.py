"""The `rfloc` dispatcher: every module of rfloc.cli is a subcommand, listed with its help line."""

import pkgutil

import rfloc.cli
from rfloc import __version__
from rfloc.cli import main


def test_help_lists_every_subcommand_module(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    modules = [m.name for m in pkgutil.iter_modules(rfloc.cli.__path__) if not m.name.startswith("_")]
    assert {"train", "theory", "reproduce", "bench"} <= set(modules)
    for name in modules:
        assert f"  {name.replace('_', '-')} " in out
        assert __import__(f"rfloc.cli.{name}", fromlist=["HELP"]).HELP in out


def test_version_unknown_command_and_subcommand_help(capsys):
    assert main(["--version"]) == 0 and __version__ in capsys.readouterr().out
    assert main(["frobnicate"]) == 2 and "unknown command" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["reproduce", "--help"]) == 0
    assert "--out" in capsys.readouterr().out
