"""The member chat every dialog test drives."""

from __future__ import annotations

import pytest

from bot.dialogs.core import DialogConfig
from domain.regions import RegionIndex
from tests.dialog_driver import Chat


@pytest.fixture
def chat(dialog_config: DialogConfig, regions: RegionIndex) -> Chat:
    return Chat(dialog_config, regions)
