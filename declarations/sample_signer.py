"""The sample signer: the key ``danchuang samples`` signs its messages with.

The CEB spec makes a signature part of a declared message (CEB spec 202205 §6 p. 109; the 清单
schema requires ``ds:Signature``), so the samples are signed for real, and their signatures
verify. The key is RSA (the 2018 algorithm, RSA-SHA1): its signatures are deterministic, so the
same seed still writes the same bytes. Its private key is published right here: trust nothing
it signs. Integrators sign with their own key (``danchuang sign``, ``danchuang certs issue``).
"""

from __future__ import annotations

from functools import cache

from declarations.pki import Certificate, PrivateKey, load_certificate, load_private_key

__all__ = ["sample_signer"]

_KEY = """\
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQCnVqG2MPsIDq7k
VNyTuRKFS9IXOHpLR3fEwPFfV51veIH8NoYwPob4bs7XA7iqRrIadze5MlG/Dtz+
Utzq7hU1sA4rOgvq0aRa9v5suX3WMvXjUi8yf2kQBf/k+HP8dbsJAS2rdMYmiogf
8w8aTOVMAe/y+M0U6EXZ52ZQQAouutJ0BlC41ZDDBVUG4PgJ2apHwjZFV+wq+uNr
bbkX/wUmKlE2b/5i8Kj8ybfZ0wdos3S7cN910/HB5oLQhCyZCetKhGHoPzc6vo43
O9lolQJ1qMHORszrK/5A0aAW8sHBxRH1mZ1gKr986RQek4kH6Qlgeh0NlSAXxX5M
JP3Dy4yTAgMBAAECggEAISXCBssRDvmJn2VIBGMmzgzE4yCm6P6RNQJbTd2XLBuc
9A8A6dGY/uFES8dK7z/ty9xNx3u2Qbh6Ak77v/XFccscI2fuMGeyvOosX/EmgiW6
G3uOKdyfPTNTC1JD94CCujfnig0pqzzJ1jpZhYYx7ap8k47BYSDZpV53H/Jvke3R
5SzKsMvRAKhrE+tJMF80tjiu50jgdNNxOiEEDdtk/DfAd0UZQu13umLRLupUmfaT
HoQFEoEZK8/1mhCt5aBxW9yPezNpqhvqVLq7Dbv0B3q3UTPVtovWgOAXXA3+CnOV
25dR4qxrf6VGzY75dxhtLO0zFbLohhcocMf/twiagQKBgQDZbkW7xXV4Kcs/z4WG
2SMyHCvFa354xA1MNERxDUdmg+P9lw/D2vOSazR2S4RLnwPLY9Fh+8kUbvjsVg7N
qUkXAjWTyLNym+OvprTrmusuA5IrKpeRFdnAH2POuOUfDcMG8hwVYjZ7XXZjLRXT
vFEDp3Slx/WQZW/T9pqCdft84QKBgQDFBZ7TE1nAFmscbU2Jpjve9c3y9ivOFCWs
FlfQ6w71/9l1/lCPj8iAs9hPri8c4aRcS8TOykIqLEt290cwMezxOY8kvIkv+8g0
uf8Gj+G4TBfz/l87oOpWzjNTKLRsEjI7TbEWrul01DjdS8WV8JH7mYCEHIcax3De
MqsCXOlj8wKBgQDVDtxgKhZ4wCN9DMHgKIf3g2lU04ejmSEaqiDi0stDZjwTc2Is
XjHNKSXIQSmK3G/gbphvNkWMs01ScOWim56WYEDV5pYI2T7cETQ5pp2Lgk5J5DuP
HOU6AMhRehZyPo78EGR6g7m1Wxk2B6jayS5tsTp5dJ5pdyyEfKJc8nWToQKBgQCP
PJzRW/oeGq5YhmaeskpIuG+4OZxzQFZ7G+tQKfRAiHdyvyeWl7PvTdDvbPU3jBxQ
NY2pwYYE3xsmLHSG52UZov0cei1Kw0Q0gRyVirlRoZCwhLh7w2tbHKJXzPoOr9Px
JXSfxx5XH4sP5+yIK9QWFO1IHu1iXKkEAdYt65qKXQKBgQCE0TFgNKaaVe1rz7qr
UvrDZPF9cYgPK2FUDRCYuLOSyD93dFvtba0OsngdadfDYXQnfbYiMP8sR03jPTKI
QhDd7jYVM5QtOuXMtz58BwwcAhHByUDSyozVGetnltKZmA+i/ptq1gvPlLkVUVd8
+SrkX0D1DRp26g8R1l3bngX/LQ==
-----END PRIVATE KEY-----
"""

_CERTIFICATE = """\
-----BEGIN CERTIFICATE-----
MIIDVDCCAjygAwIBAgIIfrKoCc2PbtUwDQYJKoZIhvcNAQELBQAwWTELMAkGA1UE
BhMCQ04xSjBIBgNVBAMMQWRhbmNodWFuZyBzYW1wbGUgc2lnbmVyIChwdWJsaWMg
dGVzdCBrZXk6IHRydXN0IG5vdGhpbmcgaXQgc2lnbnMpMB4XDTI2MDEwMTAwMDAw
MFoXDTQ2MDEwMTAwMDAwMFowWTELMAkGA1UEBhMCQ04xSjBIBgNVBAMMQWRhbmNo
dWFuZyBzYW1wbGUgc2lnbmVyIChwdWJsaWMgdGVzdCBrZXk6IHRydXN0IG5vdGhp
bmcgaXQgc2lnbnMpMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp1ah
tjD7CA6u5FTck7kShUvSFzh6S0d3xMDxX1edb3iB/DaGMD6G+G7O1wO4qkayGnc3
uTJRvw7c/lLc6u4VNbAOKzoL6tGkWvb+bLl91jL141IvMn9pEAX/5Phz/HW7CQEt
q3TGJoqIH/MPGkzlTAHv8vjNFOhF2edmUEAKLrrSdAZQuNWQwwVVBuD4CdmqR8I2
RVfsKvrja225F/8FJipRNm/+YvCo/Mm32dMHaLN0u3DfddPxweaC0IQsmQnrSoRh
6D83Or6ONzvZaJUCdajBzkbM6yv+QNGgFvLBwcUR9ZmdYCq/fOkUHpOJB+kJYHod
DZUgF8V+TCT9w8uMkwIDAQABoyAwHjAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQE
AwIHgDANBgkqhkiG9w0BAQsFAAOCAQEAXV52rI0amCIp1/uFhXqC+/MVq0s25Hw8
Z/coJoeU/bj+VYRi7dDgPIeugqCXyzBO9n7sm/6to5c9GVdUV2iabUzOhGaS3jig
5v08mVFdxN5WY8ZEPk7VDFCYTOHTbgnSs4dQ2hMuLMSNvnMfzUsXYh0AkEUwHYEU
DgwUlK8vDyEGhbJzssw514cRyy10OOTs26fs2LB28HYUGXGcphHtuAjyTSdwgM/e
N/K4DEDvQFmWvdIZvLgwAnIQBtQHvT5lvyDtQvkEeBBiA3PW985wgvncfPk21AcT
YfpdgceWkXN+24K+FDSsuCrnrfSBDRe4xWl3iQhWZ2eTKud5Qdrtfw==
-----END CERTIFICATE-----
"""


@cache
def sample_signer() -> tuple[PrivateKey, Certificate]:
    """The sample signer's key and its self-signed certificate (valid 2026–2045)."""
    return load_private_key(_KEY), load_certificate(_CERTIFICATE)
