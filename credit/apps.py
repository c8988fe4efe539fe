from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    """The ledger, purchases, allocation and rules."""

    name = "credit"
    verbose_name = _("Credit")

    def ready(self):
        from credit import audit
        from credit.demo import demo_credit_load
        from credit.services import caps, corrections, receipts, rules, stripe_gateway
        from credit.services.accounts import system_accounts_create
        from credit.services.settings import credit_amounts_move_to, credit_settings_create
        from organizations.audit_sentences import register_audit_sentences
        from organizations.extensions import (
            register_currency_changed,
            register_demo_loader,
            register_organization_created,
        )
        from organizations.models import register_audit_verbs
        from outbox.attachments import attachment_register

        for verbs in (
            caps.AUDIT_VERBS,
            rules.AUDIT_VERBS,
            stripe_gateway.AUDIT_VERBS,
            corrections.AUDIT_VERBS,
        ):
            register_audit_verbs(verbs)
        register_audit_sentences(audit.SENTENCES, loader=audit.rows_for_events)
        attachment_register("credit.receipt", receipts.receipt_attachment)
        register_demo_loader("credit", demo_credit_load)
        register_organization_created("credit-settings", credit_settings_create)
        register_organization_created("credit-accounts", system_accounts_create)
        register_currency_changed("credit", credit_amounts_move_to)
        self._show_credit_on_other_pages()

    @staticmethod
    def _show_credit_on_other_pages():
        """The balances on the organization home, in the directory and on member details;
        the history's members in the member picker."""
        from credit.selectors.history import history_members
        from credit.views import balances
        from members.extensions import (
            register_directory_bulk_action,
            register_directory_column,
            register_member_detail_panel,
            register_member_picker_scope,
        )
        from organizations.extensions import register_home_panel
        from organizations.roles import Role

        register_home_panel(
            "credit",
            template="credit/_credit_home_panel.html",
            context=balances.home_panel,
            role=Role.FINANCE,
        )
        register_directory_column(
            "credit-balance",
            label=_("Balance"),
            cell_template="credit/_credit_directory_cell.html",
            values=balances.directory_balances,
            role=Role.FINANCE,
            css_class="text-end text-nowrap",
        )
        register_member_detail_panel(
            "credit",
            template="credit/_credit_member_panel.html",
            context=balances.member_panel,
            role=Role.FINANCE,
        )
        register_directory_bulk_action(
            "credit-allocate", label=_("Allocate credit"), url_name="credit:allocate"
        )
        register_directory_bulk_action(
            "credit-take-back", label=_("Take back credit"), url_name="credit:take-back"
        )
        # The history's member filter offers everyone who has (or had) a balance.
        register_member_picker_scope(
            "credit-history", lambda organization: history_members(organization=organization)
        )
