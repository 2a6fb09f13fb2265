"""Account mail: through a real SMTP server on loopback (plain, STARTTLS, TLS), or the outbox."""

from __future__ import annotations

import pytest

from credits_app.services import outbox
from credits_app.services.errors import Unavailable
from credits_app.services.mail import Mail, parse_smtp_url, send_mail
from credits_app.settings import ConfigError, get_settings
from tests.support.smtp_server import body, self_signed_certificate, smtp_server

# aiosmtpd cannot tell that its implicit-TLS socket is TLS, and warns about AUTH on it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
MAIL = Mail("ada@example.com", "Confirm your email address", "Go: http://x/verify?token=t", "l")


@pytest.fixture
def mail_settings(monkeypatch, tmp_path):
    """Settings with a private DATA_DIR; a test sets SMTP_URL when it wants SMTP."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MAIL_FROM", "Credits <no-reply@credits.test>")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _use(monkeypatch, url: str) -> None:
    monkeypatch.setenv("SMTP_URL", url)
    get_settings.cache_clear()


def test_mail_reaches_a_plain_smtp_server_on_this_machine(mail_settings):
    with smtp_server() as server:
        _use(mail_settings, server.url)
        send_mail(MAIL)
        received = server.wait_for("ada@example.com")

    assert received["Subject"] == "Confirm your email address"
    assert received["From"] == "Credits <no-reply@credits.test>"
    assert "http://x/verify?token=t" in body(received)
    assert outbox.read() == []


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_mail_goes_over_tls_and_logs_in(mail_settings, tmp_path, tls):
    cert = self_signed_certificate(tmp_path)
    mail_settings.setenv("SSL_CERT_FILE", str(cert[0]))  # trust the test certificate
    with smtp_server(tls=tls, cert=cert, password="s3cret pass") as server:
        _use(mail_settings, server.url.replace("s3cret pass", "s3cret%20pass"))
        send_mail(MAIL)
        server.wait_for("ada@example.com")

    assert server.logins == [("mailer", "s3cret pass")]


def test_a_server_that_refuses_the_login_fails_readably_without_the_password_in_the_log(
    mail_settings, caplog
):
    with smtp_server(password="right") as server:
        _use(mail_settings, server.url.replace(":right@", ":wrong@"))
        with pytest.raises(Unavailable):
            send_mail(MAIL)

    assert "wrong" not in caplog.text and "could not send mail" in caplog.text


def test_without_smtp_mail_lands_in_the_outbox_and_the_log(mail_settings, capsys):
    send_mail(MAIL)

    (stored,) = outbox.read()
    assert stored.to == "ada@example.com" and stored.links == ("http://x/verify?token=t",)
    printed = capsys.readouterr().err
    assert "ada@example.com" in printed and "Confirm your email address" in printed


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_a_malformed_smtp_url_is_a_configuration_error(url):
    with pytest.raises(ConfigError):
        parse_smtp_url(url)


def test_smtp_url_defaults_the_port_by_scheme():
    assert parse_smtp_url("smtp://u:p%40ss@mail.example.com").port == 587
    assert parse_smtp_url("smtps://mail.example.com").port == 465
    assert parse_smtp_url("smtp://u:p%40ss@mail.example.com").password == "p@ss"


def test_the_outbox_page_exists_only_outside_production(mail_settings):
    from credits_app.pages import dev_mail

    assert not dev_mail._production()
    mail_settings.setenv("CREDITS_ENV", "prod")
    get_settings.cache_clear()
    assert dev_mail._production()  # not registered: production answers /dev/mail with 404
