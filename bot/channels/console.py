"""The terminal as a channel: the same dialogs, options numbered as WhatsApp will show them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.channels.plain import render_plain
from bot.dialogs.core import Incoming, Reply
from bot.texts import speaking, t
from domain.delivery import SendResult, Sent, Target
from domain.vocabulary import Channel
from service.conversations import Conversations


def chat_loop(
    conversations: Conversations,
    *,
    address: str,
    clock: Callable[[], datetime],
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
    translate: Callable[[str], Incoming] = Incoming.from_text,
    channel: str = Channel.TELEGRAM,
) -> None:
    """Talk to the bot in a terminal until end of input (Ctrl-D) or `/keluar`, worded as `channel` words it. As
    WhatsApp the terminal is a WhatsApp chat from the number `address` (the number proves links to members with it,
    "nomor ini" gives it); otherwise it is the terminal, the operator's own chat."""
    chat_channel = Channel.WHATSAPP if channel == Channel.WHATSAPP else Channel.CONSOLE
    with speaking(channel):
        write(t("console.intro") + "\n")
        for reply in conversations.handle(chat_channel, address, Incoming.from_text("/start"), clock()):
            write(render_plain(reply) + "\n")
        while True:
            try:
                line = read("> ")
            except EOFError:
                return
            if line.strip().lower() in {"/keluar", "/exit"}:
                return
            for reply in conversations.handle(chat_channel, address, translate(line), clock()):
                write(render_plain(reply) + "\n")


@dataclass
class ConsoleSender:
    """Prints reminders instead of sending them (development and the demo); reports them as sent."""

    channel: str = Channel.TELEGRAM
    per_second: float = 0.0
    per_chat_seconds: float = 0.0
    write: Callable[[str], None] = print
    count: int = 0

    async def send(self, target: Target, message: Reply) -> SendResult:
        self.count += 1
        self.write(f"[{self.channel} {target.external_id}]\n{render_plain(message)}\n")
        return Sent(provider_id=f"console-{self.count}")
