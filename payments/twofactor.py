"""Admin login hardening: two-factor login for staff and the guessing throttle.

The panel site (payments.panel.PanelSite) is used as it is; this subclass only adds django-otp
when ADMIN_REQUIRE_2FA=1: the login form then asks for a one-time password from the user's
TOTP or static device, and a staff login that was not verified by a device has no access.
Off by default so the demo logins work without a phone; see the README for adding a device.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest
from django_otp.admin import OTPAdminAuthenticationForm

from payments.panel import PanelSite


class TwoFactorPanelSite(PanelSite):
    """PanelSite that requires a verified OTP device for every staff user when ADMIN_REQUIRE_2FA=1.

    Read per request (not at import), so the setting can be changed without a code path that
    exists only in production.
    """

    @property
    def login_form(self):
        return OTPAdminAuthenticationForm if settings.ADMIN_REQUIRE_2FA else None

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.ADMIN_REQUIRE_2FA else None

    def has_permission(self, request: HttpRequest) -> bool:
        allowed = super().has_permission(request)
        if allowed and settings.ADMIN_REQUIRE_2FA:
            is_verified = getattr(request.user, "is_verified", None)
            return bool(is_verified and is_verified())
        return allowed


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for logins made through a web request (the admin login form).

    Logins without a request (management commands, the test client's `login()`) cannot be a
    guessing attack from the web, so they skip the check instead of failing as axes would.
    """

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
