"""CSV exports on a real store (each backend): the operator's full file, the delivery file that must
never carry a surname, an address or a postal code, the partner's opted-in signers, and
constant memory on a large campaign."""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import tracemalloc
from dataclasses import replace
from datetime import date

import pytest

from tests.conftest import OPENER, SEALER, signer
from widget import exports
from widget.campaigns import load_file
from widget.resources import resource
from widget.signing import accept
from widget.store import open_store

BELARUS = replace(load_file(resource("campaigns") / "belarus.toml"), ask_postal_code=True)
KEY = "k" * 40
COUNTRIES = ("CA", "BY", "LT", "PL", "DE")
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+cmd", "@SUM(1)", "-2+3")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def seed_form(i: int) -> dict[str, str]:
    """Signer i: a distinctive surname, address and postal code; partners by i % 6."""
    form = signer(
        i,
        first_name=f"Alesia{i:02d}",
        last_name=f"Zzsurname{i:02d}",
        email=f"zzmailbox{i:02d}@zzdomain{i:02d}.example",
        postal_code=f"Q{i:02d}X 7PZ",
        country=COUNTRIES[i % len(COUNTRIES)],
        opt_in="1" if i % 2 else "",
    )
    if i < len(FORMULAS):
        form["first_name"] = FORMULAS[i]
    if i == 27:  # the whole name typed into the first-name field
        form["first_name"] = "Alesia27 Zzsurname27"
    if i == 28:
        form["last_name"] = "'t Zzsurname28"  # starts with a non-letter: no initial
    if i == 29:
        form["last_name"] = "ŭzzsurname29"
    partner = {0: ("diaspora", "1"), 1: ("diaspora", ""), 2: ("other", "1")}.get(i % 6)
    if partner:
        form["partner"], form["partner_opt_in"] = partner
    return form


SEEDED = [seed_form(i) for i in range(30)]


def secrets_of(form: dict[str, str]) -> list[str]:
    """What must never reach the target: surname, address, its local part, postal code."""
    postal = form["postal_code"]
    texts = [form["last_name"], form["email"], form["email"].split("@")[0], postal]
    return [*texts, postal.replace(" ", ""), form["last_name"].removeprefix("'t ")]


@pytest.fixture
async def store(database):
    store = open_store(database.url)
    await store.open()
    await store.save_campaign(BELARUS)
    yield store
    await store.close()


@pytest.fixture
async def seeded(store):
    signatures = []
    for form in SEEDED:
        signature, errors = accept(form, BELARUS, KEY)
        assert not errors, errors
        signatures.append(SEALER.seal(signature))
    await asyncio.gather(*(store.add_signature(s) for s in signatures))
    return store


async def collect(stream) -> bytes:
    return b"".join([piece async for piece in stream])


def parse(data: bytes) -> list[list[str]]:
    assert data.startswith(exports.BOM)
    return list(csv.reader(io.StringIO(data[len(exports.BOM) :].decode(), newline="")))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Alesia", "Alesia"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_neutralise(value, cell):
    assert exports.neutralise(value) == cell


async def test_operator_export_has_every_signer_and_every_field(seeded):
    data = await collect(exports.operator_csv(seeded, BELARUS, OPENER, chunk=7))
    header, *rows = parse(data)
    assert tuple(header) == exports.OPERATOR_HEADER
    assert len(rows) == len(SEEDED)
    for form, row in zip(SEEDED, rows, strict=True):
        record = dict(zip(header, row, strict=True))
        assert record["first_name"] == exports.neutralise(form["first_name"])
        assert record["last_name"] == form["last_name"]
        assert record["email"] == form["email"]
        assert record["country"] == form["country"]
        assert record["postal_code"] == form["postal_code"]
        assert record["opt_in"] == ("yes" if form["opt_in"] else "no")
        assert record["partner"] == form.get("partner", "")
        assert record["partner_opt_in"] == ("yes" if form.get("partner_opt_in") else "no")
        assert record["signed_at"].endswith("Z")
    assert rows[0][0] == "'" + FORMULAS[0]
    assert all(not cell.startswith(FORMULA_STARTS) for row in rows for cell in row)


@pytest.mark.parametrize("with_first_names", [True, False])
async def test_delivery_never_carries_a_surname_an_address_or_a_postal_code(
    seeded, with_first_names
):
    data = await collect(
        exports.delivery_csv(seeded, BELARUS, OPENER if with_first_names else None, chunk=4)
    )
    text = data.decode("utf-8").casefold()
    for form in SEEDED:
        for secret in secrets_of(form):
            assert secret.casefold() not in text, secret
    assert "@" not in text  # no address, not even a domain
    assert "zzsurname" not in text and "zzmailbox" not in text and "zzdomain" not in text
    assert (b"Alesia05" in data) is with_first_names


async def test_delivery_totals_countries_and_initials(seeded):
    rows = parse(await collect(exports.delivery_csv(seeded, BELARUS, OPENER)))
    fields = {row[0]: row[1:] for row in rows if len(row) == 2}
    assert fields["Petition"] == [BELARUS.title]
    assert fields["Organisation"] == [BELARUS.organisation]
    assert fields["Total signatures"] == [str(BELARUS.counter_offset + 30)]
    assert fields["of which signed online"] == ["30"]
    assert fields["of which gathered elsewhere"] == [str(BELARUS.counter_offset)]
    assert fields["Unique signers online (each address once)"] == ["30"]

    start = rows.index(["Country", "Country code", "Signatures online"]) + 1
    by_country = {row[1]: (row[0], int(row[2])) for row in rows[start : start + 5]}
    assert by_country == {
        "CA": ("Canada", 6),
        "BY": ("Belarus", 6),
        "LT": ("Lithuania", 6),
        "PL": ("Poland", 6),
        "DE": ("Germany", 6),
    }

    names = [row[0] for row in rows[rows.index(["Signed by (first name and initial of the "
                                                "last name)"]) + 1 :]]  # fmt: skip
    # The "@SUM(1)" first name holds an @, so it is left out rather than shown.
    assert len(names) == 29
    assert "Alesia05 Z." in names
    assert "Alesia27 Z." in names  # the surname typed as a first name is dropped
    assert "Alesia28" in names  # a surname starting with a non-letter gives no initial
    assert "Alesia29 Ŭ." in names
    assert "'" + FORMULAS[0] + " Z." in names
    for name in names:
        initial = name.split(" ")[-1]
        if name != "Alesia28":
            assert len(initial) == 2 and initial[0].isalpha() and initial.endswith("."), name


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        ("Alesia", "Kavalchuk", "Alesia K."),
        ("alesia", "kavalchuk", "alesia K."),
        ("Alesia Kavalchuk", "Kavalchuk", "Alesia K."),
        ("Anna-Kavalchuk", "Kavalchuk-Ivanova", None),
        ("Anna Maria", "Ivanova Kavalchuk", "Anna Maria I."),
        ("Kavalchuk", "Kavalchuk", None),
        ("a@b.example", "Kavalchuk", None),
        ("Alesia", "'t Hooft", "Alesia"),
        ("Alesia", "1Kavalchuk", "Alesia"),
        ("Alesia", "ßkavalchuk", "Alesia ß."),
    ],
)
def test_delivery_name_keeps_only_a_first_name_and_one_letter(first, last, shown):
    name = exports.delivery_name(first, last)
    if shown is None:
        assert name is None
    else:
        assert str(name) == shown
        assert set(name._fields) == {"first_name", "initial"}


@pytest.mark.parametrize(
    ("code", "expected"), [("diaspora", [0, 6, 12, 18, 24]), ("other", [2, 8, 14, 20, 26])]
)
async def test_partner_export_has_only_its_opted_in_signers(seeded, code, expected):
    header, *rows = parse(
        await collect(exports.partner_csv(seeded, BELARUS, code, OPENER, chunk=2))
    )
    assert tuple(header) == exports.PARTNER_HEADER
    assert [row[2] for row in rows] == [SEEDED[i]["email"] for i in expected]
    assert [row[1] for row in rows] == [SEEDED[i]["last_name"] for i in expected]
    assert "opt_in" not in header


async def test_partner_export_of_an_unknown_partner_is_only_a_header(seeded):
    data = await collect(exports.partner_csv(seeded, BELARUS, "nobody", OPENER))
    assert parse(data) == [list(exports.PARTNER_HEADER)]


@pytest.mark.parametrize(
    ("kind", "partner", "expected"),
    [
        (exports.DELIVERY, None, "belarus-delivery-2026-11-24.csv"),
        (exports.OPERATOR, None, "belarus-operator-2026-11-24.csv"),
        (exports.PARTNER, "diaspora", "belarus-partner-diaspora-2026-11-24.csv"),
    ],
)
def test_filename(kind, partner, expected):
    assert exports.filename("belarus", kind, date(2026, 11, 24), partner) == expected


@pytest.mark.parametrize(
    ("slug", "kind", "partner"),
    [
        ("belarus", "everything", None),
        ("belarus\r\nSet-Cookie: x", exports.OPERATOR, None),
        ("belarus", exports.PARTNER, 'x"; filename="evil.exe'),
    ],
)
def test_filename_refuses_anything_but_known_kinds_and_slugs(slug, kind, partner):
    with pytest.raises(ValueError):
        exports.filename(slug, kind, date(2026, 11, 24), partner)


BULK = 5_000  # long rows: the file is several times the memory bound
MEMORY_LIMIT = 1_500_000  # bytes; a chunk of 100 rows takes well under half of it


@functools.cache
def bulk_rows() -> tuple[tuple, ...]:
    """Five thousand sealed signatures with long names, sealed once for every test."""
    return tuple(
        ("belarus", i.to_bytes(8, "big"),
         SEALER.seal_personal({"first_name": f"Firstname{i:06d}" * 24,
                               "last_name": f"Lastname{i:06d}" * 12,
                               "email": f"signer{i:06d}@example.org",
                               "postal_code": f"PC{i:06d}"}),
         "", "", "", COUNTRIES[i % 5], "", bool(i % 2), "diaspora", True,
         f"2026-11-{1 + i % 28:02d}T12:00:00Z")
        for i in range(BULK)
    )  # fmt: skip


@pytest.fixture
async def large(store, database):
    """Five thousand signatures written straight into the schema."""
    database.insert(
        "signatures",
        ("campaign", "email_key", "sealed", "first_name", "last_name", "email", "country",
         "postal_code", "opt_in", "partner", "partner_opt_in", "signed_at"),
        bulk_rows(),
    )  # fmt: skip
    database.add_to_count("belarus", BULK)
    return store


@pytest.mark.parametrize(
    "export",
    [
        lambda store: exports.operator_csv(store, BELARUS, OPENER, chunk=100),
        lambda store: exports.delivery_csv(store, BELARUS, OPENER, chunk=100),
        lambda store: exports.partner_csv(store, BELARUS, "diaspora", OPENER, chunk=100),
    ],
    ids=exports.KINDS,
)
async def test_exports_stream_in_constant_memory(large, export):
    size = pieces = 0
    tracemalloc.start()
    try:
        async for piece in export(large):
            size += len(piece)
            pieces += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pieces > BULK // 100
    # The file is larger than the bound, so holding it whole (or every row) would fail.
    assert peak < MEMORY_LIMIT < size, (peak, size)


async def test_exports_list_each_signer_once_with_their_latest_consents(seeded):
    """Every signature received counts, but an export names each signer once: by their
    latest signature, whose name, opt-ins and partner are the ones that count."""
    again = dict(SEEDED[3], first_name="Alesia03 Renamed", opt_in="1", partner="diaspora",
                 partner_opt_in="1", email=SEEDED[3]["email"].upper())  # fmt: skip
    twice = dict(SEEDED[0], partner="", partner_opt_in="")  # leaves diaspora's list
    for form in (again, twice):
        signature, errors = accept(form, BELARUS, KEY)
        assert not errors, errors
        await seeded.add_signature(SEALER.seal(signature))
    assert (await seeded.counts())["belarus"] == 32

    rows = parse(await collect(exports.operator_csv(seeded, BELARUS, OPENER)))[1:]
    assert len(rows) == 30
    emails = [row[2] for row in rows]
    assert len(set(emails)) == 30
    (renamed,) = [row for row in rows if row[2] == SEEDED[3]["email"]]
    assert renamed[0] == "Alesia03 Renamed" and renamed[5] == "yes" and renamed[6] == "diaspora"
    # Each is listed where their latest signature stands.
    assert [row[2] for row in rows[-2:]] == [SEEDED[3]["email"], SEEDED[0]["email"]]

    diaspora = parse(await collect(exports.partner_csv(seeded, BELARUS, "diaspora", OPENER)))
    listed = {row[2] for row in diaspora[1:]}
    assert SEEDED[3]["email"] in listed and SEEDED[0]["email"] not in listed

    delivery = parse(await collect(exports.delivery_csv(seeded, BELARUS, OPENER)))
    fields = {row[0]: row[1:] for row in delivery if len(row) == 2}
    assert fields["of which signed online"] == ["32"]
    assert fields["Unique signers online (each address once)"] == ["30"]
