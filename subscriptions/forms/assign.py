"""The assign form: whom (the members chosen in the directory, a list, or everyone who has
joined, as the allocation form asks it), which plan, for which period.

Plans offered are the catalog's calling and voicemail plans priced in the organization's
currency; online numbers have their own flow (a number is searched and bought). A plan id the
catalog does not offer, or a period the plan is not sold for, is a clear error.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

# The allocation form's "whom" (the same targets and the same checks on ids).
from credit.forms.allocation import _TargetForm as TargetForm
from organizations.models import Organization
from subscriptions.models import PERIOD_CHOICES, Plan
from subscriptions.selectors.catalog import Offer, catalog_for

ASSIGNABLE_KINDS = (Plan.Kind.CALLING, Plan.Kind.VOICEMAIL)


def assignable_offers(organization: Organization) -> list[Offer]:
    """The offers this form assigns: calling and voicemail plans priced in the currency."""
    return [
        offer
        for offer in catalog_for(organization=organization)
        if offer.plan.kind in ASSIGNABLE_KINDS
    ]


class AssignForm(TargetForm):
    everyone_label = _("Everyone who has joined")

    plan = forms.TypedChoiceField(
        label=_("Feature"),
        coerce=int,
        choices=(),
        error_messages={
            "required": _("Choose a feature from the catalog."),
            "invalid_choice": _("Choose a feature from the catalog."),
        },
    )
    period_months = forms.TypedChoiceField(
        label=_("Period"),
        coerce=int,
        choices=PERIOD_CHOICES,
        initial=1,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a period."),
            "invalid_choice": _("Choose a period: 1, 3 or 12 months."),
        },
    )

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, organization=organization, **kwargs)
        self.offers = {offer.plan.pk: offer for offer in assignable_offers(organization)}
        self.fields["plan"].choices = [("", _("Choose a feature"))] + [
            (pk, offer.plan.display_name) for pk, offer in self.offers.items()
        ]
        self.order_fields(["target", "members", "member_list", "plan", "period_months"])
        # The allocation form's words are about credit; here they are about a feature.
        whom = _("Choose who receives the feature.")
        self.fields["target"].error_messages.update(required=whom, invalid_choice=whom)
        not_found = _("Some of the chosen members were not found. Nothing was assigned.")
        self.fields["members"].error_messages.update(
            invalid_choice=not_found, invalid_pk_value=not_found, invalid_list=not_found
        )

    def clean(self):
        data = super().clean()
        offer = self.offers.get(data.get("plan"))
        months = data.get("period_months")
        if offer is not None and months and months not in offer.prices:
            self.add_error(
                "period_months",
                _("%(plan)s is not sold for %(months)d months here: choose %(periods)s.")
                % {
                    "plan": offer.plan.display_name,
                    "months": months,
                    "periods": ", ".join(str(period) for period in offer.periods),
                },
            )
        return data

    @property
    def offer(self) -> Offer:
        return self.offers[self.cleaned_data["plan"]]
