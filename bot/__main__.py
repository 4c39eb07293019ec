"""`sipakainge` command line: run, demo, chat, migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot import app
from bot.channels.console import chat_loop
from bot.conversation import Conversations
from bot.demo import run_demo
from bot.settings import Settings
from storage.db import make_engine, migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sipakainge", description="Pengingat iuran BPJS Ketenagakerjaan.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the Telegram bot (polling, or webhook when TELEGRAM_WEBHOOK_URL is set)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--channel", choices=["console"], default="console")
    chat.add_argument("--as", dest="address", default="terminal", help="the chat address to continue")
    demo = commands.add_parser("demo", help="simulated demo on a fresh SQLite database, no accounts needed")
    demo.add_argument("--members", type=int, default=300)
    demo.add_argument("--database", type=Path, default=Path("data/demo.db"))
    args = parser.parse_args(argv)

    settings = Settings()
    app.configure_logging(settings)
    match args.command:
        case "run":
            asyncio.run(app.serve(settings))
        case "migrate":
            engine = make_engine(settings.database_url)
            migrate(engine)
            print("schema is up to date")
        case "chat":
            engine = app.build_engine(settings)
            conversations = app.build_conversations(settings, engine, app.build_cipher(settings))
            chat_loop(conversations, address=args.address, clock=app.utc_now)
        case "demo":
            cipher = app.build_cipher(settings)

            def make(url: str) -> Conversations:
                demo_settings = settings.model_copy(update={"database_url": url})
                return app.build_conversations(demo_settings, app.build_engine(demo_settings), cipher)

            run_demo(database=args.database, make_conversations=make, members=args.members)
    return 0


if __name__ == "__main__":
    sys.exit(main())
