"""Chinese first: the interface language is zh-Hans unless the user chose another with the language switch.

Django's LocaleMiddleware would follow the browser's Accept-Language; a national platform answers in Chinese by
default, so that header is ignored and only the language cookie (set by /i18n/setlang/) counts.
"""


class ChineseFirstMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
