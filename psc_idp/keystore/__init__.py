"""Key material generated on first start under ``keys/``: signing and encryption keys and the
app secret."""

from psc_idp.keystore.encryption import EncryptionKeys
from psc_idp.keystore.permissions import ReadableSecretFile
from psc_idp.keystore.secret import AppSecret
from psc_idp.keystore.signing import SigningKey, SigningKeys

__all__ = ["AppSecret", "EncryptionKeys", "ReadableSecretFile", "SigningKey", "SigningKeys"]
