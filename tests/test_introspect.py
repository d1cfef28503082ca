"""The adapter to lupin's internals: it refuses, at import, versions that keep them elsewhere."""
from __future__ import annotations

import pytest

from clustaar.webhook import introspect


def test_the_installed_versions_have_every_internal_read() -> None:
    introspect.check()  # Raises ImportError otherwise.


def test_a_missing_internal_fails_at_import_naming_it_and_the_versions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(introspect._INTERNALS, "Field", ("_renamed_in_a_new_lupin",))
    with pytest.raises(ImportError) as error:
        introspect.check()
    message = str(error.value)
    assert "Field._renamed_in_a_new_lupin" in message
    assert "lupin 2.0.0" in message and "clustaar.schemas 1.10.0" in message
