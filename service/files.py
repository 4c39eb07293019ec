"""Files in and out of a conversation, kept out of its locked transaction: an admin's member spreadsheet is read and
checked before the chat is locked (100,000 rows take 20 seconds), and the files the dialogs ask for (an officer's
list, /statistik's chart, an /ekspor, an import's errors) are made after the commit, by `files`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from bot.dialogs.core import (
    Attachment,
    ChartFile,
    DialogConfig,
    ErrorFile,
    ExportFile,
    FileRequest,
    Incoming,
    Kind,
    ListFile,
    Reply,
)
from domain.regions import RegionIndex
from domain.vocabulary import OfficerRole
from files import charts, member_sheet, officer_list, xlsx
from storage import officers


def read_upload(
    engine: Engine,
    config: DialogConfig,
    regions: RegionIndex,
    incoming: Incoming,
    *,
    chat: tuple[str, str],
    today: date,
) -> Incoming:
    """A document, as the dialogs get it: an admin's read and checked (`Incoming.checked`); anyone else's not read
    at all, only named (the dialog answers it as unsupported). `chat`: (channel, external id)."""
    if incoming.kind is not Kind.FILE:
        return incoming
    if not may_import(engine, config, *chat):
        return Incoming.file(incoming.filename, b"", size=incoming.size)
    area = config.service_area
    sheet = member_sheet.read(
        incoming.filename, incoming.content, regions=regions, area=area, today=today, size=incoming.size
    )
    return Incoming.checked(incoming.filename, sheet)


def may_import(engine: Engine, config: DialogConfig, channel: str, external_id: str) -> bool:
    """Only an admin may import: one named in the settings, or a staff member bound to this chat as admin (the
    dialog checks again, inside the conversation's transaction)."""
    if f"{channel}:{external_id}" in config.admins:
        return True
    with Session(engine) as session:
        staff = officers.staff_of_chat(session=session, channel=channel, external_id=external_id)
    return staff is not None and staff.role == OfficerRole.ADMIN


def render(replies: list[Reply], regions: RegionIndex) -> list[Reply]:
    """The replies with the file each asked for made and attached, as the channels send them."""
    return [
        replace(reply, attachment=attachment(reply.file_request, regions), file_request=None)
        if reply.file_request is not None
        else reply
        for reply in replies
    ]


def attachment(request: FileRequest, regions: RegionIndex) -> Attachment:
    match request:
        case ListFile(items=items, day=day):
            return Attachment(f"daftar-{day.isoformat()}.xlsx", xlsx.MEDIA_TYPE, officer_list.workbook(items, regions))
        case ChartFile(areas=areas, weekly=weekly, day=day):
            chart = charts.coverage_chart(areas, weekly, regions.name)
            return Attachment(f"statistik-{day.isoformat()}.png", "image/png", chart)
        case ExportFile(rows=rows, day=day):
            content = member_sheet.export(rows, regions=regions)
            return Attachment(f"peserta-{day.isoformat()}.xlsx", xlsx.MEDIA_TYPE, content)
        case ErrorFile(errors=errors):
            return Attachment("kesalahan-impor.xlsx", xlsx.MEDIA_TYPE, member_sheet.error_file(errors))
