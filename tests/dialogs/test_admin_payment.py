"""/bayar as an admin types it: a number of months the bot cannot read is explained, never a crash."""

from __future__ import annotations

import pytest

from bot.dialogs.core import DialogConfig, StaffView
from bot.texts import t
from domain.regions import sulawesi_selatan
from domain.vocabulary import OfficerRole
from tests.dialog_driver import Chat

NIK = "7312060101809101"  # fake: Donri-Donri, born 1 January 1980


@pytest.mark.parametrize("months", ["²", "³", "x", "13"])
def test_bayar_with_months_that_are_no_number_of_months_is_explained(months: str) -> None:
    # Found by the fuzzer: "²" passes str.isdigit() but int() refuses it.
    chat = Chat(DialogConfig(service_area=("73.12",), data_holder="uji", consent_version="uji"), sulawesi_selatan())
    chat.lookups.role = StaffView(OfficerRole.ADMIN)
    [reply] = chat.send(f"/bayar {NIK} {months}")
    assert reply.text == t("admin.pay_usage", most=12)
