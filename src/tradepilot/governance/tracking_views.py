"""Pages of the governance app's tracking part."""

urlpatterns: list = []
