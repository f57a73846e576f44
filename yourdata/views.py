import csv
import json

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from buttons import selectors as button_selectors
from core.db_router import replica_reads
from yourdata import selectors, services


class DeleteForm(forms.Form):
    wallet_choice = forms.ChoiceField(
        label=gettext_lazy("The money left in your wallet"),
        choices=services.WalletChoice.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    confirm = forms.CharField(
        label=gettext_lazy("Type your username to confirm"), max_length=40, required=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_confirm(self):
        value = self.cleaned_data["confirm"].strip()
        if value.lower() != self.user.username.lower():
            raise forms.ValidationError(_("This is not your username."))
        return value


@login_required
def your_data(request):
    user = request.user
    form = DeleteForm(request.POST or None, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.account_delete(user=user, wallet_choice=form.cleaned_data["wallet_choice"])
            except services.DeletionRefused as exc:
                form.add_error(None, str(exc))
            else:
                logout(request)
                messages.success(request, _("Your account was deleted. Goodbye."))
                return redirect("home")
        status = 400
    return render(
        request,
        "yourdata/your_data.html",
        {
            "form": form,
            **selectors.wallet_left(user=user),
            "has_flattrs": button_selectors.counted_flattrs(supporter=user).exists(),
        },
        status=status,
    )


@replica_reads
@login_required
@require_GET
def export_json(request):
    data = selectors.user_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="open-flattr-data.json"'
    return response


@replica_reads
@login_required
@require_GET
def export_csv(request):
    data = selectors.user_data_export(user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="open-flattr-data.csv"'
    writer = csv.writer(response)
    writer.writerow(selectors.CSV_HEADER)
    writer.writerows(selectors.user_data_rows(data=data))
    return response
