"""Placeholder until the anomaly list view lands (replaced by the real module)."""

from django.http import Http404


def anomaly_list(request):
    raise Http404
