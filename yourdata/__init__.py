""" "Your data": export everything we hold about a person, and delete an
account. It sits on top of accounts, ledger, buttons and payments (like api),
so nothing imports it. No models: deletion anonymises rows in place because
the ledger never loses a row."""
