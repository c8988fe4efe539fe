"""Django admin is platform staff's tool across organizations: scoping is lifted there."""

from django.urls import reverse

from organizations.scoping import all_tenants


class AdminAllTenantsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        if request.path.startswith(self.admin_prefix):
            with all_tenants("Django admin, for platform staff"):
                return self.get_response(request)
        return self.get_response(request)
