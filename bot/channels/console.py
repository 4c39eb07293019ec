"""The terminal as a channel: the same dialogs, options numbered as WhatsApp will show them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.channels.plain import render_plain
from bot.conversation import Conversations
from bot.dialogs.core import Incoming
from bot.texts import t
from storage.models import Channel


def chat_loop(
    conversations: Conversations,
    *,
    address: str,
    clock: Callable[[], datetime],
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> None:
    """Talk to the bot in a terminal until end of input (Ctrl-D) or `/keluar`."""
    write(t("console.intro") + "\n")
    for reply in conversations.handle(Channel.CONSOLE, address, Incoming.from_text("/start"), clock()):
        write(render_plain(reply) + "\n")
    while True:
        try:
            line = read("> ")
        except EOFError:
            return
        if line.strip().lower() in {"/keluar", "/exit"}:
            return
        for reply in conversations.handle(Channel.CONSOLE, address, Incoming.from_text(line), clock()):
            write(render_plain(reply) + "\n")
