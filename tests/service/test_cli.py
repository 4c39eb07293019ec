"""The command line: the demo on a fresh SQLite file, the terminal chat, migrate, and settings safety."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.__main__ import main
from bot.channels.console import chat_loop
from bot.settings import Settings
from bot.texts import t
from bot.texts.words import stage_words
from service.conversations import Conversations
from tests.dialog_driver import HAPPY_PATH, NOW
from tests.service.test_import import branch_file, sheet_of


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run the CLI as on a fresh machine: no .env, keys and databases under a temporary folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def test_demo_registers_a_farmer_on_a_fresh_database(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--members", "40", "--database", str(isolated / "demo.db")]) == 0
    out = capsys.readouterr().out
    assert "== 60 hari pengingat (simulasi) ==" in out
    assert stage_words("H-7") in out
    assert "La Baco sudah tersimpan" in out
    assert "7312********9001" in out
    assert "Peserta: 41" in out
    assert (isolated / "keys" / "dev-secrets.json").exists()
    # Run twice: the demo rebuilds its database instead of tripping over the first run's members.
    assert main(["demo", "--members", "40", "--days", "3", "--database", str(isolated / "demo.db")]) == 0
    assert "Peserta: 41" in capsys.readouterr().out


SLASH_COMMAND = re.compile(r"(?<![\w.])/[a-z]")  # "/status", not "Desa/kelurahan" nor "Rp20.000/bulan"


def test_the_demos_conversation_and_reminder_read_as_whatsapp(
    isolated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--members", "40", "--days", "30", "--database", str(isolated / "demo.db")]) == 0
    out = capsys.readouterr().out
    conversation = out[out.index(t("demo.registration")) : out.index(t("demo.database"))]
    reminder = out[out.index(t("demo.example")) : out.index(t("demo.stage"))]
    for shown in (conversation, reminder):
        assert not SLASH_COMMAND.search(shown), SLASH_COMMAND.findall(shown)
        assert not re.search(r"tekan|tombol", shown, re.IGNORECASE)
    assert "BERHENTI" in reminder
    assert "> STATUS" in conversation  # the farmer types the word, and the bot answers it
    assert "7312********9001" in conversation


def test_the_demos_counts_say_what_they_count(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlmodel import Session, select

    from storage.db import make_engine
    from storage.models import Member, Payment

    database = isolated / "demo.db"
    assert main(["demo", "--members", "60", "--days", "60", "--database", str(database)]) == 0
    out = capsys.readouterr().out
    engine = make_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        reports = list(session.exec(select(Payment.member_id)).all())
        members = session.exec(select(Member)).all()
    engine.dispose()
    # The database line counts members (and payment reports), as the database has them after the demo.
    recorded = t(
        "demo.tally",
        payments=len(reports),
        payers=len(set(reports)),
        helped=sum(1 for m in members if m.help_requested_at is not None),
        opted_out=sum(1 for m in members if m.opted_out),
        lapsed=sum(1 for m in members if m.lapsed_on is not None),
    )
    lines = out.splitlines()
    assert recorded in lines
    # The replies line counts messages, in words of its own: no count of it reads as one of the database's.
    replies = next(line for line in lines if line.startswith(t("demo.answers", messages="", answers="")[:12]))
    told = {}
    for key in ("paid", "help", "stopped", "waiting"):
        answer = t(f"demo.answer.{key}")
        assert answer not in recorded
        found = re.search(rf"(\d+) {re.escape(answer)}", replies)
        told[key] = int(found.group(1)) if found else 0
    messages = re.search(r"(\d+)", replies)
    assert messages is not None
    assert sum(told.values()) == int(messages.group(1))
    assert 0 < told["paid"] <= len(reports)  # a family phone's one reply reports for each of its members
    assert t("demo.counts_note") in lines  # and the printout says why the two differ


def test_the_demo_keeps_info_logs_out_unless_asked(isolated: Path) -> None:
    import os
    import subprocess
    import sys

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "LOG_LEVEL"} | extra
        command = [sys.executable, "-m", "bot", "demo", "--members", "5", "--days", "3", "--database", "demo.db"]
        return subprocess.run(command, cwd=isolated, env=env, capture_output=True, text=True, check=True, timeout=120)  # noqa: S603 (our own CLI)

    quiet = run()
    assert t("demo.simulated", days=3) in quiet.stdout  # the demo's own printout is all there
    assert " INFO " not in quiet.stdout + quiet.stderr
    assert " INFO " in run(LOG_LEVEL="INFO").stderr  # a LOG_LEVEL the user sets still wins


def test_migrate(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert main(["migrate"]) == 0  # idempotent
    assert (isolated / "cli.db").exists()


def test_console_chat_runs_the_same_dialog(conversations: Conversations) -> None:
    typed = iter([answer for _, answer in HAPPY_PATH] + ["1", "2", "/status", "/keluar"])
    written: list[str] = []
    chat_loop(conversations, address="tty1", clock=lambda: NOW, read=lambda _: next(typed), write=written.append)
    transcript = "\n".join(written)
    assert "1. Setuju\n2. Tidak setuju" in transcript
    assert "La Baco sudah tersimpan" in transcript
    assert "7312********9001" in transcript


def test_production_refuses_placeholder_secrets() -> None:
    with pytest.raises(ValidationError, match="NIK_ENCRYPTION_KEYS"):
        Settings(_env_file=None, environment="production", nik_encryption_keys="change-me", nik_lookup_key="x" * 40)
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings(
            _env_file=None,
            environment="production",
            nik_encryption_keys="a-real-looking-key",
            nik_lookup_key="y" * 40,
            telegram_webhook_url="https://bot.example.org/telegram",
        )
    ok = Settings(_env_file=None, environment="production", nik_encryption_keys="k1,k2", nik_lookup_key="z" * 40)
    assert ok.encryption_keys == ["k1", "k2"]


def test_demo_works_with_the_example_env_copied(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    (isolated / ".env").write_text(example.read_text())
    assert main(["demo", "--members", "5", "--days", "0", "--database", str(isolated / "demo.db")]) == 0
    assert "La Baco sudah tersimpan" in capsys.readouterr().out


def test_run_without_a_token_explains_what_to_do(isolated: Path) -> None:
    with pytest.raises(SystemExit, match="TELEGRAM_BOT_TOKEN"):
        main(["run"])


def test_chat_as_whatsapp_takes_typed_command_words(conversations: Conversations) -> None:
    from bot.channels.whatsapp import incoming_from_text

    typed = iter([answer for _, answer in HAPPY_PATH] + ["1", "2", "status", "/keluar"])
    written: list[str] = []
    chat_loop(
        conversations,
        address="wa1",
        clock=lambda: NOW,
        read=lambda _: next(typed),
        write=written.append,
        translate=incoming_from_text,
    )
    assert "7312********9001" in written[-1]


def test_import_then_export_from_the_command_line(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = isolated / "cabang.xlsx"
    source.write_bytes(branch_file())
    assert main(["migrate"]) == 0
    assert main(["import", str(source)]) == 0  # the preview only
    preview = capsys.readouterr().out
    assert t("cli.import_counts", filename="cabang.xlsx", new=5, updated=0, unchanged=0, invalid=6) in preview
    values = t("admin.import_value", value="SUTASOMA", count=3)
    assert t("admin.import_note.program_unknown", values=values) in preview  # what the chat's preview says
    assert not (isolated / "cabang-kesalahan.xlsx").exists()  # an error file only where asked
    assert t("cli.import_errors_hint") in preview
    assert t("cli.import_preview_only") in preview
    assert main(["import", str(source), "--errors", str(isolated / "salah.xlsx")]) == 0
    assert t("cli.import_errors_written", path=isolated / "salah.xlsx") in capsys.readouterr().out
    # The header, six refused rows, and three imported rows whose Program ("SUTASOMA") was not read.
    assert len(list(sheet_of((isolated / "salah.xlsx").read_bytes()).iter_rows())) == 10
    assert sorted(p.name for p in isolated.iterdir() if p.suffix == ".xlsx") == ["cabang.xlsx", "salah.xlsx"]
    assert main(["import", str(source), "--yes"]) == 0
    assert t("admin.import_done", created=5, updated=0, unchanged=0, confirmed=0, flagged=0) in capsys.readouterr().out
    assert main(["export", "--output", str(isolated / "semua.xlsx")]) == 0
    assert t("cli.exported", count=5, path=isolated / "semua.xlsx") in capsys.readouterr().out
    assert main(["import", str(isolated / "semua.xlsx")]) == 0  # the export reads back as unchanged
    said = t("cli.import_counts", filename="semua.xlsx", new=0, updated=0, unchanged=5, invalid=0)
    assert said in capsys.readouterr().out
    (isolated / "catatan.pdf").write_bytes(b"%PDF-1.4")
    assert main(["import", str(isolated / "catatan.pdf")]) == 2
    assert t("sheet.wrong_type") in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [[], ["run"], ["migrate"], ["chat"], ["scan"], ["dispatch"], ["why"], ["officer-add"], ["payer"], ["payer", "add"],
     ["rotate-keys"], ["import"], ["export"], ["demo"]],
)  # fmt: skip
def test_the_help_is_indonesian(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith("cara pakai: sipakainge")
    # argparse's own headings and the old English helps ("the", "and", "print", "options", "usage")
    english = {"the", "and", "of", "print", "send", "show", "options", "usage", "create", "write"}
    words = re.sub(r"--?[\w-]+|\{[^}]*\}", "", shown)  # the options and commands themselves are names
    assert set(re.findall(r"\b[a-z]+\b", words)) & english == set()
    assert all("  --" not in line or len(line.split()) > 1 for line in shown.splitlines())


def production(keys: str = "k1-real", webhook_secret: str = "") -> Settings:
    return Settings(
        _env_file=None,
        environment="production",
        nik_encryption_keys=keys,
        nik_lookup_key="l" * 40,
        telegram_webhook_url="https://bot.example.org/telegram" if webhook_secret else "",
        telegram_webhook_secret=webhook_secret,
    )


@pytest.mark.parametrize("value", ["CHANGE_ME", "Change Me Please", "replace_me", "<your-key>", "YOUR_KEY_HERE", ""])
def test_a_placeholder_in_any_spelling_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="NIK_ENCRYPTION_KEYS"):
        production(keys=value)


def test_a_short_webhook_secret_and_one_key_for_both_uses_are_refused() -> None:
    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        production(webhook_secret="s3cr3t")
    assert production(webhook_secret="q" * 32).telegram_webhook_secret == "q" * 32
    with pytest.raises(ValidationError, match="NIK_LOOKUP_KEY"):
        production(keys="k2-real," + "l" * 40)


def test_bad_settings_are_one_line_not_a_traceback(
    isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("NIK_ENCRYPTION_KEYS", "CHANGE_ME")
    assert main(["migrate"]) == 2
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1
    assert said.startswith("Pengaturan belum dapat dipakai:")
    assert "NIK_ENCRYPTION_KEYS" in said
    assert "Traceback" not in said


def test_a_missing_import_file_is_one_line(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(isolated / "tidak-ada.xlsx")]) == 2
    error = capsys.readouterr().err
    assert error.strip() == t("cli.import_no_file", path=str(isolated / "tidak-ada.xlsx"))
    assert "Traceback" not in error
