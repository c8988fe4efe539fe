"""The rate table: the sample that ships with the project, `manage.py load_rates` (every line
checked, all or nothing, idempotent, --currency, --replace), the longest prefix, Django admin,
and the page where finance, admins and owners read the rates of their currency."""

import re
import unicodedata
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.factories import MemberFactory, OrganizationFactory
from usage.models import Rate
from usage.selectors.rates import rate_for
from usage.services.rates import COLUMNS, SAMPLE, rate_table_read

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)


def csv_file(tmp_path, *lines: str, name: str = "rates.csv", header: str = HEADER):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def load(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("load_rates", *map(str, args), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def refused(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("load_rates", *map(str, args), stdout=out, stderr=err, **options)
    return str(raised.value), err.getvalue()


def table() -> dict[tuple[str, str], tuple]:
    return {
        (rate.currency, rate.prefix): (
            rate.country,
            rate.description,
            rate.line_type,
            rate.per_minute,
            rate.per_sms,
            rate.increment,
            rate.blocked,
        )
        for rate in Rate.objects.all()
    }


GOOD = (
    "33,FR,France landline,landline,EUR,0.0120,0.075,second,false",
    "336,FR,France mobile,mobile,EUR,0.045,0.075,minute,false",
    "3389,FR,France premium rate,other,EUR,1.5,0.075,minute,true",
    "870,,Inmarsat,other,EUR,6,0.5,minute,true",
    "44,GB,United Kingdom landline,landline,USD,0.013,0.05,second,false",
)


@pytest.fixture
def empty_table():
    Rate.objects.all().delete()


# --- The sample ------------------------------------------------------------------------------


def test_the_sample_is_in_the_database_as_the_migration_loaded_it():
    out, _err = load()
    assert re.search(r"0 created, 0 updated, 0 removed, \d+ unchanged", out), out
    assert Rate.objects.count() == len(rate_table_read(SAMPLE).rows)


def test_the_sample_is_about_200_prefixes_in_every_currency_with_consistent_prices():
    rows = rate_table_read(SAMPLE).rows
    by_prefix = defaultdict(dict)
    for row in rows:
        by_prefix[row.prefix][row.currency] = row
    assert 200 <= len(by_prefix) <= 300
    currencies = {"EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY"}
    for prefix, rates in by_prefix.items():
        assert set(rates) == currencies, prefix
        euro = rates["EUR"]
        for currency, row in rates.items():
            same = (row.country, row.line_type, row.increment, row.blocked, row.description)
            assert same == (
                euro.country,
                euro.line_type,
                euro.increment,
                euro.blocked,
                euro.description,
            ), (prefix, currency)
            assert (row.per_minute == 0) == (euro.per_minute == 0), (prefix, currency)
    # Every currency is priced at one exchange rate (within rounding) against the euro.
    for currency, low, high in [("USD", 1.0, 1.2), ("GBP", 0.8, 0.9), ("JPY", 140, 180)]:
        ratio = Decimal(by_prefix["336"][currency].per_minute) / by_prefix["336"]["EUR"].per_minute
        assert low <= ratio <= high, currency
    eur = {prefix: rates["EUR"] for prefix, rates in by_prefix.items()}
    # Landlines cost a few cents a minute, mobiles more; some are billed by the second.
    assert Decimal("0.005") <= eur["33"].per_minute <= Decimal("0.05")
    assert eur["336"].per_minute > eur["33"].per_minute
    assert eur["447"].per_minute > eur["44"].per_minute
    assert eur["33"].increment == "second"
    assert eur["336"].increment == "minute"
    assert Decimal("0.01") <= eur["336"].per_sms <= Decimal("0.15")
    # Premium and satellite ranges are blocked; satellites belong to no country.
    for prefix in ("3389", "449", "49900", "1900", "870", "881", "882"):
        assert eur[prefix].blocked, prefix
    assert eur["870"].country == ""
    assert eur["33"].country == "FR"
    assert not eur["33"].blocked
    assert not eur["1"].blocked
    assert {"landline", "mobile", "other"} == {row.line_type for row in eur.values()}


def test_the_longest_prefix_wins():
    assert rate_for(currency="EUR", digits="33612345678").prefix == "336"
    assert rate_for(currency="EUR", digits="33142685300").prefix == "33"
    assert rate_for(currency="EUR", digits="33899123456").prefix == "3389"
    assert rate_for(currency="GBP", digits="447911123456").prefix == "447"
    assert rate_for(currency="GBP", digits="447624123456").prefix == "447624"
    assert rate_for(currency="USD", digits="14165550123").country == "CA"
    assert rate_for(currency="USD", digits="12125550123").prefix == "1"
    assert rate_for(currency="EUR", digits="376312345") is None


# --- load_rates ------------------------------------------------------------------------------


def test_a_good_file_is_loaded(tmp_path, empty_table):
    out, err = load(csv_file(tmp_path, *GOOD))
    assert "5 created, 0 updated, 0 removed, 0 unchanged" in out
    assert err == ""
    mobile = Rate.objects.get(currency="EUR", prefix="336")
    assert (mobile.country, mobile.line_type, mobile.increment, mobile.blocked) == (
        "FR",
        "mobile",
        "minute",
        False,
    )
    assert mobile.per_minute == Decimal("0.045")
    assert mobile.per_sms == Decimal("0.075")
    satellite = Rate.objects.get(currency="EUR", prefix="870")
    assert satellite.country == ""
    assert satellite.blocked
    assert Rate.objects.get(currency="USD", prefix="44").increment == "second"


def test_columns_come_in_any_order_with_a_bom_and_blank_lines(tmp_path, empty_table):
    path = tmp_path / "rates.csv"
    path.write_bytes(
        "\ufeffcurrency,prefix,country,description,line_type,per_minute,per_sms,increment,"
        "blocked\r\n\r\nEUR,49,DE,Germany landline,landline,0.015,0.075,second,FALSE\r\n".encode()
    )
    out, _err = load(path)
    assert "1 created" in out
    assert Rate.objects.get(currency="EUR", prefix="49").country == "DE"


def test_bad_lines_are_listed_by_number_and_nothing_is_loaded(tmp_path):
    before = table()
    path = csv_file(
        tmp_path,
        "49,DE,Germany landline,landline,EUR,0.015,0.075,second,false",  # line 2: good
        "33a,FR,France,landline,EUR,0.01,0.07,second,false",  # 3: prefix
        "+44,GB,UK,landline,EUR,0.01,0.07,second,false",  # 4: prefix with +
        "33,FRA,France,landline,EUR,0.01,0.07,second,false",  # 5: country
        "33,DE,France,landline,EUR,0.01,0.07,second,false",  # 6: country of another code
        "33,FR,France,landline,XYZ,0.01,0.07,second,false",  # 7: currency
        "33,FR,France,landline,EUR,-0.01,0.07,second,false",  # 8: negative
        "33,FR,France,landline,EUR,0.01234,0.07,second,false",  # 9: 5 decimals
        "33,FR,France,landline,EUR,1e3,0.07,second,false",  # 10: not a price
        "33,FR,France,fixed,EUR,0.01,0.07,hour,yes",  # 11: line type, increment, blocked
        "49,DE,Germany again,landline,EUR,0.015,0.075,second,false",  # 12: repeats line 2
        "33,FR,France,landline,EUR,0.01",  # 13: too few values
        f"33,FR,{'x' * 1000},landline,EUR,0.01,0.07,second,false",  # 14: too long
        "33,FR,Fr\x00ance,landline,EUR,0.01,0.07,second,false",  # 15: NUL
        "870,GB,Inmarsat,other,EUR,6,0.5,minute,true",  # 16: satellite with a country
        "8,FR,Nowhere,other,EUR,6,0.5,minute,true",  # 17: no country calling code
        ",,,,,,,,",  # blank: skipped
        "33,,France,landline,EUR,0.01,0.07,second,false",  # 19: no country
    )
    message, err = refused(path)
    assert "Nothing was loaded" in message
    lines = [int(number) for number in re.findall(r"^Line (\d+):", err, re.MULTILINE)]
    assert sorted(set(lines)) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19]
    assert "16 line(s) with errors" in message
    for expected in (
        'Line 3: prefix "33a": write 1 to 15 digits',
        'Line 5: country "FRA" is not an ISO 3166 country code',
        "Line 6: country DE does not use the calling code of prefix 33",
        'Line 7: currency "XYZ" is not one of EUR, USD, GBP, CHF, CAD, AUD, JPY',
        'Line 8: per_minute "-0.01" cannot be negative',
        'Line 9: per_minute "0.01234" has more than 4 decimal places',
        'Line 10: per_minute "1e3" is not a price',
        'Line 11: line_type "fixed": write one of landline, mobile, other',
        'Line 11: increment "hour": write one of minute, second',
        'Line 11: blocked "yes": write true or false',
        "Line 12: prefix 49 in EUR is already on line 2",
        "Line 13: 6 values, where the header has 9",
        "Line 14: description is longer than 100 characters",
        "Line 15: description contains invisible control characters",
        "Line 16: prefix 870 belongs to no country",
        'Line 17: prefix "8" does not start with a country calling code',
        "Line 19: country is missing",
    ):
        assert expected in err, expected
    assert table() == before


def test_a_wrong_header_an_empty_file_or_another_encoding_loads_nothing(tmp_path):
    before = table()
    message, err = refused(csv_file(tmp_path, GOOD[0], header="prefix,country,price"))
    assert "Line 1: missing columns: description, line_type" in err
    assert 'unknown columns: "price"' in err
    message, err = refused(csv_file(tmp_path, header=HEADER, name="empty.csv"))
    assert "no rates" in err
    (tmp_path / "blank.csv").write_text("")
    assert "empty" in refused(tmp_path / "blank.csv")[1]
    (tmp_path / "latin1.csv").write_bytes((HEADER + "\n33,FR,Fr\xe9jus,").encode("latin-1"))
    assert "Line 2: the file is not UTF-8 text" in refused(tmp_path / "latin1.csv")[1]
    message, _err = refused(tmp_path / "missing.csv")
    assert "Cannot read" in message
    assert table() == before


def test_loading_again_changes_nothing_and_a_changed_price_is_updated(tmp_path, empty_table):
    path = csv_file(tmp_path, *GOOD)
    load(path)
    first = {rate.pk: rate.updated_at for rate in Rate.objects.all()}
    out, _err = load(path)
    assert "0 created, 0 updated, 0 removed, 5 unchanged" in out
    assert {rate.pk: rate.updated_at for rate in Rate.objects.all()} == first

    changed = [GOOD[0].replace("0.0120", "0.0110"), *GOOD[1:]]
    out, _err = load(csv_file(tmp_path, *changed, name="changed.csv"))
    assert "0 created, 1 updated, 0 removed, 4 unchanged" in out
    landline = Rate.objects.get(currency="EUR", prefix="33")
    assert landline.per_minute == Decimal("0.011")
    assert landline.pk in first
    assert landline.updated_at > first[landline.pk]


def test_replace_removes_what_the_file_no_longer_lists_in_its_currencies(tmp_path, empty_table):
    load(csv_file(tmp_path, *GOOD))
    Rate.objects.create(
        prefix="49",
        country="DE",
        description="Germany landline",
        currency="CHF",
        per_minute="0.02",
        per_sms="0.07",
    )
    path = csv_file(tmp_path, *GOOD[:2], GOOD[4], name="fewer.csv")

    out, _err = load(path)
    assert "0 removed, 3 unchanged" in out
    assert Rate.objects.count() == 6, "without --replace nothing is removed"

    out, _err = load(path, "--replace")
    assert "0 created, 0 updated, 2 removed, 3 unchanged" in out
    assert set(table()) == {("EUR", "33"), ("EUR", "336"), ("USD", "44"), ("CHF", "49")}
    out, _err = load(path, "--replace")
    assert "0 removed, 3 unchanged" in out


def test_currency_loads_and_replaces_one_currency_only(tmp_path, empty_table):
    load(csv_file(tmp_path, *GOOD))
    usd_only = csv_file(
        tmp_path,
        "1,US,United States and Canada,landline,USD,0.01,0.01,second,false",
        "33,FR,France landline,landline,EUR,0.5,0.5,second,false",
        name="usd.csv",
    )
    out, _err = load(usd_only, "--currency", "USD", "--replace")
    assert "1 created, 0 updated, 1 removed, 0 unchanged" in out
    assert set(table()) == {("EUR", prefix) for prefix in ("33", "336", "3389", "870")} | {
        ("USD", "1")
    }
    assert Rate.objects.get(currency="EUR", prefix="33").per_minute == Decimal("0.012")

    message, _err = refused(usd_only, "--currency", "JPY", "--replace")
    assert "has no rates in JPY" in message
    assert Rate.objects.count() == 5
    with pytest.raises(CommandError):
        call_command("load_rates", str(usd_only), "--currency", "XYZ")


# --- Django admin ------------------------------------------------------------------------------


def test_platform_staff_list_search_filter_and_edit_rates(platform_staff):
    listing = platform_staff.get("/admin/usage/rate/", {"q": "336", "currency__exact": "EUR"})
    assert listing.status_code == 200
    assert "France mobile" in listing.content.decode()
    by_name = platform_staff.get("/admin/usage/rate/", {"q": "germ", "currency__exact": "EUR"})
    assert "Germany mobile" in by_name.content.decode()
    filtered = platform_staff.get(
        "/admin/usage/rate/", {"country": "-", "blocked__exact": "1", "currency__exact": "EUR"}
    )
    assert "Inmarsat" in filtered.content.decode()
    assert "France premium rate" not in filtered.content.decode()

    rate = Rate.objects.get(currency="EUR", prefix="336")
    data = {
        "prefix": "336",
        "country": "FR",
        "description": "France mobile",
        "line_type": "mobile",
        "currency": "EUR",
        "per_minute": "0.0399",
        "per_sms": "0.07",
        "increment": "second",
    }
    response = platform_staff.post(f"/admin/usage/rate/{rate.pk}/change/", data)
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.per_minute == Decimal("0.0399")
    assert rate.increment == "second"

    for field, value, message in [
        ("prefix", "+336", "write 1 to 15 digits"),
        ("country", "DE", "does not use the calling code"),
        ("per_minute", "-1", "cannot be negative"),
        ("per_minute", "0.00001", "Ensure that there are no more than 4 decimal places"),
        ("prefix", "337", "already exists"),
    ]:
        response = platform_staff.post(
            f"/admin/usage/rate/{rate.pk}/change/", {**data, field: value}
        )
        assert response.status_code == 200, field
        assert message in response.content.decode(), field
    rate.refresh_from_db()
    assert rate.per_minute == Decimal("0.0399")
    assert rate.prefix == "336"


# --- The page ----------------------------------------------------------------------------------


def rates_url(org) -> str:
    return reverse("usage:rates", kwargs={"org_slug": org.slug})


def main_of(response) -> str:
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


def text_of(response) -> str:
    """The main part's text, without tags, every kind of space made one plain space."""
    text = unicodedata.normalize("NFKC", re.sub(r"<[^>]+>", "", main_of(response)))
    return re.sub(r"\s+", " ", text)


def shown_prefixes(response) -> list[str]:
    return re.findall(r'data-rate="(\d+)"', main_of(response))


def applied_prefix(response) -> str | None:
    found = re.search(r'data-applied-rate="(\d+)"', main_of(response))
    return found and found.group(1)


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("admin", 200), ("finance", 200), ("member", 403)]
)
def test_finance_and_admins_read_the_rates_members_do_not(org, login, role, status):
    member = MemberFactory(organization=org, role=role)
    assert login(member).get(rates_url(org)).status_code == status


def test_another_organization_sees_nothing(org, outsider, login):
    assert login(outsider).get(rates_url(org)).status_code == 404


def test_features_link_to_the_rates(org, finance, login):
    page = main_of(login(finance).get(reverse("subscriptions:overview", args=[org.slug])))
    assert rates_url(org) in page
    # The menu shows the rates under Features.
    menu = login(finance).get(rates_url(org)).content.decode().split('id="main"')[0]
    features = reverse("subscriptions:overview", args=[org.slug])
    assert re.search(rf'active"\s+aria-current="true" href="{features}"', menu)


def test_every_rate_of_the_currency_by_country_name_then_prefix_50_a_page(org, finance, login):
    client = login(finance)
    first = client.get(rates_url(org))
    total = Rate.objects.filter(currency="EUR").count()
    assert f"{total} rates." in text_of(first)
    prefixes = shown_prefixes(first)
    assert len(prefixes) == 50
    # Algeria comes first in English; its landline before its mobiles.
    assert prefixes[:3] == ["213", "2136", "2137"]
    pages = []
    for number in range(1, total // 50 + 2):
        pages += shown_prefixes(client.get(rates_url(org), {"page": number}))
    assert len(pages) == total == len(set(pages))
    # International networks (no country) come last.
    assert pages[-7:] == ["870", "881", "8816", "8818", "882", "883", "979"]
    assert shown_prefixes(client.get(rates_url(org), {"page": 999})) == pages[-(total % 50) :]
    assert shown_prefixes(client.get(rates_url(org), {"page": "x"})) == prefixes


def test_in_french_the_order_follows_french_names(org, finance, login):
    response = login(finance).get(rates_url(org), headers={"accept-language": "fr"})
    # Afrique du Sud, then Algérie.
    assert shown_prefixes(response)[:6] == ["27", "276", "277", "278", "213", "2136"]
    assert "Afrique du Sud" in text_of(response)


def test_prices_keep_a_rates_decimals_in_the_currency_of_the_organization(org, finance, login):
    page = text_of(login(finance).get(rates_url(org), {"q": "France"}))
    assert "€0.012 " in page  # France landline: 0.0120 a minute
    assert "€0.045 " in page
    assert "€0.075 " in page
    assert "€0.00 " in page
    assert "$" not in page
    assert "£" not in page
    french = text_of(
        login(finance).get(rates_url(org), {"q": "France"}, headers={"accept-language": "fr"})
    )
    assert "0,012 €" in french


def test_only_the_organizations_currency_is_shown(login):
    dollars = OrganizationFactory(country="US", currency="USD")
    yen = OrganizationFactory(country="JP", currency="JPY")
    for organization, sign, other in [(dollars, "$", "€"), (yen, "¥", "$")]:
        owner = MemberFactory(organization=organization, role="owner")
        page = text_of(login(owner).get(rates_url(organization), {"q": "FR"}))
        assert sign in page
        assert other not in page
    dollar_page = text_of(
        login(MemberFactory(organization=dollars, role="owner")).get(
            rates_url(dollars), {"q": "+33 6 12 34 56 78"}
        )
    )
    assert "$0.0486" in dollar_page


def test_no_rates_in_the_currency_says_so(login):
    Rate.objects.filter(currency="GBP").delete()
    pounds = OrganizationFactory(country="GB", currency="GBP")
    owner = MemberFactory(organization=pounds, role="owner")
    response = login(owner).get(rates_url(pounds))
    assert response.status_code == 200
    assert "There are no rates in GBP yet" in text_of(response)
    assert shown_prefixes(response) == []
    response = login(owner).get(rates_url(pounds), {"q": "+44 7911 123456"})
    assert "No rate applies to +44 7911 123456" in text_of(response)


@pytest.mark.parametrize(
    ("typed", "language", "country"),
    [
        ("Germany", "en", "DE"),
        ("germ", "en", "DE"),
        ("Allemagne", "fr", "DE"),
        ("allem", "fr", "DE"),
        ("Germany", "fr", "DE"),
        ("de", "en", "DE"),
        ("UK", "en", "GB"),
        ("royaume-uni", "fr", "GB"),
        ("C\u00f4te d\u2019Ivoire", "en", "CI"),
        ("cote d'ivoire", "fr", "CI"),
        ("Egypte", "fr", "EG"),
        ("ÉGYPTE", "fr", "EG"),
    ],
)
def test_search_by_country(org, finance, login, typed, language, country):
    response = login(finance).get(
        rates_url(org), {"q": typed}, headers={"accept-language": language}
    )
    expected = set(
        Rate.objects.filter(currency="EUR", country=country).values_list("prefix", flat=True)
    )
    assert expected
    assert set(shown_prefixes(response)) == expected
    assert applied_prefix(response) is None


def test_a_name_shared_by_several_countries_finds_them_all(org, finance, login):
    shown = set(shown_prefixes(login(finance).get(rates_url(org), {"q": "united"})))
    assert {"44", "447", "1", "971", "9715"} <= shown


def test_satellite_networks_are_found_by_description(org, finance, login):
    assert "8816" in shown_prefixes(login(finance).get(rates_url(org), {"q": "iridium"}))


@pytest.mark.parametrize(
    "typed",
    [
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033 6 12 34 56 78",
        "33612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "(0)6-12-34-56-78",
        "".join(chr(0xFF10 + int(digit)) for digit in "612345678"),  # full width
    ],
)
def test_search_by_number_shows_the_rate_that_applies(org, finance, login, typed):
    response = login(finance).get(rates_url(org), {"q": typed})
    assert response.status_code == 200
    assert applied_prefix(response) == "336"
    page = text_of(response)
    assert "The rate of +33 6 12 34 56 78" in page
    applied = main_of(response).split("data-applied-rate")[1].split("</section>")[0]
    assert "€0.045" in applied
    assert "€0.075" in applied
    assert "Per minute" in applied
    assert "Blocked" not in applied
    # The other rates of France follow, the applied one marked.
    assert set(shown_prefixes(response)) == set(
        Rate.objects.filter(currency="EUR", country="FR").values_list("prefix", flat=True)
    )
    assert 'data-rate="336" class="table-primary"' in main_of(response)


def test_a_national_number_is_read_in_the_organizations_country(login):
    british = OrganizationFactory(country="GB", currency="GBP")
    owner = MemberFactory(organization=british, role="owner")
    response = login(owner).get(rates_url(british), {"q": "020 7946 0958"})
    assert applied_prefix(response) == "44"
    applied = text_of(response)
    assert "£0.0102" in applied
    assert "Per second after the first minute" in applied
    assert applied_prefix(login(owner).get(rates_url(british), {"q": "07911 123456"})) == "447"


def test_a_blocked_number_says_so(org, finance, login):
    response = login(finance).get(rates_url(org), {"q": "+44 909 879 0000"})
    assert applied_prefix(response) == "449"
    assert "Blocked: calls and messages to this number are refused." in text_of(response)


def test_a_number_without_a_rate_says_so(org, finance, login):
    response = login(finance).get(rates_url(org), {"q": "+376 312 345"})
    assert response.status_code == 200
    assert applied_prefix(response) is None
    assert "No rate applies to +376 312 345" in text_of(response)
    assert shown_prefixes(response) == []


def test_a_begun_international_number_lists_the_rates_on_its_way(org, finance, login):
    shown = shown_prefixes(login(finance).get(rates_url(org), {"q": "+44 7"}))
    assert set(shown) == {"44", "447", "4470", "447624"}


def test_nothing_matches(org, finance, login):
    for typed in ("Atlantis", "🙂👍🏽", "مرحبا بالعالم", "1e309", "-1"):
        response = login(finance).get(rates_url(org), {"q": typed})
        assert response.status_code == 200, typed
        assert "No rate matches" in text_of(response), typed
        assert shown_prefixes(response) == [], typed


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("Fr\x00ance", "Null characters are not allowed."),
        ("x" * 1000, "Type at most 100 characters"),
        ("\u202eecnarF", "without invisible characters"),
        ("06 12", "This is not a whole phone number"),
        ("9" * 40, "This is not a whole phone number"),
    ],
)
def test_odd_input_gets_a_clear_message_and_every_rate(org, finance, login, typed, message):
    response = login(finance).get(rates_url(org), {"q": typed, "page": "\x00"})
    assert response.status_code == 200
    assert message in text_of(response)
    assert len(shown_prefixes(response)) == 50
