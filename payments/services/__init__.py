"""Money in, by concern: ``topups`` (create, fulfil, cancel, expire,
refund) and ``stripe_events`` (verify, store, handle once). The gateways
themselves live in ``payments.gateways``."""

from payments.services.stripe_events import (
    WebhookPayloadRefused,
    webhook_event_process,
    webhook_malformed_record,
    webhook_parse,
)
from payments.services.topups import (
    PENDING_TOPUP_LIFETIME,
    TopUpRefused,
    TopUpUnavailable,
    simulated_checkout_fail,
    simulated_checkout_pay,
    simulated_gateway_available,
    simulated_gateway_fee,
    site_url,
    topup_cancel,
    topup_checkout_start,
    topup_create,
    topup_dispute,
    topup_expire_pending,
    topup_fail,
    topup_fulfil,
    topup_refund_to,
    topup_reverse,
)

__all__ = [
    "PENDING_TOPUP_LIFETIME",
    "TopUpRefused",
    "TopUpUnavailable",
    "WebhookPayloadRefused",
    "site_url",
    "simulated_checkout_fail",
    "simulated_checkout_pay",
    "simulated_gateway_available",
    "simulated_gateway_fee",
    "topup_cancel",
    "topup_checkout_start",
    "topup_create",
    "topup_dispute",
    "topup_expire_pending",
    "topup_fail",
    "topup_fulfil",
    "topup_refund_to",
    "topup_reverse",
    "webhook_event_process",
    "webhook_malformed_record",
    "webhook_parse",
]
