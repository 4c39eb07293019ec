"""One class per question of the member form: what to ask, which options to offer, how to read an answer.

The same steps serve a new registration, the summary's "Ubah" and `/ubah` on a saved member.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.dialogs.core import Choice, Context, Reply, choice_keys
from bot.dialogs.state import Draft, State, Step
from bot.texts import month_year, rupiah, t
from domain.answers import dont_know, is_command_word, yes_or_no
from domain.identity import NIK_TRIES, KpjProblem, Nik, format_phone, parse_kpj, parse_nik, parse_phone
from domain.names import match_names, normalize_name
from domain.occupations import occupation_of
from domain.phones import means_no_phone, means_this_number, phone_owner_of
from domain.regions import Region, inside
from domain.rules import ContributionMonth, parse_month
from domain.tariffs import parse_income
from domain.vocabulary import BpjsStatus, Occupation, Payer, PhoneOwner


@dataclass(frozen=True, slots=True)
class Accept:
    draft: Draft
    # The answer settled the questions up to this one too: a typed village the desa, "no phone" whose phone it is.
    skip_to: Step | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    message: str


@dataclass(frozen=True, slots=True)
class Taken:
    """The NIK typed is registered already (for someone other than the member being changed)."""

    nik: str


@dataclass(frozen=True, slots=True)
class Narrow:
    """Typed text matched several regions: offer just those. `confirm`: it was only close to the one in `codes`: ask
    whether it is meant before taking it. No codes: ask the whole question again."""

    codes: list[str]
    confirm: bool = False


Answer = Accept | Reject | Narrow | Taken


class FieldStep:
    step: Step
    by_label = True  # a typed answer may name an option by its label ("keluarga"), not only by its key

    def question(self, state: State, ctx: Context) -> Reply:
        return Reply(t(f"ask.{self.step}"), tuple(self.choices(state, ctx)))

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        return []

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        raise NotImplementedError(self.step)

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        return Reject(t(f"invalid.{self.step}"))

    def on_contact(self, state: State, phone: str, is_sender: bool, ctx: Context) -> Answer:
        return Reject(t("invalid.contact_here"))


def with_draft(state: State, **changes: object) -> Draft:
    return state.draft.model_copy(update=changes)


class EnumStep(FieldStep):
    """A question answered by one of a fixed set of options."""

    field: str
    options: Sequence[str]

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        return [Choice(t(f"option.{self.field}.{option}"), f"{self.field}:{option}") for option in self.options]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        return Accept(with_draft(state, **{self.field: value.split(":", 1)[1]}))


def not_a_name(text: str) -> bool:
    """A yes/no word or a command word typed alone answers something else, whatever the question."""
    return yes_or_no(text) is not None or is_command_word(text)


class NameStep(FieldStep):
    step = Step.NAME
    _allowed = re.compile(r"^[^\W\d_]+(?:[ .,'\-][^\W\d_]*)*\.?$")

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        name = " ".join(text.split())
        if not_a_name(name):  # "Setuju" typed twice: the consent's answer, not the member's name
            return Reject(t("invalid.name_word"))
        if len(name) > 100:
            return Reject(t("invalid.name_long"))
        letters = sum(ch.isalpha() for ch in name)
        if letters < 2 or not self._allowed.match(name):
            return Reject(t("invalid.name"))
        if name.isupper() or name.islower():
            name = name.title()
        return Accept(with_draft(state, full_name=name))


class NikStep(FieldStep):
    step = Step.NIK

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        # Every NIK waits once a chat has typed many (staff registering door to door aside): whether a NIK is
        # registered must not be learnt by trying them.
        if ctx.staff.here() is None and ctx.chat.nik_attempts() >= NIK_TRIES:
            return Reject(t("invalid.nik_wait"))
        parsed = parse_nik(text, regions=ctx.regions, today=ctx.today)
        if not isinstance(parsed, Nik):
            return Reject(t(f"invalid.nik_{parsed}"))
        if ctx.chat.nik_registered(parsed.value, except_member=state.member_id):
            return Taken(parsed.value)
        return Accept(with_draft(state, nik=parsed.value))


class PhoneStep(FieldStep):
    """The number reminders go to: the member's own, a relative's or a neighbour's, or none at all."""

    step = Step.PHONE

    def question(self, state: State, ctx: Context) -> Reply:
        return Reply(t("ask.phone"), tuple(self.choices(state, ctx)), request_contact=True)

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        here = ctx.chat.own_number()  # WhatsApp's "share my number": the chat is one
        this_chat = [Choice(t("option.phone.here", phone=format_phone(here)), "phone:here")] if here else []
        return [*this_chat, Choice(t("option.phone.none"), "phone:none")]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        here = ctx.chat.own_number()
        if value == "phone:here" and here:
            return Accept(with_draft(state, phone=here, phone_owner=None))
        return Accept(with_draft(state, phone=None, phone_owner=None), skip_to=Step.PHONE_OWNER)

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        if means_this_number(text) and ctx.chat.own_number():
            return self.on_choice(state, "phone:here", ctx)
        parsed = parse_phone(text)
        if parsed.startswith("+"):
            # Whose it is is asked next, also for a number shared as the sender's own: they may register their father.
            return Accept(with_draft(state, phone=parsed, phone_owner=None))
        if means_no_phone(text):
            return self.on_choice(state, "phone:none", ctx)
        return Reject(t(f"invalid.phone_{parsed}"))

    def on_contact(self, state: State, phone: str, is_sender: bool, ctx: Context) -> Answer:
        # A contact card forwarded from the address book is someone else's number, not a verified one.
        if not is_sender:
            return Reject(t("invalid.contact_not_own"))
        return self.on_text(state, phone, ctx)


class PhoneOwnerStep(EnumStep):
    step = Step.PHONE_OWNER
    field = "phone_owner"
    options = tuple(PhoneOwner)

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        owner = phone_owner_of(text)  # "anak saya", "istri", "ketua poktan", "punya sendiri"
        if owner is None:
            return Reject(t("invalid.phone_owner"))
        return self.on_choice(state, f"{self.field}:{owner}", ctx)


def paged(items: Sequence[Choice], page: int, size: int) -> list[Choice]:
    """One page of options plus the navigation options that apply."""
    last_page = max(0, (len(items) - 1) // size)
    page = min(max(page, 0), last_page)
    shown = list(items[page * size : (page + 1) * size])
    if page > 0:
        shown.append(Choice(t("option.nav.prev"), "nav:prev"))
    if page < last_page:
        shown.append(Choice(t("option.nav.next"), "nav:next"))
    return shown


class RegionStep(FieldStep):
    """Kecamatan or desa: options from the service area, paged. A typed name is taken when it is exactly a name (case,
    spaces and punctuation aside), offered as a choice when it fits several, and confirmed when it is only close to
    one ("leworen": "Maksud Bapak/Ibu: Desa Leworeng?"), so that a typo is never saved unseen."""

    prefix: str
    # Typed names are read by `on_text` over every option, not just this page's, so a close one is confirmed.
    by_label = False
    OTHER = "other"  # the "Bukan" of a confirmation: ask again

    def regions(self, state: State, ctx: Context) -> list[Region]:
        raise NotImplementedError

    def label(self, region: Region, state: State, ctx: Context) -> str:
        return region.name

    def offered(self, state: State, ctx: Context) -> list[Region]:
        """The options: all, or those the last answer narrowed to (a kabupaten's code stands for its kecamatan)."""
        regions = self.regions(state, ctx)
        if not state.candidates:
            return regions
        return [r for r in regions if inside(r.code, state.candidates)]

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        meant = pending(state)
        if meant is not None:
            return [
                Choice(t("option.confirm.yes"), f"{self.prefix}:{meant}"),
                Choice(t("option.confirm.no"), f"{self.prefix}:{self.OTHER}"),
            ]
        return paged(self.options(state, ctx), state.page, ctx.config.page_size)

    def options(self, state: State, ctx: Context) -> list[Choice]:
        """Every option offered, on all pages."""
        return [Choice(self.label(r, state, ctx), f"{self.prefix}:{r.code}") for r in self.offered(state, ctx)]

    def question(self, state: State, ctx: Context) -> Reply:
        return Reply(self.asking(state, ctx), tuple(self.choices(state, ctx)))

    def asking(self, state: State, ctx: Context) -> str:
        kecamatan = ctx.regions.name(state.draft.kecamatan_code or "")
        meant = pending(state)
        if meant is not None:
            named = place(ctx.regions.get(meant), ctx, with_kecamatan=self.step is Step.KECAMATAN)
            return t("ask.place_confirm", place=named)
        return t(f"ask.{self.step}_narrowed" if state.candidates else f"ask.{self.step}", kecamatan=kecamatan)

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        meant = pending(state)
        if meant is not None:
            said = confirmed(text)
            if said is not None:
                return self.on_choice(state, f"{self.prefix}:{meant if said else self.OTHER}", ctx)
            return self.read(state, text, ctx)  # another name typed instead of yes or no: read it as an answer
        # An option as shown ("Donri-Donri (Soppeng)", "Desa Mario, Kecamatan Kulo"), typed or pasted.
        wanted = normalize_name(text)
        shown = [c for c in self.options(state, ctx) if normalize_name(c.label) == wanted]
        if len(shown) == 1:
            return self.on_choice(state, shown[0].value, ctx)
        if state.candidates:  # a name of the few just offered beats the same name elsewhere
            among = ctx.regions.find(text, self.offered(state, ctx))
            if among.exact:
                return taken(self, state, among.regions, ctx)
        return self.read(state, text, ctx)

    def read(self, state: State, text: str, ctx: Context) -> Answer:
        raise NotImplementedError


def pending(state: State) -> str | None:
    """The region a typed name was only close to, while "Maksud Bapak/Ibu: …?" waits for a yes or no."""
    return state.candidates[0] if state.confirm and state.candidates else None


def place(region: Region | None, ctx: Context, *, with_kecamatan: bool) -> str:
    """'Kecamatan Lilirilau', 'Desa Leworeng', 'Kelurahan Bila'; a desa named at the kecamatan question with its
    kecamatan ('Desa Leworeng, Kecamatan Donri-Donri')."""
    if region is None:
        return ""
    if region.level == 3:
        return t("place.kecamatan", name=region.name)
    # Kemendagri codes: a last segment starting with 1 is a kelurahan, with 2 a desa.
    own = t("place.kelurahan" if region.code.rsplit(".", 1)[1].startswith("1") else "place.desa", name=region.name)
    if not with_kecamatan:
        return own
    return t("place.in_kecamatan", place=own, kecamatan=ctx.regions.name(region.parent_code))


def confirmed(text: str) -> bool | None:
    """The answer to "Maksud Bapak/Ibu: …?": a yes or no word ("iye", "nda"), or the options' own words ("bukan")."""
    said = yes_or_no(text)
    if said is not None:
        return said
    labels = [t("option.confirm.yes"), t("option.confirm.no")]
    hits = match_names(text, labels)
    return hits[0] == 0 if len(hits) == 1 else None


def taken(step: RegionStep, state: State, regions: Sequence[Region], ctx: Context) -> Answer:
    """The answer that names these regions: the one, or a choice of them."""
    if len(regions) == 1:
        return step.on_choice(state, f"{step.prefix}:{regions[0].code}", ctx)
    return Narrow([r.code for r in regions])


def close(regions: Sequence[Region]) -> Answer:
    """Typed text only close to these names: confirm the one, or offer the few."""
    return Narrow([regions[0].code], confirm=True) if len(regions) == 1 else Narrow([r.code for r in regions])


class KecamatanStep(RegionStep):
    step = Step.KECAMATAN
    prefix = "kec"

    def regions(self, state: State, ctx: Context) -> list[Region]:
        return ctx.regions.kecamatan_in(ctx.config.service_area)

    def villages(self, state: State, ctx: Context) -> list[Region]:
        return [d for k in self.regions(state, ctx) for d in ctx.regions.children(k.code)]

    def offered(self, state: State, ctx: Context) -> list[Region]:
        # Narrowed to villages too (a town's kelurahan, "mario" that is a village and starts two kecamatan).
        if not any(code.count(".") == 3 for code in state.candidates):
            return super().offered(state, ctx)
        kecamatan = self.regions(state, ctx)
        shown: list[Region] = []
        for code in state.candidates:
            village = ctx.regions.get(code) if code.count(".") == 3 else None
            shown.extend([village] if village else [k for k in kecamatan if inside(k.code, [code])])
        return shown

    def label(self, region: Region, state: State, ctx: Context) -> str:
        if region.level == 4:
            # Villages of one kecamatan (a town) by name; else with the kecamatan they are in.
            alone = len({code.rsplit(".", 1)[0] for code in state.candidates if code.count(".") == 3}) == 1
            if alone and all(code.count(".") == 3 for code in state.candidates):
                return region.name
            return place(region, ctx, with_kecamatan=True)
        # Several kabupaten in one deployment: say which, so same-named kecamatan stay apart.
        if len({code[:5] for code in ctx.config.service_area}) > 1:
            kabupaten = ctx.regions.name(region.parent_code).removeprefix("Kabupaten ").removeprefix("Kota ")
            return f"{region.name} ({kabupaten})"
        return region.name

    def asking(self, state: State, ctx: Context) -> str:
        if state.confirm or not state.candidates:
            return super().asking(state, ctx)
        if len(state.candidates) == 1 and state.candidates[0].count(".") == 1:
            return t("ask.kecamatan_in_kabupaten", kabupaten=ctx.regions.name(state.candidates[0]))
        parents = {code.rsplit(".", 1)[0] for code in state.candidates}
        if all(code.count(".") == 3 for code in state.candidates) and len(parents) == 1:
            return t("ask.desa_narrowed", kecamatan=ctx.regions.name(parents.pop()))
        return t("ask.kecamatan_narrowed")

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        code = value.split(":", 1)[1]
        if code == self.OTHER:
            return Narrow([])
        if code.count(".") == 3:  # a village: it answers the desa question too
            return Accept(with_draft(state, kecamatan_code=code.rsplit(".", 1)[0], desa_code=code), skip_to=Step.DESA)
        keep_desa = state.draft.desa_code if (state.draft.desa_code or "").startswith(code + ".") else None
        return Accept(with_draft(state, kecamatan_code=code, desa_code=keep_desa))

    def read(self, state: State, text: str, ctx: Context) -> Answer:
        kecamatan = self.regions(state, ctx)
        found = ctx.regions.find(text, kecamatan)
        if found.exact:
            return taken(self, state, found.regions, ctx)
        kabupaten = ctx.regions.kabupaten_named(text)
        if kabupaten is not None:
            # "Soppeng", "Sidrap": the kabupaten, not yet the kecamatan. Offer its kecamatan, or say it is not served.
            if any(inside(k.code, [kabupaten.code]) for k in kecamatan):
                return Narrow([kabupaten.code])
            area = sorted({ctx.regions.name(code[:5]) for code in ctx.config.service_area})
            return Reject(t("invalid.kabupaten_outside", kabupaten=kabupaten.name, area=", ".join(area)))
        # People often name their village, or their town ("Watansoppeng"), rather than the kecamatan.
        villages = self.villages(state, ctx)
        served = {v.code for v in villages}
        town = [r for r in ctx.regions.town(text) if r.code in served]
        if town:
            return Narrow([r.code for r in town])
        in_villages = ctx.regions.find(text, villages)
        if in_villages.exact and found.regions:  # "mario": a village's name, and the start of two kecamatan
            return Narrow([r.code for r in (*found.regions, *in_villages.regions)])
        if in_villages.exact:
            return taken(self, state, in_villages.regions, ctx)
        near = found.regions or in_villages.regions
        if near and len(near) <= ctx.config.page_size:  # more would be a guess, not a choice
            return close(near)
        return Reject(t("invalid.kecamatan"))


class DesaStep(RegionStep):
    step = Step.DESA
    prefix = "desa"

    def regions(self, state: State, ctx: Context) -> list[Region]:
        return list(ctx.regions.children(state.draft.kecamatan_code or ""))

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        code = value.split(":", 1)[1]
        return Narrow([]) if code == self.OTHER else Accept(with_draft(state, desa_code=code))

    def read(self, state: State, text: str, ctx: Context) -> Answer:
        villages = self.regions(state, ctx)
        found = ctx.regions.find(text, villages)
        if found.exact:
            return taken(self, state, found.regions, ctx)
        served = {v.code for v in villages}
        town = [r for r in ctx.regions.town(text) if r.code in served]
        if town:
            return Narrow([r.code for r in town])
        if ctx.regions.kabupaten_named(text) is not None:
            return Reject(t("invalid.desa_kabupaten"))
        if found.regions:
            return close(found.regions)
        return Reject(t("invalid.desa"))


class OccupationStep(EnumStep):
    step = Step.OCCUPATION
    field = "occupation"
    options = tuple(Occupation)

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        # The import's words too ("tani", "tukang ojek"): a driver read as "lainnya" would lose the transport relief.
        occupation = occupation_of(text)
        if occupation is None:
            return Reject(t("invalid.occupation"))
        return self.on_choice(state, f"{self.field}:{occupation}", ctx)


class BpjsStatusStep(EnumStep):
    step = Step.BPJS_STATUS
    field = "bpjs_status"
    options = tuple(BpjsStatus)

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        status = value.split(":", 1)[1]
        if status == BpjsStatus.NOT_REGISTERED:
            return Accept(with_draft(state, bpjs_status=status, kpj=None, last_paid=None))
        return Accept(with_draft(state, bpjs_status=status))

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        said = yes_or_no(text)  # "Apakah peserta sudah terdaftar?" — "iye", "belum" is an option's label
        if said is None:
            return Reject(t("invalid.bpjs_status"))
        status = BpjsStatus.MEMBER if said else BpjsStatus.NOT_REGISTERED
        return self.on_choice(state, f"{self.field}:{status}", ctx)


class KpjStep(FieldStep):
    step = Step.KPJ

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        return [Choice(t("option.skip"), "kpj:skip")]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        return Accept(with_draft(state, kpj=None))

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        if dont_know(text):  # "nda tau": the skip its question offers
            return Accept(with_draft(state, kpj=None))
        kpj = parse_kpj(text)
        if kpj == KpjProblem.LENGTH:  # "usually 11": said with what came, so a missed or extra digit shows
            typed = sum(c.isdigit() for c in text)
            return Reject(t("invalid.kpj_length", typed=typed))
        if kpj == KpjProblem.NOT_DIGITS:
            return Reject(t("invalid.kpj_not_digits"))
        return Accept(with_draft(state, kpj=kpj))


class LastPaidStep(FieldStep):
    step = Step.LAST_PAID
    recent = 6

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        this_month = ContributionMonth.of(ctx.today)
        months = [this_month.plus(-offset) for offset in range(self.recent)]
        options = [Choice(month_year(m.year, m.month), f"paid:{m}") for m in months]
        return [*options, Choice(t("option.last_paid_unknown"), "paid:unknown")]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        return Accept(with_draft(state, last_paid=value.split(":", 1)[1]))

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        if dont_know(text):  # "lupa": the "Tidak ingat" it offers
            return Accept(with_draft(state, last_paid="unknown"))
        month = parse_month(text)
        if month is None:
            return Reject(t("invalid.last_paid"))
        if month > ContributionMonth.of(ctx.today).plus(12):
            return Reject(t("invalid.last_paid_future"))
        return Accept(with_draft(state, last_paid=str(month)))


class PayerStep(EnumStep):
    step = Step.PAYER
    field = "payer"
    options = tuple(Payer)

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        payer = value.split(":", 1)[1]
        sponsor = state.draft.sponsor_name if payer == Payer.SPONSOR else None
        return Accept(with_draft(state, payer=payer, sponsor_name=sponsor))


class SponsorStep(FieldStep):
    step = Step.SPONSOR

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        return [Choice(t("option.skip"), "sponsor:skip")]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        return Accept(with_draft(state, sponsor_name=None))

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        name = " ".join(text.split())
        if dont_know(name):  # the skip its question offers
            return Accept(with_draft(state, sponsor_name=None))
        if not_a_name(name):
            return Reject(t("invalid.sponsor_word"))
        if not 2 <= len(name) <= 100 or not re.search(r"[^\W\d_]{2}", name) or re.search(r"[<>{}\[\]\\|`]", name):
            return Reject(t("invalid.sponsor"))
        return Accept(with_draft(state, sponsor_name=name))


def next_month(draft: Draft, ctx: Context) -> ContributionMonth:
    """The first month the member will be asked for: the one after the last paid, else this month."""
    last_paid = draft.last_paid_month()
    return ContributionMonth.of(ctx.today) if last_paid is None else last_paid.plus(1)


def monthly_cost(draft: Draft, ctx: Context, *, with_jht: bool | None = None) -> int:
    """What the draft's next month costs (with or without JHT when asked, else as the draft says)."""
    return ctx.tariffs.monthly(
        next_month(draft, ctx),
        occupation=draft.occupation or Occupation.LAINNYA,
        payer=draft.payer or Payer.SELF,
        declared_income=draft.declared_income or 0,
        with_jht=bool(draft.with_jht) if with_jht is None else with_jht,
    )


# A few declared incomes to tap, in millions (the first is the minimum); any other amount can be typed. Contiguous,
# so that the number of a line is also its millions ("2" is Rp2.000.000 either way; "5", beyond the list, 5 juta):
# a WhatsApp list numbered 1, 2, 3, 5 read as a typo.
INCOME_OPTIONS = (1, 2, 3, 4)
PLAUSIBLE_INCOME = 100_000_000  # a typo guard ("15000000000"), not a rule


class IncomeStep(FieldStep):
    step = Step.INCOME
    by_label = False  # amounts are read as amounts: "1500000" spelled loosely is close to "Rp5.000.000"

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        minimum = ctx.tariffs.income.minimum
        amounts = [minimum, *(m * 1_000_000 for m in INCOME_OPTIONS if m * 1_000_000 > minimum)]
        return [
            Choice(
                t("option.income_minimum", amount=rupiah(amount)) if amount == minimum else rupiah(amount),
                f"income:{amount}",
            )
            for amount in amounts
        ]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        return Accept(with_draft(state, declared_income=int(value.split(":", 1)[1])))

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        income = parse_income(text)
        minimum = ctx.tariffs.income.minimum
        if income is None:
            return Reject(t("invalid.income"))
        if income < minimum:
            return Reject(t("invalid.income_low", minimum=rupiah(minimum)))
        if income > PLAUSIBLE_INCOME:
            return Reject(t("invalid.income_high"))
        return Accept(with_draft(state, declared_income=income))


class ProgramsStep(FieldStep):
    """JKK + JKM always; JHT (old-age savings) optional, its option saying what it adds a month."""

    step = Step.PROGRAMS

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        added = monthly_cost(state.draft, ctx, with_jht=True) - monthly_cost(state.draft, ctx, with_jht=False)
        return [
            Choice(t("option.programs.base"), "programs:base"),
            Choice(t("option.programs.jht", amount=rupiah(added)), "programs:jht"),
        ]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        return Accept(with_draft(state, with_jht=value == "programs:jht"))

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        chosen = True if text.strip().rstrip(".!").lower() == "jht" else yes_or_no(text)
        if chosen is None:
            return Reject(t("invalid.programs"))
        return Accept(with_draft(state, with_jht=chosen))


PERIODS = (1, 3, 6, 12)


class PeriodStep(FieldStep):
    step = Step.PERIOD

    def choices(self, state: State, ctx: Context) -> list[Choice]:
        # Keyed by the number of months so that typing "3" means three months, not the third option.
        return [Choice(t("option.period", months=m), f"period:{m}", key=str(m)) for m in PERIODS]

    def on_choice(self, state: State, value: str, ctx: Context) -> Answer:
        return Accept(with_draft(state, period_months=int(value.split(":", 1)[1])))

    def on_text(self, state: State, text: str, ctx: Context) -> Answer:
        words = {"satu": 1, "se": 1, "tiap": 1, "setiap": 1, "per": 1, "tiga": 3, "enam": 6, "dua belas": 12,
                 "setahun": 12, "satu tahun": 12, "tahunan": 12, "per tahun": 12, "tiap tahun": 12}  # fmt: skip
        # "tiap bulan", "sebulan", "3 bulan sekali", "bulanan": how often, said as people say it
        cleaned = " ".join(text.strip().lower().replace("sebulan", "se bulan").split())
        cleaned = re.sub(r"\s*(?:sekali|saja)$", "", cleaned)
        cleaned = "satu" if cleaned == "bulanan" else re.sub(r"\s*bulan$", "", cleaned)
        months = words.get(cleaned) or (int(cleaned) if cleaned.isdecimal() else 0)
        if months in PERIODS:
            return Accept(with_draft(state, period_months=months))
        return Reject(t("invalid.period"))


FIELD_STEPS: dict[Step, FieldStep] = {
    step.step: step
    for step in (
        NameStep(),
        NikStep(),
        PhoneStep(),
        PhoneOwnerStep(),
        KecamatanStep(),
        DesaStep(),
        OccupationStep(),
        BpjsStatusStep(),
        KpjStep(),
        LastPaidStep(),
        PayerStep(),
        SponsorStep(),
        IncomeStep(),
        ProgramsStep(),
        PeriodStep(),
    )
}


def typed_choice(text: str, choices: Sequence[Choice], *, by_label: bool = True) -> Choice | None:
    """The option a typed answer names: its key ("2"), or its label spelled loosely ("setuju", "Donri donri")."""
    cleaned = text.strip().rstrip(".").lower()
    for key, choice in zip(choice_keys(choices), choices, strict=True):
        if cleaned == key.lower():
            return choice
    if not by_label:
        return None
    hits = match_names(text, [choice.label for choice in choices])
    return choices[hits[0]] if len(hits) == 1 else None
