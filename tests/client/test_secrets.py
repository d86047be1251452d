import pytest
from keyring.backends.fail import Keyring as FailKeyring

from hallclient.auth.secrets import EphemeralKeyring, SecretStore, SecretStoreUnavailable
from tests.support.file_keyring import FileKeyring


def test_secrets_are_kept_per_terminal():
    backend = EphemeralKeyring()
    t1, t2 = SecretStore("GZ-TH-01", "T01", backend), SecretStore("GZ-TH-01", "T02", backend)
    t1.set("terminal_key", "one")
    assert t1.get("terminal_key") == "one" and t2.get("terminal_key") is None
    t1.delete("terminal_key")
    t1.delete("terminal_key")  # deleting what is not there is no error
    assert t1.get("terminal_key") is None


def test_no_keyring_backend_is_a_clear_refusal():
    with pytest.raises(SecretStoreUnavailable, match="Secret Service"):
        SecretStore("GZ-TH-01", "T01", FailKeyring())


def test_plaintext_keyring_is_refused():
    class PlaintextKeyring(FileKeyring):  # as keyrings.alt would offer one
        __module__ = "keyrings.alt.file"

    with pytest.raises(SecretStoreUnavailable, match="does not store secrets in files"):
        SecretStore("GZ-TH-01", "T01", PlaintextKeyring())


def test_the_keyring_library_never_picks_the_in_memory_keyring_by_itself():
    # Were it a candidate, a machine without a keyring would get it instead of a refusal.
    from keyring.backend import get_all_keyring

    assert not EphemeralKeyring.viable
    assert not any(isinstance(b, EphemeralKeyring) for b in get_all_keyring())
    SecretStore("GZ-TH-01", "T01", EphemeralKeyring())  # handed in on purpose: accepted
    assert "in memory" in str(EphemeralKeyring())
