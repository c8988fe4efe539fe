"""Platform staff edit the rate table here (`manage.py load_rates` loads it from a CSV file).
A rate is checked like a line of the file (usage.services.rates.rate_row_check): digits-only
prefix starting with a country calling code, the country that uses that code, a known
currency, prices that are not negative with at most 4 decimal places."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from usage.models import Rate
from usage.selectors.rates import country_codes_named
from usage.services.rates import COLUMNS, rate_row_check


def _country_choices():
    return [("", _("None (international networks)")), *countries]


class RateForm(forms.ModelForm):
    country = forms.ChoiceField(label=_("country"), choices=_country_choices, required=False)
    currency = forms.ChoiceField(label=_("currency"), choices=settings.CURRENCY_CHOICES)

    class Meta:
        model = Rate
        # The rate table's columns, as the CSV has them.
        fields = list(COLUMNS)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        text = {
            name: ("true" if value else "false")
            if name == "blocked"
            else format(value, "f")
            if name in ("per_minute", "per_sms")
            else str(value or "")
            for name, value in data.items()
        }
        row, problems = rate_row_check(text)
        for column, message in problems:
            self.add_error(column if column in self.fields else None, message)
        if row is not None:
            # As the file would store it: upper-case codes, lower-case choices.
            data.update(country=row.country, currency=row.currency)
        return data


class CountryFilter(admin.SimpleListFilter):
    """The countries the table has rates for, by name."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        present = set(Rate.objects.order_by().values_list("country", flat=True).distinct())
        found = [(code, name) for code, name in countries if code in present]
        if "" in present:
            found.append(("-", _("None (international networks)")))
        return found

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(country="" if value == "-" else value)


@admin.register(Rate)
class RateAdmin(admin.ModelAdmin):
    form = RateForm
    list_display = list(COLUMNS)
    list_filter = ["currency", CountryFilter, "line_type", "blocked", "increment"]
    search_fields = ["^prefix", "description", "=country"]
    ordering = ["currency", "prefix"]
    list_per_page = 100
    readonly_fields = ["updated_at"]

    def get_search_results(self, request, queryset, search_term):
        """Also finds the rates of the countries whose name starts with the words typed
        ("germ", "united")."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        named = country_codes_named(search_term)
        if named:
            found |= queryset.filter(country__in=named)
        return found, may_have_duplicates
