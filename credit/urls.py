from django.urls import path

from credit.views import allocation, balances, history, purchases, rules, webhooks

app_name = "credit"

# Public: Stripe's webhook (signed; no session, no CSRF token).
urlpatterns = [
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
]

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("credit/", balances.overview, name="overview"),
    path("credit/balances/", balances.balances, name="balances"),
    path("credit/history/", history.history, name="history"),
    path("credit/history/export/", history.history_export, name="history-export"),
    path("credit/buy/", purchases.buy, name="buy"),
    path("credit/purchases/", purchases.purchase_list, name="purchase-list"),
    path("credit/purchases/<int:purchase_id>/", purchases.purchase_detail, name="purchase-detail"),
    path(
        "credit/purchases/<int:purchase_id>/return/",
        purchases.purchase_return,
        name="purchase-return",
    ),
    path(
        "credit/purchases/<int:purchase_id>/status/",
        purchases.purchase_status,
        name="purchase-status",
    ),
    path(
        "credit/purchases/<int:purchase_id>/receipt.pdf",
        purchases.receipt_pdf,
        name="receipt-pdf",
    ),
    path("credit/auto-recharge/", purchases.auto_recharge, name="auto-recharge"),
    path("credit/payment-method/", purchases.payment_method, name="payment-method"),
    path("credit/settings/", purchases.credit_settings_view, name="settings"),
    path("credit/allocate/", allocation.allocate, name="allocate"),
    path("credit/take-back/", allocation.take_back, name="take-back"),
    path("members/<int:member_id>/credit/", allocation.member_credit, name="member-credit"),
    path("credit/rules/", rules.rule_list, name="rule-list"),
    path("credit/rules/<int:rule_id>/delete/", rules.rule_delete, name="rule-delete"),
]
