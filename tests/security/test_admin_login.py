"""Admin login: throttled against guessing (django-axes), optional two-factor login (django-otp)."""

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _axes(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


@pytest.fixture
def staff():
    return UserFactory(username="anna", is_staff=True, is_superuser=True)


def login(username, password, ip="203.0.113.5", forwarded=None, **fields):
    client = Client()
    data = {"username": username, "password": password, **fields}
    meta = {"REMOTE_ADDR": ip} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})
    return client.post("/en/admin/login/?next=/en/admin/", data, **meta), client


def test_five_failures_lock_that_username_from_that_address(staff):
    for _ in range(4):
        response, _ = login("anna", "wrong-guess-123")
        assert response.status_code == 200  # the form again, with its error
    locked, _ = login("anna", "wrong-guess-123")
    assert locked.status_code == 429
    # Now even the right password is refused from this address...
    right, _ = login("anna", PASSWORD)
    assert right.status_code == 429
    # ...but the same user from elsewhere, and another user from here, may still log in.
    assert login("anna", PASSWORD, ip="198.51.100.20")[0].status_code == 302
    other = UserFactory(username="bram", is_staff=True)
    assert other and login("bram", PASSWORD)[0].status_code == 302


def test_the_lockout_ends_after_the_cool_off(staff, settings):
    from axes.models import AccessAttempt

    for _ in range(5):
        login("anna", "wrong-guess-123")
    assert login("anna", PASSWORD)[0].status_code == 429
    settings.AXES_COOLOFF_TIME = 0.25
    AccessAttempt.objects.update(attempt_time="2000-01-01T00:00:00Z")
    assert login("anna", PASSWORD)[0].status_code == 302


def test_the_throttle_reads_the_same_client_address_as_the_rate_limits(staff, settings):
    settings.TRUST_X_FORWARDED_FOR = True
    for _ in range(5):
        login("anna", "wrong-guess-123", ip="10.0.0.1", forwarded="198.51.100.7")
    assert login("anna", PASSWORD, ip="10.0.0.1", forwarded="198.51.100.7")[0].status_code == 429
    assert login("anna", PASSWORD, ip="10.0.0.1", forwarded="198.51.100.8")[0].status_code == 302


def test_the_test_clients_login_and_commands_still_work(staff):
    assert Client().login(username="anna", password=PASSWORD)


def test_weak_passwords_are_refused():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("short", "123456789012", "password1234", "qwertyuiop12"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("sahel-correspondent-2026")


# --- two-factor login ------------------------------------------------------------------------------


def test_without_admin_require_2fa_a_password_is_enough(staff, settings):
    settings.ADMIN_REQUIRE_2FA = False
    response, client = login("anna", PASSWORD)
    assert response.status_code == 302
    assert client.get("/en/admin/").status_code == 200


def test_with_admin_require_2fa_staff_need_a_one_time_password(staff, settings):
    settings.ADMIN_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    page = Client().get("/en/admin/login/")
    assert 'name="otp_token"' in page.content.decode()

    without, client = login("anna", PASSWORD)
    assert without.status_code == 200 and client.get("/en/admin/").status_code == 302
    wrong, client = login("anna", PASSWORD, otp_device=device.persistent_id, otp_token="000000")
    assert wrong.status_code == 200 and client.get("/en/admin/").status_code == 302
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows down guessing after a wrong token
    token = str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(
        device.digits
    )
    right, client = login("anna", PASSWORD, otp_device=device.persistent_id, otp_token=token)
    assert right.status_code == 302
    assert client.get("/en/admin/").status_code == 200


def test_a_session_without_otp_is_sent_back_to_the_login(staff, settings):
    settings.ADMIN_REQUIRE_2FA = True
    client = Client()
    client.force_login(staff)  # a password-only session, e.g. from before 2FA was required
    response = client.get("/en/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_static_backup_code_works_once(staff, settings):
    settings.ADMIN_REQUIRE_2FA = True
    device = StaticDevice.objects.create(user=staff, name="backup")
    device.token_set.create(token="backup-code-1")
    first, client = login("anna", PASSWORD, otp_device=device.persistent_id, otp_token="backup-code-1")
    assert first.status_code == 302 and client.get("/en/admin/").status_code == 200
    again, _ = login("anna", PASSWORD, otp_device=device.persistent_id, otp_token="backup-code-1")
    assert again.status_code == 200
