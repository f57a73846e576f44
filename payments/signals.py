"""Signals other apps connect to; payments imports none of them (layers).

``payment_method_saved``: a supporter saved a way to pay (through the
setup page, its webhook or ``payment_method_set``). Sent once per saved
method, after the transaction that saved it commits (so a receiver may call
the processor), with ``user`` and ``method`` (``payments.models.
PaymentMethod``). ``funding`` connects ``charges_method_saved`` to it:
charges that waited for a new way to pay go on.
"""

from django.dispatch import Signal

payment_method_saved = Signal()
