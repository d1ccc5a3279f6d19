"""The serving guards' pure parts: the API key's sources, bounded 400s, client-error logging."""

import json
import logging

import pytest
from pydantic import BaseModel, ValidationError

from tabml.errors import TabmlError
from tabml.serving.api_docs import docs_page
from tabml.serving.api_key import KEY_ENV, KEY_FILE_ENV, ApiKeyError, api_key
from tabml.serving.client_errors import (
    BENTOML_API_LOGGER,
    log_client_errors_as_warnings,
    shorten_field_errors,
)


def test_no_key_configured_means_an_open_api(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    assert api_key() is None


def test_the_key_comes_from_the_variable_or_the_first_line_of_the_file(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(KEY_ENV, "s3cret")
    assert api_key() == b"s3cret"
    monkeypatch.delenv(KEY_ENV)
    (tmp_path / "key").write_text("from-file\nignored\n")
    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "key"))
    assert api_key() == b"from-file"


MISSING = object()  # a key file path that does not exist


@pytest.mark.parametrize(
    ("key", "file_text", "message"),
    [("a", "b", "both"), (None, "", "is empty"), (None, MISSING, "cannot be read"),
     ("has space", None, "without spaces")],
)  # fmt: skip
def test_unusable_keys_are_one_line_user_errors(monkeypatch, tmp_path, key, file_text, message):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    if key is not None:
        monkeypatch.setenv(KEY_ENV, key)
    if file_text is not None:
        if file_text is not MISSING:
            (tmp_path / "key").write_text(file_text)
        monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path / "key"))
    with pytest.raises(ApiKeyError, match=message) as raised:
        api_key()
    assert isinstance(raised.value, TabmlError) and "\n" not in str(raised.value)


def test_a_400_keeps_the_first_errors_and_their_total():
    detail = [{"loc": ["records", i, "island"], "msg": "bad"} for i in range(50)]
    body = json.dumps({"error": "50 validation errors", "detail": detail}).encode()
    short = json.loads(shorten_field_errors(body, 20))
    assert short["detail"] == detail[:20] and short["error_count"] == 50
    assert short["error"] == "50 validation errors"
    assert shorten_field_errors(b"not json", 20) == b"not json"
    assert shorten_field_errors(b'{"error": "x"}', 20) == b'{"error": "x"}'


class _Record(BaseModel):
    mass: float


def test_client_errors_are_logged_as_one_warning_line(caplog):
    log_client_errors_as_warnings()
    log_client_errors_as_warnings()  # installing twice adds one filter
    logger = logging.getLogger(BENTOML_API_LOGGER)
    assert len(logger.filters) == 1
    try:
        _Record.model_validate({"mass": "heavy"})
    except ValidationError:
        logger.error("Exception on %s [%s]", "/predict", "POST", exc_info=True)
    try:
        raise RuntimeError("model broke")
    except RuntimeError:
        logger.error("Exception on %s [%s]", "/predict", "POST", exc_info=True)
    client, server = caplog.records[-2:]
    assert client.levelno == logging.WARNING and client.exc_info is None
    assert client.getMessage() == "/predict [POST] -> 400: 1 validation error for _Record"
    assert server.levelno == logging.ERROR and server.exc_info is not None


def test_the_docs_page_has_no_tracker_and_keeps_swagger():
    page = docs_page().decode()
    assert "googletagmanager" not in page.lower() and "swagger-ui-bundle.js" in page
